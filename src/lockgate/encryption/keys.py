"""Recipients (who may decrypt) and decryption keys, parsed from the CLI's ``scheme:value`` syntax.

Recipients: ``jwe:PUB.pem``, ``pkcs7:CERT.pem``, ``pgp:KEYID`` (gpg keyring), ``pkcs11:URI`` (or an
RSA public key file, wrapped in software), ``provider:NAME[:ARG]``. Decryption keys: ``PRIV.pem[:password]``
(PEM or DER; PKCS#1, PKCS#8 and SEC1, optionally encrypted; the password may instead come from
``LOCKGATE_KEY_PASSWORD``), ``pkcs11:URI``, ``provider:NAME[:ARG]``,
``pgp`` (gpg's secret keyring) or ``pgp:SECRET_KEY_FILE``, ``pkcs7:CERT.pem:PRIV.pem``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lockgate.errors import ConfigError, NotFoundError

MAX_KEY_FILE = 1 << 20
PASSWORD_ENV = "LOCKGATE_KEY_PASSWORD"
"""Password for encrypted private key files given without ``:password`` (keeps it out of ``ps``)."""


@dataclass(frozen=True, slots=True)
class JweRecipient:
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    source: str = ""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    """Set when named by its private key (``--remove-recipient jwe:PRIV.pem`` finds kid-less entries)."""


@dataclass(frozen=True, slots=True)
class Pkcs7Recipient:
    cert: x509.Certificate
    source: str = ""


@dataclass(frozen=True, slots=True)
class PgpRecipient:
    key_id: str


@dataclass(frozen=True, slots=True)
class Pkcs11Recipient:
    uri: str


@dataclass(frozen=True, slots=True)
class ProviderRecipient:
    name: str
    arg: str = ""


Recipient = JweRecipient | Pkcs7Recipient | PgpRecipient | Pkcs11Recipient | ProviderRecipient


@dataclass(frozen=True, slots=True)
class PrivateKeyFile:
    """An RSA or EC private key from a file (usable for JWE and, with ``cert``, PKCS#7)."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    source: str = ""
    cert: x509.Certificate | None = None


@dataclass(frozen=True, slots=True)
class Pkcs11Key:
    uri: str


@dataclass(frozen=True, slots=True)
class ProviderKey:
    name: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class PgpKey:
    """gpg's keyring (``GNUPGHOME``), or an exported secret key file imported into a private keyring."""

    key_file: str = ""


DecryptionKey = PrivateKeyFile | Pkcs11Key | ProviderKey | PgpKey


def _read(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise NotFoundError(f"{what} {path} not found") from None
    except OSError as e:
        raise ConfigError(f"cannot read {what} {path}: {e.strerror}") from None
    if len(data) > MAX_KEY_FILE:
        raise ConfigError(f"{what} {path} is too large")
    return data


def load_public_key(path: Path) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """A PEM/DER public key or the key of an X.509 certificate, checked for JWE use."""
    from lockgate.encryption.jwe import check_public_key

    data = _read(path, "public key")
    key: object
    try:
        key = (
            serialization.load_pem_public_key(data)
            if b"-----BEGIN" in data and b"CERTIFICATE" not in data
            else serialization.load_der_public_key(data)
            if b"-----BEGIN" not in data
            else x509.load_pem_x509_certificate(data).public_key()
        )
    except ValueError:
        raise ConfigError(f"{path} is not a PEM or DER public key or certificate") from None
    return check_public_key(key, str(path))


def load_certificate(path: Path) -> x509.Certificate:
    data = _read(path, "certificate")
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"{path} is not a PEM or DER X.509 certificate") from None


def load_private_key(path: Path, password: bytes | None = None) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """An RSA or EC private key: PEM or DER, PKCS#1, PKCS#8 or SEC1, optionally password-protected."""
    data = _read(path, "private key")
    loader = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        key = loader(data, password=password)
    except TypeError:
        if password is None:
            raise ConfigError(f"private key {path} is encrypted; give its password as {path}:PASSWORD") from None
        raise ConfigError(f"private key {path} is not encrypted; drop the password") from None
    except ValueError:
        if password is not None:
            raise ConfigError(f"cannot load private key {path}: wrong password or not a key") from None
        raise ConfigError(f"{path} is not a PEM or DER private key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(f"private key {path} is {type(key).__name__}; layer keys need RSA or EC")
    return key


def parse_recipient(spec: str) -> Recipient:
    """Parse one ``--recipient`` value."""
    scheme, sep, value = spec.partition(":")
    if not sep or not value:
        raise ConfigError(f"recipient {spec!r} must be SCHEME:VALUE (jwe:, pkcs7:, pgp:, pkcs11:, provider:)")
    if scheme == "jwe":
        path = Path(value)
        if path.is_file() and b"PRIVATE KEY" in _read(path, "key"):
            priv = load_private_key(path)
            return JweRecipient(priv.public_key(), value, priv)
        return JweRecipient(load_public_key(path), value)
    if scheme == "pkcs7":
        return Pkcs7Recipient(load_certificate(Path(value)), value)
    if scheme in ("pgp", "gpg"):
        return PgpRecipient(value)
    if scheme == "pkcs11":
        return Pkcs11Recipient(spec if not Path(value).is_file() else value)
    if scheme == "provider":
        name, _, arg = value.partition(":")
        return ProviderRecipient(name, arg)
    raise ConfigError(f"unknown recipient scheme {scheme!r} (use jwe:, pkcs7:, pgp:, pkcs11: or provider:)")


def parse_key(spec: str) -> DecryptionKey:
    """Parse one ``--key`` value."""
    if spec.startswith("pkcs11:"):
        return Pkcs11Key(spec)
    if spec.startswith("provider:"):
        name, _, arg = spec.removeprefix("provider:").partition(":")
        if not name:
            raise ConfigError("provider: key needs a provider name")
        return ProviderKey(name, arg)
    if spec == "pgp" or spec.startswith(("pgp:", "gpg:")):
        secret = spec.partition(":")[2]
        if secret and not Path(secret).is_file():
            raise NotFoundError(f"gpg secret key file {secret} not found")
        return PgpKey(secret)
    if spec.startswith("pkcs7:"):
        cert, sep, rest = spec.removeprefix("pkcs7:").partition(":")
        if not sep:
            raise ConfigError("pkcs7 key must be pkcs7:CERT.pem:PRIV.pem[:password]")
        k = parse_key(rest)
        if not isinstance(k, PrivateKeyFile):
            raise ConfigError("pkcs7 key must name a private key file")
        return PrivateKeyFile(k.key, k.source, load_certificate(Path(cert)))
    path, password = Path(spec), None
    if not path.exists() and ":" in spec:
        head, _, pw = spec.rpartition(":")
        path, password = Path(head), pw.encode()
    if password is None and os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV].encode()
        try:
            return PrivateKeyFile(load_private_key(path, password), str(path))
        except ConfigError:
            password = None  # the key is not encrypted: the variable was meant for another key
    return PrivateKeyFile(load_private_key(path, password), str(path))


def parse_keys(specs: Sequence[str]) -> list[DecryptionKey]:
    """Parse several ``--key``/``--decryption-key`` values (for ``scan image --decryption-key``)."""
    return [parse_key(s) for s in specs]
