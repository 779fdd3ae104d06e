"""PKCS#7 key wrapping (``org.opencontainers.image.enc.keys.pkcs7``): CMS enveloped data for X.509 recipients.

Built and opened with ``cryptography`` (OpenSSL): RSA key transport, AES-256-CBC content encryption, DER.
ocicrypt's reader (smallstep/pkcs7) accepts AES-CBC; ocicrypt itself writes AES-128-GCM, which OpenSSL's
PKCS#7 code cannot open, so such blobs are reported as unreadable rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.asymmetric import rsa

from lockgate.errors import ConfigError, InputError

if TYPE_CHECKING:
    from lockgate.encryption.keys import PrivateKeyFile


def wrap(certs: Sequence[x509.Certificate], data: bytes) -> bytes:
    """DER enveloped data of ``data`` for ``certs`` (RSA certificates)."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    builder = pkcs7.PKCS7EnvelopeBuilder().set_data(data)
    for cert in certs:
        if not isinstance(cert.public_key(), rsa.RSAPublicKey):
            raise ConfigError(f"PKCS#7 recipient {cert.subject.rfc4514_string()} needs an RSA key")
        builder = builder.add_recipient(cert)
    builder = builder.set_content_encryption_algorithm(algorithms.AES256)  # AES-256-CBC
    return builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def unwrap(blob: bytes, keys: Sequence[PrivateKeyFile]) -> bytes | None:
    """The plaintext, or None when no (certificate, key) pair is a recipient."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import pkcs7

    for k in keys:
        if k.cert is None or not isinstance(k.key, rsa.RSAPrivateKey):
            continue
        try:
            return pkcs7.pkcs7_decrypt_der(blob, k.cert, k.key, [])
        except UnsupportedAlgorithm:
            raise InputError("PKCS#7 wrapped key uses a content cipher OpenSSL's PKCS#7 cannot open") from None
        except ValueError:
            continue
    return None
