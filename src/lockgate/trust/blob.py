"""Detached blob signatures in cosign's ``sign-blob`` format.

The signature file is the base64 of the raw signature (DER for ECDSA, Ed25519ph for Ed25519) over the
file; files are hashed while streaming, so memory stays constant. Only signers that cannot sign a digest
(pure-Ed25519 PKCS#11 tokens) and pure-Ed25519 signatures (older cosign) need the whole file in memory;
that fallback is limited to :data:`MAX_PURE_BYTES`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from lockgate.errors import ConfigError, InputError, IntegrityError, NotFoundError
from lockgate.trust.keys.model import PublicKey, Signer

CHUNK = 1024 * 1024
MAX_SIGNATURE_FILE = 64 * 1024
MAX_PURE_BYTES = 512 * 1024 * 1024


def _digests(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    hashers = {n: hashlib.new(n) for n in names}
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                for h in hashers.values():
                    h.update(chunk)
    except FileNotFoundError:
        raise NotFoundError(f"file {path} not found") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory") from None
    except PermissionError:
        raise ConfigError(f"cannot read {path}: permission denied") from None
    return {n: h.digest() for n, h in hashers.items()}


def file_digest(path: Path) -> bytes:
    """SHA-256 of the file at ``path`` (streamed)."""
    return _digests(path, ("sha256",))["sha256"]


def _read_all(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_PURE_BYTES:
            raise InputError(f"{path} is too large for a pure-Ed25519 signature (limit {MAX_PURE_BYTES} bytes)")
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"file {path} not found") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory") from None


def sign_blob(path: Path, signer: Signer) -> bytes:
    """The raw signature over the file at ``path``."""
    pub = signer.public_key
    digest = _digests(path, (pub.hash_name,))[pub.hash_name]
    try:
        return signer.sign_digest(digest)
    except ConfigError:
        if pub.algorithm != "ed25519":
            raise
    return signer.sign(_read_all(path))


def encode_signature(sig: bytes) -> bytes:
    """cosign's signature file content: base64, no newline."""
    return base64.b64encode(sig)


def decode_signature(data: bytes) -> bytes:
    """Decode a signature file (base64, as cosign writes it; raw bytes are accepted like cosign does)."""
    text = data.strip()
    if not text:
        raise InputError("signature file is empty")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return data


def read_signature_file(path: Path) -> bytes:
    """Read and decode a detached signature file."""
    try:
        if path.stat().st_size > MAX_SIGNATURE_FILE:
            raise InputError(f"signature file {path} is larger than {MAX_SIGNATURE_FILE} bytes")
        return decode_signature(path.read_bytes())
    except FileNotFoundError:
        raise NotFoundError(f"signature file {path} not found") from None


def verify_blob(path: Path, key: PublicKey, signature: bytes) -> None:
    """Raise :class:`IntegrityError` unless ``signature`` by ``key`` covers the file at ``path``."""
    names = tuple(dict.fromkeys((key.hash_name, "sha256")))
    try:
        key.verify_digests(_digests(path, names), signature)
        return
    except IntegrityError:
        pass
    if key.algorithm == "ed25519" and path.stat().st_size <= MAX_PURE_BYTES:
        try:
            key.verify(_read_all(path), signature)  # pure Ed25519 (older cosign, PKCS#11 tokens)
            return
        except IntegrityError:
            pass
    raise IntegrityError(f"signature does not match {path.name} for key {key.key_id[:16]}")
