"""PKCS#11 keys named by RFC 7512 URIs; the private key never leaves the token.

``pkcs11:token=lockgate;object=release;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=5678``

Mechanisms: ECDSA signs a digest computed here with ``CKM_ECDSA`` (SoftHSM lacks ``CKM_ECDSA_SHA256``) and
the raw ``r||s`` result is re-encoded as DER (what cosign writes); Ed25519 uses ``CKM_EDDSA`` over the
message; RSA uses ``CKM_RSA_PKCS`` over a DigestInfo (PKCS#1 v1.5 with SHA-256) so digests can be streamed.
``pin-source`` may name a file holding the PIN; ``LOCKGATE_PKCS11_PIN`` is used when neither is given, and
``LOCKGATE_PKCS11_MODULE`` when the URI has no ``module-path``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from lockgate.errors import ConfigError, InputError, NotFoundError, UnavailableError
from lockgate.trust.keys.model import PublicKey, check_digest_length

_PATH_ATTRS = frozenset(
    {
        "token",
        "object",
        "id",
        "type",
        "serial",
        "manufacturer",
        "model",
        "slot-id",
        "slot-description",
        "slot-manufacturer",
        "library-manufacturer",
        "library-description",
        "library-version",
    }
)
_QUERY_ATTRS = frozenset({"module-path", "module-name", "pin-value", "pin-source"})
# DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass(frozen=True, slots=True)
class Pkcs11Uri:
    """A parsed RFC 7512 ``pkcs11:`` URI (values percent-decoded)."""

    path: dict[str, bytes] = field(default_factory=dict)
    query: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Pkcs11Uri:
        if not text.startswith("pkcs11:"):
            raise InputError(f"not a pkcs11 URI: {text!r}")
        body = text[len("pkcs11:") :]
        path_part, _, query_part = body.partition("?")
        path: dict[str, bytes] = {}
        query: dict[str, bytes] = {}
        for part, seps, known, dest in ((path_part, ";", _PATH_ATTRS, path), (query_part, "&", _QUERY_ATTRS, query)):
            for item in part.split(seps):
                if not item:
                    continue
                name, eq, value = item.partition("=")
                if not eq or not name:
                    raise InputError(f"pkcs11 URI attribute {item!r} lacks a value")
                if name not in known and not name.startswith("x-"):
                    raise InputError(f"unknown pkcs11 URI attribute {name!r}")
                if name in dest:
                    raise InputError(f"pkcs11 URI attribute {name!r} given twice")
                dest[name] = unquote_to_bytes(value)
        return cls(path=path, query=query)

    def text(self, name: str) -> str | None:
        """A path or query attribute as UTF-8 text."""
        v = self.path.get(name, self.query.get(name))
        return None if v is None else v.decode("utf-8", errors="strict")


def _module(uri: Pkcs11Uri) -> str:
    module = uri.text("module-path") or os.environ.get("LOCKGATE_PKCS11_MODULE")
    if not module:
        raise ConfigError("pkcs11 URI needs module-path (or set LOCKGATE_PKCS11_MODULE)")
    if not Path(module).is_file():
        raise NotFoundError(f"PKCS#11 module {module} not found")
    return module


def _pin(uri: Pkcs11Uri) -> str | None:
    if "pin-value" in uri.query:
        return uri.text("pin-value")
    source = uri.text("pin-source")
    if source:
        path = Path(source.removeprefix("file:"))
        try:
            return path.read_text().strip()
        except OSError as e:
            raise ConfigError(f"cannot read PIN from {path}: {e.strerror}") from None
    return os.environ.get("LOCKGATE_PKCS11_PIN")


class Pkcs11Signer:
    """A :class:`~lockgate.trust.keys.model.Signer` for a private key in a PKCS#11 token."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._parsed = Pkcs11Uri.parse(uri)
        if "object" not in self._parsed.path and "id" not in self._parsed.path:
            raise ConfigError("pkcs11 URI must name the key with object= or id=")
        self._public: PublicKey | None = None

    def _session(self) -> Any:
        import pkcs11

        try:
            lib = pkcs11.lib(_module(self._parsed))
            kwargs: dict[str, Any] = {}
            if "token" in self._parsed.path:
                kwargs["token_label"] = self._parsed.text("token")
            if "serial" in self._parsed.path:
                kwargs["token_serial"] = self._parsed.path["serial"]
            token = lib.get_token(**kwargs)
            return token.open(user_pin=_pin(self._parsed))
        except pkcs11.exceptions.NoSuchToken:
            raise NotFoundError(f"no PKCS#11 token matches {self._redacted()}") from None
        except pkcs11.exceptions.MultipleTokensReturned:
            raise ConfigError(f"several PKCS#11 tokens match {self._redacted()}; add token= or serial=") from None
        except pkcs11.exceptions.PinIncorrect:
            raise ConfigError(f"PKCS#11 PIN rejected for {self._redacted()}") from None
        except pkcs11.exceptions.PKCS11Error as e:
            raise UnavailableError(f"PKCS#11 error opening {self._redacted()}: {type(e).__name__}") from None

    def _redacted(self) -> str:
        return self.uri.split("?", 1)[0]

    def _key(self, session: Any, object_class: Any) -> Any:
        import pkcs11

        kwargs: dict[str, Any] = {"object_class": object_class}
        if "object" in self._parsed.path:
            kwargs["label"] = self._parsed.text("object")
        if "id" in self._parsed.path:
            kwargs["id"] = self._parsed.path["id"]
        try:
            return session.get_key(**kwargs)
        except pkcs11.exceptions.NoSuchKey:
            raise NotFoundError(f"no {object_class.name.lower()} matches {self._redacted()}") from None
        except pkcs11.exceptions.MultipleObjectsReturned:
            raise ConfigError(f"several keys match {self._redacted()}; add id= or object=") from None

    @property
    def public_key(self) -> PublicKey:
        if self._public is None:
            from pkcs11 import Attribute, KeyType, ObjectClass
            from pkcs11.util.ec import encode_ec_public_key
            from pkcs11.util.rsa import encode_rsa_public_key

            with self._session() as s:
                pub = self._key(s, ObjectClass.PUBLIC_KEY)
                if pub.key_type == KeyType.EC:
                    key = serialization.load_der_public_key(encode_ec_public_key(pub))
                elif pub.key_type == KeyType.RSA:
                    key = serialization.load_der_public_key(_spki_from_pkcs1(encode_rsa_public_key(pub)))
                elif pub.key_type == KeyType.EC_EDWARDS:
                    point = bytes(pub[Attribute.EC_POINT])
                    key = ed25519.Ed25519PublicKey.from_public_bytes(point[-32:])
                else:
                    raise InputError(f"unsupported PKCS#11 key type {pub.key_type.name}")
            from lockgate.trust.keys.files import _check_public

            self._public = PublicKey(_check_public(key, self._redacted()), self._redacted())
        return self._public

    def sign(self, data: bytes) -> bytes:
        pub = self.public_key
        if pub.algorithm == "ed25519":
            from pkcs11 import Mechanism, ObjectClass

            with self._session() as s:
                return bytes(self._key(s, ObjectClass.PRIVATE_KEY).sign(data, mechanism=Mechanism.EDDSA))
        return self.sign_digest(hashlib.new(pub.hash_name, data).digest())

    def sign_digest(self, digest: bytes) -> bytes:
        from pkcs11 import Mechanism, ObjectClass
        from pkcs11.util.ec import encode_ecdsa_signature

        pub = self.public_key
        if pub.algorithm == "ed25519":
            raise ConfigError("Ed25519 keys sign the whole message, not a digest")
        check_digest_length(pub, digest)
        with self._session() as s:
            key = self._key(s, ObjectClass.PRIVATE_KEY)
            if pub.algorithm.startswith("rsa-"):
                return bytes(key.sign(_SHA256_DIGEST_INFO + digest, mechanism=Mechanism.RSA_PKCS))
            return bytes(encode_ecdsa_signature(key.sign(digest, mechanism=Mechanism.ECDSA)))


def _spki_from_pkcs1(der: bytes) -> bytes:
    """Wrap a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo (via ``cryptography``'s PEM loader)."""
    import base64

    b64 = base64.encodebytes(der)
    key = serialization.load_pem_public_key(
        b"-----BEGIN RSA PUBLIC KEY-----\n" + b64 + b"-----END RSA PUBLIC KEY-----\n"
    )
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
