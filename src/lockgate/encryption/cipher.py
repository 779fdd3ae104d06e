"""AES-256-CTR with HMAC-SHA256 over the ciphertext: ocicrypt's ``AES_256_CTR_HMAC_SHA256`` layer cipher.

Streams in fixed-size chunks (constant memory) through ``cryptography`` (OpenSSL). The private options
(key, nonce, plaintext digest) are what key wrapping protects; the public options (cipher name, HMAC)
travel in the clear in ``org.opencontainers.image.enc.pubopts``. Their JSON spelling matches Go's
``encoding/json`` output for ocicrypt's structs, so other implementations read ours unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from lockgate.errors import InputError, IntegrityError
from lockgate.oci.model import validate_digest

CIPHER_NAME = "AES_256_CTR_HMAC_SHA256"
KEY_SIZE = 32
NONCE_SIZE = 16
CHUNK = 1 << 20


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} is not valid base64") from None


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{what} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise InputError(f"{what} is not a JSON object")
    return obj


@dataclass(frozen=True, slots=True, repr=False)
class PrivateOptions:
    """The secret per-layer parameters: symmetric key, CTR nonce and the plaintext layer digest."""

    symkey: bytes
    digest: str
    nonce: bytes

    def __repr__(self) -> str:
        return f"PrivateOptions(digest={self.digest!r}, symkey=<redacted>)"

    @classmethod
    def generate(cls, digest: str) -> PrivateOptions:
        """Fresh random key and nonce for a layer whose plaintext digest is ``digest``."""
        return cls(os.urandom(KEY_SIZE), validate_digest(digest), os.urandom(NONCE_SIZE))

    def to_json(self) -> bytes:
        """JSON as ocicrypt marshals ``PrivateLayerBlockCipherOptions``."""
        obj = {"symkey": _b64(self.symkey), "digest": self.digest, "cipheroptions": {"nonce": _b64(self.nonce)}}
        return json.dumps(obj, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> PrivateOptions:
        obj = _json_object(data, "unwrapped layer key options")
        key = _unb64(obj.get("symkey"), "layer key")
        opts = obj.get("cipheroptions") or {}
        if not isinstance(opts, dict):
            raise InputError("layer key cipheroptions is not an object")
        nonce = _unb64(opts.get("nonce"), "layer nonce")
        if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
            raise InputError(f"layer key/nonce have wrong sizes ({len(key)}/{len(nonce)} bytes)")
        digest = obj.get("digest")
        if not isinstance(digest, str):
            raise InputError("unwrapped layer key options lack the layer digest")
        try:
            validate_digest(digest)
        except InputError:
            raise InputError(f"unwrapped layer key options have an invalid digest {digest!r}") from None
        return cls(key, digest, nonce)


@dataclass(frozen=True, slots=True)
class PublicOptions:
    """The public per-layer parameters (``…enc.pubopts``)."""

    hmac: bytes
    cipher: str = CIPHER_NAME

    def to_json(self) -> bytes:
        obj = {"cipher": self.cipher, "hmac": _b64(self.hmac), "cipheroptions": {}}
        return json.dumps(obj, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> PublicOptions:
        obj = _json_object(data, "layer public options (pubopts)")
        cipher = obj.get("cipher")
        if cipher != CIPHER_NAME:
            raise InputError(f"unsupported layer cipher {cipher!r} (only {CIPHER_NAME})")
        mac = _unb64(obj.get("hmac"), "layer HMAC")
        if len(mac) != 32:
            raise InputError("layer HMAC is missing or has the wrong length")
        return cls(mac, cipher)


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What streaming a layer produced: size, output sha256, input sha256 (if asked), HMAC over the ciphertext."""

    size: int
    out_digest: str
    in_digest: str
    mac: bytes


def _run(
    src: BinaryIO, dst: BinaryIO, opts: PrivateOptions, encrypt: bool, limit: int, hash_input: bool
) -> StreamResult:
    ctx = Cipher(algorithms.AES(opts.symkey), modes.CTR(opts.nonce)).encryptor()
    mac = hmac.new(opts.symkey, digestmod=hashlib.sha256)
    h_in = hashlib.sha256() if hash_input else None
    h_out = hashlib.sha256()
    buf = bytearray(CHUNK)
    out = bytearray(CHUNK + 16)
    view = memoryview(buf)
    size = 0
    while True:
        n = src.readinto(view) if hasattr(src, "readinto") else _read_into(src, view)
        if not n:
            break
        size += n
        if size > limit:
            raise IntegrityError(f"layer is larger than the limit of {limit} bytes")
        chunk = view[:n]
        if h_in is not None:
            h_in.update(chunk)
        m = ctx.update_into(chunk, out)
        res = memoryview(out)[:m]
        mac.update(res if encrypt else chunk)
        h_out.update(res)
        dst.write(res)
    ctx.finalize()
    in_digest = "sha256:" + h_in.hexdigest() if h_in is not None else ""
    return StreamResult(size, "sha256:" + h_out.hexdigest(), in_digest, mac.digest())


def _read_into(src: BinaryIO, view: memoryview) -> int:
    data = src.read(len(view))
    view[: len(data)] = data
    return len(data)


def encrypt_stream(
    src: BinaryIO, dst: BinaryIO, opts: PrivateOptions, limit: int = 1 << 62, hash_input: bool = True
) -> StreamResult:
    """Encrypt ``src`` into ``dst``; ``mac`` of the result is the HMAC for the public options.

    ``hash_input=False`` skips hashing the plaintext when ``src`` verifies its own digest (a
    :class:`~lockgate.oci.image.VerifyingReader`), saving one SHA-256 pass per layer.
    """
    return _run(src, dst, opts, True, limit, hash_input)


def decrypt_stream(
    src: BinaryIO, dst: BinaryIO, opts: PrivateOptions, expected_mac: bytes, limit: int = 1 << 62, what: str = "layer"
) -> StreamResult:
    """Decrypt ``src`` into ``dst`` and check the HMAC and the plaintext digest.

    ``dst`` must be a staging file: the verdict comes only at the end, so the caller publishes the
    plaintext only when this returns.
    """
    res = _run(src, dst, opts, False, limit, False)
    if not hmac.compare_digest(res.mac, expected_mac):
        raise IntegrityError(f"{what}: HMAC mismatch, the ciphertext or its annotations were tampered with")
    if res.out_digest != opts.digest:
        raise IntegrityError(f"{what}: decrypted digest {res.out_digest} does not match {opts.digest}")
    return res
