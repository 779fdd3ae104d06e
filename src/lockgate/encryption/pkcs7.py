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


def _issuer_and_serial(cert: x509.Certificate) -> tuple[bytes, int]:
    """The certificate's issuer Name exactly as encoded in it, and its serial number."""
    from lockgate.encryption import _der

    tbs = _der.elements(_der.read(cert.tbs_certificate_bytes)[0].data)
    if tbs and tbs[0][0].tag == 0x80:  # [0] EXPLICIT version
        tbs = tbs[1:]
    return tbs[2][1], cert.serial_number


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _matches(info: bytes, certs: Sequence[x509.Certificate]) -> bool:
    """Whether a KeyTransRecipientInfo names one of ``certs`` (issuer+serial, or subject key id)."""
    from lockgate.encryption import _der

    node = _der.read(info)[0]
    if node.tag != 0x10:  # KeyAgree/KEK/... RecipientInfo ([n]-tagged): never lockgate's or ocicrypt's
        return False
    rid = node.children()[1]
    for cert in certs:
        if rid.tag == 0x10:  # IssuerAndSerialNumber
            issuer, serial = _der.elements(rid.data)[:2]
            if serial[0].tag != 0x02:
                raise InputError("PKCS#7 recipient serial number is not an INTEGER")
            name, number = _issuer_and_serial(cert)
            ours = issuer[1] in (name, cert.issuer.public_bytes())
            if ours and int.from_bytes(serial[0].data, "big", signed=True) == number:
                return True
        elif rid.tag == 0x80 and rid.data == _subject_key_id(cert):  # [0] SubjectKeyIdentifier
            return True
    return False


def remove_recipients(blob: bytes, certs: Sequence[x509.Certificate]) -> tuple[bytes | None, set[int]]:
    """Drop the RecipientInfos naming ``certs`` (matched by issuer and serial number, as CMS identifies them).

    The content and its key are untouched, so the other recipients still open it. Returns the new
    enveloped data (None when no recipient is left) and the indexes (into ``certs``) that were found.
    """
    from lockgate.encryption import _der

    try:
        info = _der.read(blob)[0]
        top = _der.elements(info.data)
        if _der.oid(top[0][0]) != "1.2.840.113549.1.7.3":  # envelopedData
            raise InputError("PKCS#7 wrapped key is not enveloped data")
        explicit = top[1][0]
        enveloped = _der.read(explicit.data)[0]
        fields = _der.elements(enveloped.data)
        at = next(i for i, (n, _) in enumerate(fields) if n.tag == 0x11 and n.constructed)  # recipientInfos SET
        infos = _der.elements(fields[at][0].data)
        found: set[int] = set()
        kept = []
        for _, raw in infos:
            hits = {i for i, c in enumerate(certs) if _matches(raw, [c])}
            found |= hits
            if not hits:
                kept.append(raw)
    except (IndexError, StopIteration, InputError):
        raise InputError("PKCS#7 wrapped key is not well-formed enveloped data") from None
    if len(kept) == len(infos):
        return blob, found
    if not kept:
        return None, found
    fields[at] = (fields[at][0], _der.encode(0x11, True, b"".join(kept)))
    new_enveloped = _der.encode(enveloped.tag, enveloped.constructed, b"".join(raw for _, raw in fields))
    new_explicit = _der.encode(explicit.tag, explicit.constructed, new_enveloped)
    return _der.encode(info.tag, info.constructed, top[0][1] + new_explicit + b"".join(r for _, r in top[2:])), found
