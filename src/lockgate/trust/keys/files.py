"""Key files: parse public keys (PEM/DER SPKI, PKCS#1, certificates), private keys, and the file signer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from lockgate.errors import ConfigError, InputError, NotFoundError
from lockgate.trust.keys.cosign_format import PrivateKeyTypes, decrypt_private_key, is_cosign_key, pem_blocks
from lockgate.trust.keys.model import PublicKey, PublicKeyTypes, check_digest_length, hash_algorithm

MAX_KEY_FILE_BYTES = 1024 * 1024
_PUBLIC_TYPES = (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey)


def read_key_file(path: Path) -> bytes:
    """Read a key file, refusing directories, missing files and anything over 1 MiB."""
    try:
        if path.stat().st_size > MAX_KEY_FILE_BYTES:
            raise InputError(f"{path}: key file larger than {MAX_KEY_FILE_BYTES} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"key file {path} not found") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a key file") from None
    except PermissionError:
        raise ConfigError(f"cannot read key file {path}: permission denied") from None


def _check_public(key: object, what: str) -> PublicKeyTypes:
    if not isinstance(key, _PUBLIC_TYPES):
        raise InputError(f"{what}: unsupported public key type {type(key).__name__}")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise InputError(f"{what}: RSA key of {key.key_size} bits is too small (minimum 2048)")
    return key


def parse_public_key(data: bytes, what: str = "public key") -> PublicKey:
    """Parse PEM ``PUBLIC KEY`` / ``RSA PUBLIC KEY`` / ``CERTIFICATE`` or DER SPKI/certificate."""
    blocks = pem_blocks(data) if b"-----BEGIN " in data else []
    for label, body in blocks:
        try:
            if label == "PUBLIC KEY":
                return PublicKey(_check_public(serialization.load_der_public_key(body), what), what)
            if label == "RSA PUBLIC KEY":
                pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + _b64lines(body) + b"-----END RSA PUBLIC KEY-----\n"
                return PublicKey(_check_public(serialization.load_pem_public_key(pem), what), what)
            if label == "CERTIFICATE":
                cert = x509.load_der_x509_certificate(body)
                return PublicKey(_check_public(cert.public_key(), what), what)
        except ValueError as e:
            raise InputError(f"{what}: cannot parse {label}: {e}") from None
    if blocks:
        labels = ", ".join(label for label, _ in blocks)
        raise InputError(f"{what}: no public key found (PEM blocks: {labels})")
    if data[:1] == b"\x30":
        try:
            return PublicKey(_check_public(serialization.load_der_public_key(data), what), what)
        except ValueError:
            pass
        try:
            cert = x509.load_der_x509_certificate(data)
            return PublicKey(_check_public(cert.public_key(), what), what)
        except ValueError:
            pass
    raise InputError(f"{what}: not a PEM or DER public key")


def _b64lines(body: bytes) -> bytes:
    import base64

    b64 = base64.b64encode(body)
    return b"".join(b64[i : i + 64] + b"\n" for i in range(0, len(b64), 64))


def load_public_key(path: Path) -> PublicKey:
    """Load a public key (or the key of a certificate) from ``path``."""
    return parse_public_key(read_key_file(path), str(path))


def parse_private_key(
    data: bytes, password: bytes | Callable[[], bytes] | None, what: str = "private key"
) -> PrivateKeyTypes:
    """Parse a cosign encrypted key, or an unencrypted/encrypted PEM PKCS#8, SEC1 (EC) or PKCS#1 (RSA) key."""
    if callable(password):
        password = password() if is_cosign_key(data) or b"ENCRYPTED" in data else None
    if is_cosign_key(data):
        if password is None:
            raise ConfigError(f"{what} is encrypted: set LOCKGATE_PASSWORD (or COSIGN_PASSWORD)")
        return decrypt_private_key(data, password)
    if b"-----BEGIN " not in data:
        raise InputError(f"{what}: not a PEM private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        if password is None:
            raise ConfigError(f"{what} is encrypted: set LOCKGATE_PASSWORD") from None
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError):
            raise InputError(f"{what}: cannot decrypt (wrong password?)") from None
    except ValueError as e:
        raise InputError(f"{what}: cannot parse private key: {e}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise InputError(f"{what}: unsupported private key type {type(key).__name__}")
    _check_public(key.public_key(), what)
    return key


@dataclass(frozen=True, slots=True)
class FileSigner:
    """A signer over an in-memory private key (loaded from a file)."""

    private_key: PrivateKeyTypes
    source: str = ""

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self.private_key.public_key(), self.source)

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return _libsodium_ed25519ph(self.private_key, data)
        alg = hash_algorithm(self.public_key.hash_name)
        h = hashes.Hash(alg)
        h.update(data)
        return self.sign_digest(h.finalize())

    def sign_digest(self, digest: bytes) -> bytes:
        check_digest_length(self.public_key, digest)
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            from lockgate.trust.keys.ed25519ph import sign_prehashed

            return sign_prehashed(self.private_key, digest)
        alg = utils.Prehashed(hash_algorithm(self.public_key.hash_name))
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(digest, padding.PKCS1v15(), alg)
        return self.private_key.sign(digest, ec.ECDSA(alg))


def _libsodium_ed25519ph(key: ed25519.Ed25519PrivateKey, data: bytes) -> bytes:
    """Ed25519ph via libsodium's multi-part API (constant-time) when the whole message is at hand."""
    import nacl.bindings as sodium

    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    state = sodium.crypto_sign_ed25519ph_state()
    sodium.crypto_sign_ed25519ph_update(state, data)
    return bytes(sodium.crypto_sign_ed25519ph_final_create(state, seed + pub))


def load_file_signer(path: Path, password: bytes | Callable[[], bytes] | None) -> FileSigner:
    """A :class:`FileSigner` for the private key file at ``path``."""
    return FileSigner(parse_private_key(read_key_file(path), password, str(path)), str(path))
