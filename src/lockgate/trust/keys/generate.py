"""Create key pairs and import PEM private keys into cosign's encrypted format."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from lockgate.errors import ConfigError, InputError
from lockgate.trust.keys.cosign_format import PrivateKeyTypes, encrypt_private_key
from lockgate.trust.keys.files import parse_private_key, read_key_file
from lockgate.trust.keys.keyring import add_public_key, keyring_dir
from lockgate.trust.keys.model import PublicKey


def new_private_key(algorithm: str) -> PrivateKeyTypes:
    """A fresh private key for ``ecdsa-p256``, ``ecdsa-p384``, ``ed25519`` or ``rsa-3072``."""
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "rsa-3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ConfigError(f"unknown key algorithm {algorithm!r}")


def _write(path: Path, data: bytes, mode: int, force: bool) -> None:
    if path.exists() and not force:
        raise ConfigError(f"{path} exists (use --force to overwrite)")
    if not path.parent.is_dir():
        raise ConfigError(f"directory {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)  # never readable by others, not even briefly
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    tmp.replace(path)


def write_key_pair(
    key: PrivateKeyTypes, prefix: Path | None, password: bytes, *, force: bool = False
) -> tuple[Path, Path, PublicKey]:
    """Write ``PREFIX.key`` (cosign encrypted) and ``PREFIX.pub``; register the public key in the keyring."""
    pub = PublicKey(key.public_key())
    if prefix is None:
        keyring_dir().mkdir(parents=True, exist_ok=True)
        prefix = keyring_dir() / pub.key_id
    key_path = prefix.with_name(prefix.name + ".key")
    pub_path = prefix.with_name(prefix.name + ".pub")
    if not force:
        for p in (key_path, pub_path):
            if p.exists():
                raise ConfigError(f"{p} exists (use --force to overwrite)")
    _write(key_path, encrypt_private_key(key, password), 0o600, force)
    _write(pub_path, pub.pem(), 0o644, force)
    add_public_key(pub)
    return key_path, pub_path, PublicKey(pub.key, str(pub_path))


def generate_key_pair(
    prefix: Path | None, algorithm: str, password: bytes, *, force: bool = False
) -> tuple[Path, Path, PublicKey]:
    """Generate a key and write it as :func:`write_key_pair` does."""
    return write_key_pair(new_private_key(algorithm), prefix, password, force=force)


def import_key_pair(
    source: Path, prefix: Path | None, password: Callable[[], bytes], *, force: bool = False
) -> tuple[Path, Path, PublicKey]:
    """Import a PEM private key (PKCS#8, SEC1, PKCS#1; encrypted PEM uses the same password)."""
    data = read_key_file(source)
    if b"PRIVATE KEY" not in data:
        raise InputError(f"{source}: no PEM private key found")
    key = parse_private_key(data, password, str(source))
    return write_key_pair(key, prefix, password(), force=force)
