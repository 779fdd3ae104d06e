"""PKCS#11 key wrapping (``org.opencontainers.image.enc.keys.pkcs11``), ocicrypt's JSON format.

The layer options are RSA-OAEP encrypted for each recipient (SHA-256 with MGF1-SHA-256, ocicrypt's default,
recorded as ``"hash":"sha256"``; ``OCICRYPT_OAEP_HASHALG=sha1`` selects SHA-1 as in ocicrypt, which tokens
such as SoftHSM 2.6 need; ``sha1`` and an empty hash are read as SHA-1, as ocicrypt does) into
``{"version":0,"recipients":[{"version":0,"blob":<b64>,"hash":"sha256"}]}``. Recipients are RFC 7512 URIs
of RSA keys in a token (encryption with the token's public key) or RSA public key files; unwrapping runs
in the token, so the private key never leaves it. Token access reuses :mod:`lockgate.trust.keys.pkcs11`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lockgate.errors import ConfigError, InputError, UnavailableError

_HASHES = {"sha256": ("SHA256", "SHA256"), "sha1": ("SHA_1", "SHA1"), "": ("SHA_1", "SHA1")}


def wrap_hash() -> str:
    """The OAEP hash for new wrappings: ``$OCICRYPT_OAEP_HASHALG`` (``sha1``/``sha256``), default sha256."""
    name = os.environ.get("OCICRYPT_OAEP_HASHALG", "").lower() or "sha256"
    if name not in ("sha1", "sha256"):
        raise ConfigError(f"unsupported OCICRYPT_OAEP_HASHALG {name!r} (sha1 or sha256)")
    return name


def _software_encrypt(path: Path, data: bytes, hash_name: str) -> bytes:
    from lockgate.encryption.keys import load_public_key

    key = load_public_key(path)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError(f"{path}: PKCS#11 recipients must be RSA keys")
    algo: hashes.HashAlgorithm = hashes.SHA256() if hash_name == "sha256" else hashes.SHA1()  # noqa: S303
    oaep = padding.OAEP(mgf=padding.MGF1(algo), algorithm=algo, label=None)
    return key.encrypt(data, oaep)


def _mechanism_param(hash_name: str) -> tuple[Any, Any, None]:
    from pkcs11 import MGF, Mechanism

    names = _HASHES.get(hash_name)
    if names is None:
        raise InputError(f"unsupported OAEP hash {hash_name!r} in PKCS#11 wrapped key")
    return getattr(Mechanism, names[0]), getattr(MGF, names[1]), None


def _token_op(uri: str, data: bytes, decrypt: bool, hash_name: str = "sha256") -> bytes:
    import pkcs11
    from pkcs11 import KeyType, Mechanism, ObjectClass

    from lockgate.trust.keys.pkcs11 import Pkcs11Signer

    handle = Pkcs11Signer(uri)
    with handle._session() as session:
        key = handle._key(session, ObjectClass.PRIVATE_KEY if decrypt else ObjectClass.PUBLIC_KEY)
        if key.key_type != KeyType.RSA:
            raise ConfigError(f"{handle._redacted()}: PKCS#11 layer keys must be RSA")
        param = _mechanism_param(hash_name)
        try:
            if decrypt:
                return bytes(key.decrypt(data, mechanism=Mechanism.RSA_PKCS_OAEP, mechanism_param=param))
            return bytes(key.encrypt(data, mechanism=Mechanism.RSA_PKCS_OAEP, mechanism_param=param))
        except pkcs11.exceptions.PKCS11Error as e:
            if decrypt:
                raise InputError(f"{handle._redacted()} cannot unwrap this key ({type(e).__name__})") from None
            raise UnavailableError(f"PKCS#11 encryption failed: {type(e).__name__}") from None


def wrap(recipients: Sequence[str], data: bytes) -> bytes:
    """ocicrypt's PKCS#11 JSON for ``recipients`` (``pkcs11:`` URIs or RSA public key files)."""
    out = []
    hash_name = wrap_hash()
    for r in recipients:
        if r.startswith("pkcs11:"):
            blob = _token_op(r, data, decrypt=False, hash_name=hash_name)
        else:
            blob = _software_encrypt(Path(r), data, hash_name)
        out.append({"version": 0, "blob": base64.b64encode(blob).decode(), "hash": hash_name})
    return json.dumps({"version": 0, "recipients": out}, separators=(",", ":")).encode()


def unwrap(blob: bytes, uris: Sequence[str]) -> bytes | None:
    """The plaintext, or None when no token key opens any recipient entry."""
    try:
        obj = json.loads(blob)
    except (ValueError, UnicodeDecodeError):
        raise InputError("PKCS#11 wrapped key is not JSON") from None
    if not isinstance(obj, dict) or obj.get("version") != 0 or not isinstance(obj.get("recipients"), list):
        raise InputError("PKCS#11 wrapped key has an unsupported layout or version")
    for entry in obj["recipients"]:
        if not isinstance(entry, dict) or entry.get("version") != 0:
            raise InputError("PKCS#11 recipient entry has an unsupported version")
        try:
            ciphertext = base64.b64decode(str(entry.get("blob", "")), validate=True)
        except (binascii.Error, ValueError):
            continue
        for uri in uris:
            try:
                return _token_op(uri, ciphertext, decrypt=True, hash_name=str(entry.get("hash") or ""))
            except InputError:
                continue
    return None


def remove_recipients(blob: bytes, uris: Sequence[str]) -> tuple[bytes | None, set[int]]:
    """Drop the entries that the token keys ``uris`` open (trial decryption in the token).

    ocicrypt's JSON records no key identity per entry (only the OAEP blob and hash), and OAEP is
    randomised, so an entry is recognised only by its private key opening it. Returns the new JSON (None
    when no entry is left) and the indexes (into ``uris``) that were found.
    """
    try:
        obj = json.loads(blob)
    except (ValueError, UnicodeDecodeError):
        raise InputError("PKCS#11 wrapped key is not JSON") from None
    if not isinstance(obj, dict) or obj.get("version") != 0 or not isinstance(obj.get("recipients"), list):
        raise InputError("PKCS#11 wrapped key has an unsupported layout or version")
    kept: list[Any] = []
    found: set[int] = set()
    for entry in obj["recipients"]:
        hits: set[int] = set()
        if isinstance(entry, dict) and entry.get("version") == 0:
            try:
                ciphertext = base64.b64decode(str(entry.get("blob", "")), validate=True)
            except (binascii.Error, ValueError):
                ciphertext = b""
            for i, uri in enumerate(uris):
                if not ciphertext:
                    break
                try:
                    _token_op(uri, ciphertext, decrypt=True, hash_name=str(entry.get("hash") or ""))
                except InputError:
                    continue
                hits.add(i)
        found |= hits
        if not hits:
            kept.append(entry)
    if len(kept) == len(obj["recipients"]):
        return blob, found
    if not kept:
        return None, found
    obj["recipients"] = kept
    return json.dumps(obj, separators=(",", ":")).encode(), found
