"""Annotation names, media types and the comma-separated base64 list encoding ocicrypt uses.

Every ``org.opencontainers.image.enc.keys.<scheme>`` annotation is a comma-separated list of base64
(standard alphabet, padded) blobs, one per wrapping operation; ``…enc.pubopts`` is base64 JSON.
"""

from __future__ import annotations

import base64
import binascii

from lockgate.errors import InputError

ENC_PREFIX = "org.opencontainers.image.enc."
KEYS_PREFIX = ENC_PREFIX + "keys."
PUBOPTS = ENC_PREFIX + "pubopts"
JWE = KEYS_PREFIX + "jwe"
PKCS7 = KEYS_PREFIX + "pkcs7"
PGP = KEYS_PREFIX + "pgp"
PKCS11 = KEYS_PREFIX + "pkcs11"
PROVIDER_PREFIX = KEYS_PREFIX + "provider."
ENCRYPTED_SUFFIX = "+encrypted"


def provider_annotation(name: str) -> str:
    """The annotation holding keys wrapped by key provider ``name``."""
    return PROVIDER_PREFIX + name


def is_encrypted_type(media_type: str) -> bool:
    """True for an encrypted layer media type (``…+encrypted``)."""
    return media_type.endswith(ENCRYPTED_SUFFIX)


def encrypted_type(media_type: str) -> str:
    """The encrypted form of a layer media type."""
    return media_type if is_encrypted_type(media_type) else media_type + ENCRYPTED_SUFFIX


def plain_type(media_type: str) -> str:
    """The layer media type without ``+encrypted``."""
    return media_type.removesuffix(ENCRYPTED_SUFFIX)


def split_blobs(value: str, what: str) -> list[bytes]:
    """Decode a comma-separated list of base64 blobs; malformed base64 is an :class:`InputError`."""
    out = []
    for part in value.split(","):
        if not part:
            continue
        try:
            out.append(base64.b64decode(part, validate=True))
        except (binascii.Error, ValueError):
            raise InputError(f"annotation {what} is not a list of base64 blobs") from None
    return out


def join_blobs(blobs: list[bytes]) -> str:
    """Encode blobs as ocicrypt writes them (comma-separated standard base64)."""
    return ",".join(base64.b64encode(b).decode() for b in blobs)


def key_annotations(annotations: dict[str, str]) -> dict[str, str]:
    """The wrapped-key annotations of a descriptor (``…enc.keys.*``)."""
    return {k: v for k, v in annotations.items() if k.startswith(KEYS_PREFIX) and v}


def strip_encryption(annotations: dict[str, str]) -> dict[str, str]:
    """Annotations without anything in the ``org.opencontainers.image.enc.`` namespace."""
    return {k: v for k, v in annotations.items() if not k.startswith(ENC_PREFIX)}
