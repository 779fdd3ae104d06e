"""PKCS#7 key wrapping (``org.opencontainers.image.enc.keys.pkcs7``): CMS enveloped data for X.509 recipients.

Built and opened with ``cryptography`` (OpenSSL): RSA key transport, AES-256-CBC content encryption, DER.
ocicrypt's reader (smallstep/pkcs7) accepts AES-CBC; ocicrypt itself writes AES-128-GCM, which OpenSSL's
PKCS#7 code cannot open; those are read with a minimal DER walk (:mod:`._der`): RSA PKCS#1 v1.5 key
transport (what smallstep writes) and AES-GCM with the tag appended to the content.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import algorithms

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
        except (UnsupportedAlgorithm, ValueError):
            gcm = _unwrap_gcm(blob, k.key)
            if gcm is not None:
                return gcm
    return None


_GCM_OIDS = {"2.16.840.1.101.3.4.1.6": 16, "2.16.840.1.101.3.4.1.26": 24, "2.16.840.1.101.3.4.1.46": 32}


def _unwrap_gcm(blob: bytes, key: rsa.RSAPrivateKey) -> bytes | None:
    """ocicrypt's AES-GCM EnvelopedData: try each recipient's encrypted key with ``key``."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from lockgate.encryption import _der

    try:
        info = _der.read(blob)[0].children()
        if _der.oid(info[0]) != "1.2.840.113549.1.7.3":  # envelopedData
            return None
        enveloped = info[1].children()[0].children()
        recipients, content = enveloped[1].children(), enveloped[2].children()
        alg = content[1].children()
        size = _GCM_OIDS.get(_der.oid(alg[0]))
        if size is None:
            return None
        params = alg[1].children(lenient=True)  # GCMParameters, wrapped once more by smallstep
        while params and params[0].tag == 0x10:
            params = params[0].children(lenient=True)
        nonce = params[0].octets()
        ciphertext = content[2].octets()
    except (IndexError, InputError):
        raise InputError("PKCS#7 wrapped key is not well-formed enveloped data") from None
    for r in recipients:
        try:
            encrypted_key = r.children()[3].octets()
            cek = key.decrypt(encrypted_key, padding.PKCS1v15())
            if len(cek) != size:
                continue
            return AESGCM(cek).decrypt(nonce, ciphertext, None)
        except (IndexError, InputError, ValueError, InvalidTag):
            continue
    return None
