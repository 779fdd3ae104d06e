"""cosign's encrypted private-key format, written and read by the same code path.

A PEM block labelled ``ENCRYPTED SIGSTORE PRIVATE KEY`` (or the older ``ENCRYPTED COSIGN PRIVATE KEY``)
whose body is the JSON go-securesystemslib's ``encrypted`` package produces::

    {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": b64},
     "cipher": {"name": "nacl/secretbox", "nonce": b64}, "ciphertext": b64}

The scrypt output (32 bytes) keys an XSalsa20-Poly1305 secretbox around the PKCS#8 DER private key.
There is no Python package for this envelope, hence this module (scrypt from ``cryptography``,
secretbox from PyNaCl). Like cosign, only PKCS#8 is accepted inside the envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from lockgate.errors import InputError, IntegrityError

SIGSTORE_LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY"
COSIGN_LABEL = "ENCRYPTED COSIGN PRIVATE KEY"
LABELS = (SIGSTORE_LABEL, COSIGN_LABEL)

# go-securesystemslib's defaults (what `cosign generate-key-pair` writes).
SCRYPT_N = 32768
SCRYPT_R = 8
SCRYPT_P = 1
_MAX_N = 1 << 20  # refuse KDF parameters that would take gigabytes of memory (hostile files)
_MAX_R = 32
_MAX_P = 16

PrivateKeyTypes = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """All PEM blocks in ``data`` as ``(label, body bytes)``; raises on broken base64."""
    text = data.decode("ascii", errors="replace")
    blocks: list[tuple[str, bytes]] = []
    pos = 0
    while True:
        start = text.find("-----BEGIN ", pos)
        if start < 0:
            return blocks
        eol = text.find("-----", start + 11)
        if eol < 0:
            return blocks
        label = text[start + 11 : eol]
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, eol)
        if end < 0:
            raise InputError(f"PEM block {label!r} has no END line")
        body = "".join(line.strip() for line in text[eol + 5 : end].splitlines() if ":" not in line)
        try:
            blocks.append((label, base64.b64decode(body, validate=True)))
        except (binascii.Error, ValueError):
            raise InputError(f"PEM block {label!r} is not valid base64") from None
        pos = end + len(end_marker)


def to_pem(label: str, body: bytes) -> bytes:
    """Encode ``body`` as a PEM block with 64-column lines (as Go's ``pem.Encode``)."""
    b64 = base64.b64encode(body).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def _kdf(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password)


def encrypt_der(der: bytes, password: bytes, *, n: int = SCRYPT_N) -> bytes:
    """The JSON envelope around ``der`` (as go-securesystemslib ``encrypted.Encrypt``)."""
    import nacl.secret

    salt = os.urandom(32)
    nonce = os.urandom(24)
    key = _kdf(password, salt, n, SCRYPT_R, SCRYPT_P)
    sealed = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext
    doc = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": n, "r": SCRYPT_R, "p": SCRYPT_P},
            "salt": base64.b64encode(salt).decode(),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _b64field(obj: Any, *path: str) -> bytes:
    cur = obj
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            raise InputError(f"encrypted key lacks {'.'.join(path)}")
        cur = cur[p]
    if not isinstance(cur, str):
        raise InputError(f"encrypted key field {'.'.join(path)} is not a string")
    try:
        return base64.b64decode(cur, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"encrypted key field {'.'.join(path)} is not base64") from None


def decrypt_envelope(envelope: bytes, password: bytes) -> bytes:
    """Decrypt a go-securesystemslib envelope; wrong password -> :class:`IntegrityError`."""
    import nacl.exceptions
    import nacl.secret

    try:
        doc = json.loads(envelope)
    except (ValueError, UnicodeDecodeError):
        raise InputError("encrypted key body is not JSON") from None
    if not isinstance(doc, dict):
        raise InputError("encrypted key body is not a JSON object")
    kdf = doc.get("kdf")
    cipher = doc.get("cipher")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise InputError("encrypted key: unsupported KDF (only scrypt)")
    if not isinstance(cipher, dict) or cipher.get("name") != "nacl/secretbox":
        raise InputError("encrypted key: unsupported cipher (only nacl/secretbox)")
    params = kdf.get("params")
    if not isinstance(params, dict):
        raise InputError("encrypted key lacks kdf.params")
    n, r, p = params.get("N"), params.get("r"), params.get("p")
    if not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in (n, r, p)):
        raise InputError("encrypted key: scrypt parameters must be positive integers")
    assert isinstance(n, int) and isinstance(r, int) and isinstance(p, int)
    if n > _MAX_N or r > _MAX_R or p > _MAX_P or n & (n - 1):
        raise InputError(f"encrypted key: scrypt parameters out of range (N={n}, r={r}, p={p})")
    salt = _b64field(doc, "kdf", "salt")
    nonce = _b64field(doc, "cipher", "nonce")
    sealed = _b64field(doc, "ciphertext")
    if len(nonce) != 24:
        raise InputError("encrypted key: nonce must be 24 bytes")
    key = _kdf(password, salt, n, r, p)
    try:
        return nacl.secret.SecretBox(key).decrypt(sealed, nonce)
    except nacl.exceptions.CryptoError:
        raise IntegrityError("cannot decrypt private key: wrong password or corrupted key file") from None


def encrypt_private_key(key: PrivateKeyTypes, password: bytes, *, label: str = SIGSTORE_LABEL) -> bytes:
    """PEM text of ``key`` in cosign's encrypted format."""
    if label not in LABELS:
        raise InputError(f"unknown cosign key label {label!r}")
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return to_pem(label, encrypt_der(der, password))


def is_cosign_key(data: bytes) -> bool:
    """True when ``data`` holds a cosign/sigstore encrypted private key block."""
    return any(f"-----BEGIN {label}-----".encode() in data for label in LABELS)


def decrypt_private_key(data: bytes, password: bytes) -> PrivateKeyTypes:
    """Load a cosign encrypted private key (PKCS#8 inside, as cosign requires)."""
    blocks = [(label, body) for label, body in pem_blocks(data) if label in LABELS]
    if not blocks:
        raise InputError("not a cosign private key (no ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY block)")
    der = decrypt_envelope(blocks[0][1], password)
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise InputError(
            "parsing private key: the encrypted key is not PKCS#8 (cosign refuses SEC1/PKCS#1 inside the envelope)"
        ) from None
    if not _is_pkcs8(der):
        raise InputError(
            "parsing private key: the encrypted key is not PKCS#8 (cosign refuses SEC1/PKCS#1 inside the envelope)"
        )
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise InputError(f"unsupported private key type {type(key).__name__}")
    return key


def _is_pkcs8(der: bytes) -> bool:
    """PKCS#8 PrivateKeyInfo: SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING key }.

    ``cryptography`` accepts SEC1 and PKCS#1 DER as well; cosign (Go's ``ParsePKCS8PrivateKey``) does not,
    so the second element must be a SEQUENCE (AlgorithmIdentifier), not an OCTET STRING (SEC1) or INTEGER.
    """
    try:
        if der[0] != 0x30:
            return False
        i = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
        if der[i] != 0x02:
            return False
        i += 2 + der[i + 1]
        return der[i] == 0x30
    except IndexError:
        return False
