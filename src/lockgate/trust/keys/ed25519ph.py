"""Ed25519ph (RFC 8032 section 5.1, empty context): the Ed25519 mode cosign uses for key files.

cosign loads Ed25519 keys with sigstore's ``WithED25519ph()`` option, so its signatures are Ed25519ph over
the SHA-512 of the message. ``cryptography`` and PyNaCl only offer pure Ed25519, hence this small
implementation of the curve arithmetic (extended twisted-Edwards coordinates, RFC 8032 formulas).

Caveat: Python integers are not constant-time; signing leaks timing about the per-signature nonce to
local observers. Verification handles only public data. Prefer ECDSA keys or an HSM where that matters.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from lockgate.errors import IntegrityError

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_DOM2_PH = b"SigEd25519 no Ed25519 collisions" + bytes([1, 0])  # phflag=1, empty context

Point = tuple[int, int, int, int]
_IDENTITY: Point = (0, 1, 1, 0)


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(s: int, p: Point) -> Point:
    """Scalar multiplication (double-and-add over all 256 bits; both branches computed)."""
    q = _IDENTITY
    for i in range(255, -1, -1):
        q = _add(q, q)
        t = _add(q, p)
        q = t if (s >> i) & 1 else q
    return q


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_BY = 4 * pow(5, _P - 2, _P) % _P
_BX = _recover_x(_BY, 0)
assert _BX is not None
_B: Point = (_BX, _BY, 1, _BX * _BY % _P)


def _compress(p: Point) -> bytes:
    zinv = pow(p[2], _P - 2, _P)
    x, y = p[0] * zinv % _P, p[1] * zinv % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decompress(data: bytes) -> Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def _equal(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _h(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def sign_prehashed(key: ed25519.Ed25519PrivateKey, sha512_digest: bytes) -> bytes:
    """Ed25519ph signature over a message whose SHA-512 is ``sha512_digest``."""
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    r = _h(_DOM2_PH, h[32:], sha512_digest) % _L
    rs = _compress(_mul(r, _B))
    k = _h(_DOM2_PH, rs, pub, sha512_digest) % _L
    s = (r + k * a) % _L
    return rs + s.to_bytes(32, "little")


def verify_prehashed(key: ed25519.Ed25519PublicKey, sha512_digest: bytes, signature: bytes) -> None:
    """Raise :class:`IntegrityError` unless ``signature`` is a valid Ed25519ph signature."""
    if len(signature) != 64 or len(sha512_digest) != 64:
        raise IntegrityError("invalid Ed25519ph signature")
    pub = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    a = _decompress(pub)
    r = _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        raise IntegrityError("invalid Ed25519ph signature")
    k = _h(_DOM2_PH, signature[:32], pub, sha512_digest) % _L
    if not _equal(_mul(s, _B), _add(r, _mul(k, a))):
        raise IntegrityError("invalid Ed25519ph signature")
