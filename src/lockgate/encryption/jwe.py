"""JWE key wrapping (``org.opencontainers.image.enc.keys.jwe``), written exactly as go-jose writes it.

ocicrypt wraps the layer options with ``RSA-OAEP`` (RSA keys) or ``ECDH-ES+A256KW`` (EC keys) and
``A256GCM`` content encryption, serialised by go-jose's ``FullSerialize``: one recipient → flattened
JSON with the recipient header merged into ``protected``; several → ``recipients[]`` with per-recipient
``header`` objects, ``protected`` = ``{"enc":"A256GCM"}`` and the first ``encrypted_key`` repeated at the
top level. jwcrypto's own serializer lays this out differently (it never moves ``epk`` into the protected
header), so the JSON is assembled here from jwcrypto's primitives (key management and A256GCM), and
decryption goes through jwcrypto's full JWE parser. Each recipient carries a ``kid`` (RFC 7638 JWK
thumbprint, a standard header go-jose reads) so a recipient can later be removed without re-encrypting.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from lockgate.errors import ConfigError, InputError

ENC = "A256GCM"
ALG_RSA = "RSA-OAEP"
ALG_EC = "ECDH-ES+A256KW"
_ACCEPTED_ALGS = ["RSA-OAEP", "RSA-OAEP-256", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"]
_ACCEPTED_ENCS = ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM"]
_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
MAX_JWE_BYTES = 1 << 20

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def check_public_key(key: object, what: str) -> PublicKey:
    """Accept RSA (>= 2048 bits) and NIST EC public keys, as go-jose does; refuse the rest clearly."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ConfigError(f"{what}: RSA key of {key.key_size} bits is too small for JWE (need >= 2048)")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in _CURVES:
            raise ConfigError(f"{what}: EC curve {key.curve.name} is not supported by JWE (P-256/384/521)")
        return key
    raise ConfigError(f"{what}: JWE needs an RSA or EC public key, not {type(key).__name__}")


def thumbprint(key: PublicKey) -> str:
    """RFC 7638 SHA-256 JWK thumbprint (the ``kid`` lockgate writes)."""
    from jwcrypto.jwk import JWK

    return str(JWK.from_pyca(key).thumbprint())


def _epk(header: dict[str, Any]) -> dict[str, Any]:
    e = header["epk"]
    return {"kty": e["kty"], "crv": e["crv"], "x": e["x"], "y": e["y"]}  # go-jose's field order


def _wrap_one(key: PublicKey, cek: bytes) -> tuple[dict[str, Any], bytes]:
    """Per-recipient header (sorted keys as Go marshals a map) and encrypted key."""
    if isinstance(key, rsa.RSAPublicKey):
        ek = key.encrypt(cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))  # noqa: S303
        return {"alg": ALG_RSA, "kid": thumbprint(key)}, ek
    from jwcrypto.jwa import JWA
    from jwcrypto.jwk import JWK

    wrapped = JWA.keymgmt_alg(ALG_EC).wrap(JWK.from_pyca(key), 256, cek, {"alg": ALG_EC, "enc": ENC})
    return {"alg": ALG_EC, "epk": _epk(wrapped["header"]), "kid": thumbprint(key)}, wrapped["ek"]


def wrap(keys: Sequence[PublicKey], plaintext: bytes) -> bytes:
    """One JWE (JSON serialization) of ``plaintext`` for all ``keys``."""
    from jwcrypto.jwa import JWA

    if not keys:
        raise ConfigError("JWE wrapping needs at least one public key")
    cek = os.urandom(32)
    recipients = [_wrap_one(k, cek) for k in keys]
    if len(recipients) == 1:
        header = recipients[0][0]
        protected = dict(sorted({**header, "enc": ENC}.items()))
    else:
        protected = {"enc": ENC}
    protected_b64 = _b64u(_json(protected))
    iv, ciphertext, tag = JWA.encryption_alg(ENC).encrypt(cek, protected_b64.encode(), plaintext)
    out: dict[str, Any] = {"protected": protected_b64}
    if len(recipients) > 1:
        out["recipients"] = [{"header": h, "encrypted_key": _b64u(ek)} for h, ek in recipients]
    out["encrypted_key"] = _b64u(recipients[0][1])
    out.update(iv=_b64u(iv), ciphertext=_b64u(ciphertext), tag=_b64u(tag))
    return _json(out)


def _parse(blob: bytes) -> dict[str, Any]:
    if len(blob) > MAX_JWE_BYTES:
        raise InputError(f"JWE of {len(blob)} bytes is too large")
    try:
        obj = json.loads(blob)
    except (ValueError, UnicodeDecodeError):
        raise InputError("JWE annotation is not JSON (only the JSON serialization is used by ocicrypt)") from None
    if not isinstance(obj, dict):
        raise InputError("JWE annotation is not a JSON object")
    return obj


def unwrap(blob: bytes, keys: Sequence[PrivateKey]) -> bytes | None:
    """The plaintext, or None when none of ``keys`` is a recipient (or the JWE was tampered with)."""
    from jwcrypto.common import JWException
    from jwcrypto.jwe import JWE
    from jwcrypto.jwk import JWK

    _parse(blob)
    text = blob.decode()
    for key in keys:
        jwe = JWE(algs=_ACCEPTED_ALGS + _ACCEPTED_ENCS)
        try:
            jwe.deserialize(text, key=JWK.from_pyca(key))
        except JWException:
            continue
        except (ValueError, KeyError, TypeError):
            raise InputError("JWE annotation is malformed") from None
        payload = jwe.payload
        return bytes(payload)
    return None


def _b64u_decode(value: Any) -> bytes:
    text = str(value)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _protected(obj: dict[str, Any]) -> dict[str, Any]:
    try:
        header = json.loads(_b64u_decode(obj.get("protected", "")))
    except (ValueError, UnicodeDecodeError):
        return {}
    return header if isinstance(header, dict) else {}


def _entries(obj: dict[str, Any]) -> list[tuple[dict[str, Any], bytes]]:
    """(merged header, encrypted key) of every recipient."""
    shared = _protected(obj)
    if isinstance(obj.get("recipients"), list):
        out = []
        for item in obj["recipients"]:
            r: dict[str, Any] = item if isinstance(item, dict) else {}
            header: dict[str, Any] = r["header"] if isinstance(r.get("header"), dict) else {}
            out.append(({**shared, **header}, _b64u_decode(r.get("encrypted_key", ""))))
        return out
    top: dict[str, Any] = obj["header"] if isinstance(obj.get("header"), dict) else {}
    return [({**shared, **top}, _b64u_decode(obj.get("encrypted_key", "")))]


def _opens(header: dict[str, Any], ek: bytes, keys: Sequence[PrivateKey]) -> bool:
    """True when one of ``keys`` unwraps this recipient's content key (identifies kid-less recipients)."""
    from jwcrypto.common import JWException
    from jwcrypto.jwa import JWA
    from jwcrypto.jwk import JWK

    alg = header.get("alg")
    if alg not in _ACCEPTED_ALGS:
        return False
    for key in keys:
        try:
            JWA.keymgmt_alg(alg).unwrap(JWK.from_pyca(key), 256, ek, header)
            return True
        except (JWException, ValueError, KeyError, TypeError):
            continue
    return False


def recipient_kids(blob: bytes) -> list[str | None]:
    """The ``kid`` of every recipient (None where the writer, e.g. skopeo, left it out)."""
    return [h.get("kid") for h, _ in _entries(_parse(blob))]


def remove_recipients(blob: bytes, kids: set[str], private_keys: Sequence[PrivateKey] = ()) -> tuple[bytes | None, int]:
    """Drop recipients whose ``kid`` is in ``kids`` or whose wrapped key one of ``private_keys`` opens.

    The shared ciphertext is untouched: the content key is unchanged, so the remaining recipients'
    wrapped keys stay valid. Returns the new JWE (None when no recipient is left) and how many went.
    """
    obj = _parse(blob)
    try:
        entries = _entries(obj)
    except (ValueError, TypeError):
        raise InputError("JWE annotation is malformed") from None
    drop = [h.get("kid") in kids or _opens(h, ek, private_keys) for h, ek in entries]
    if not any(drop):
        return blob, 0
    if not isinstance(obj.get("recipients"), list):
        return None, 1
    keep = [r for r, d in zip(obj["recipients"], drop, strict=True) if not d]
    removed = len(entries) - len(keep)
    if not keep:
        return None, removed
    obj["recipients"] = keep
    obj["encrypted_key"] = keep[0].get("encrypted_key", "")
    return _json(obj), removed
