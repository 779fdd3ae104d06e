"""Public keys, key IDs and the ``Signer`` / ``Verifier`` plug-in protocols.

Signature schemes follow cosign's defaults for key files (sigstore's ``LoadDefaultSignerVerifier``):
ECDSA signs a SHA-256 (P-256), SHA-384 (P-384) or SHA-512 (P-521) digest with a DER signature; RSA uses
PKCS#1 v1.5 with SHA-256; Ed25519 keys use Ed25519ph over SHA-512 (cosign's ``WithED25519ph`` default).
Verification also accepts RSA-PSS, pure Ed25519 (older cosign, PKCS#11 tokens) and, for ECDSA keys on
larger curves, SHA-256 (what older cosign releases produced).

Two key IDs exist: lockgate's (lowercase hex SHA-256 of the DER SubjectPublicKeyInfo) and the
securesystemslib/in-toto keyid (SHA-256 of the canonical JSON of ``{keytype, scheme, keyval}``), which is
computed here rather than through securesystemslib to keep that dependency out of verification.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from lockgate.errors import InputError, IntegrityError

PublicKeyTypes = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


class Algorithm(enum.StrEnum):
    """Key algorithms lockgate generates (``--algorithm``)."""

    ECDSA_P256 = "ecdsa-p256"
    ECDSA_P384 = "ecdsa-p384"
    ED25519 = "ed25519"
    RSA_3072 = "rsa-3072"


_CURVE_HASH: dict[str, str] = {"secp256r1": "sha256", "secp384r1": "sha384", "secp521r1": "sha512"}
_CURVE_NAME: dict[str, str] = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384", "secp521r1": "ecdsa-p521"}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """The ``cryptography`` hash object for ``sha256``/``sha384``/``sha512``."""
    try:
        return _HASHES[name]()
    except KeyError:
        raise InputError(f"unsupported hash algorithm {name!r}") from None


def canonical_json(obj: object) -> bytes:
    """OLPC canonical JSON as securesystemslib encodes it (sorted keys, no spaces, only ``\\`` and ``"`` escaped)."""
    if isinstance(obj, dict):
        items = sorted(obj.items())
        inner = b",".join(canonical_json(str(k)) + b":" + canonical_json(v) for k, v in items)
        return b"{" + inner + b"}"
    if isinstance(obj, list | tuple):
        return b"[" + b",".join(canonical_json(v) for v in obj) + b"]"
    if isinstance(obj, str):
        return b'"' + obj.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'
    if isinstance(obj, bool) or obj is None or isinstance(obj, int):
        return json.dumps(obj).encode()
    raise InputError(f"cannot canonicalise {type(obj).__name__}")


def key_id(key: PublicKeyTypes) -> str:
    """lockgate's key ID: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def intoto_key(key: PublicKeyTypes) -> dict[str, object]:
    """The securesystemslib key dict (``keytype``, ``scheme``, ``keyval``) for ``key``."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
        return {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": raw}}
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    if isinstance(key, rsa.RSAPublicKey):
        return {"keytype": "rsa", "scheme": "rsassa-pss-sha256", "keyval": {"public": pem}}
    curve = key.curve.name
    schemes = {
        "secp256r1": "ecdsa-sha2-nistp256",
        "secp384r1": "ecdsa-sha2-nistp384",
        "secp521r1": "ecdsa-sha2-nistp521",
    }
    if curve not in schemes:
        raise InputError(f"unsupported elliptic curve {curve}")
    return {"keytype": "ecdsa", "scheme": schemes[curve], "keyval": {"public": pem}}


def intoto_keyid(key: PublicKeyTypes) -> str:
    """The in-toto/securesystemslib keyid: SHA-256 of the canonical JSON of the key dict."""
    return hashlib.sha256(canonical_json(intoto_key(key))).hexdigest()


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A verification key with its IDs; verifies cosign-style signatures."""

    key: PublicKeyTypes
    source: str = ""
    """Where the key came from (file path or URI), for messages."""

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    @property
    def intoto_keyid(self) -> str:
        return intoto_keyid(self.key)

    @property
    def algorithm(self) -> str:
        """``ecdsa-p256``, ``ecdsa-p384``, ``ed25519``, ``rsa-3072`` ..."""
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return "ed25519"
        if isinstance(self.key, rsa.RSAPublicKey):
            return f"rsa-{self.key.key_size}"
        return _CURVE_NAME.get(self.key.curve.name, f"ecdsa-{self.key.curve.name}")

    @property
    def hash_name(self) -> str:
        """Digest the signer hashes with (``sha512`` for Ed25519ph)."""
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return "sha512"
        if isinstance(self.key, rsa.RSAPublicKey):
            return "sha256"
        return _CURVE_HASH.get(self.key.curve.name, "sha256")

    def matches(self, ident: str) -> bool:
        """True when ``ident`` is this key's lockgate ID or in-toto keyid (case-insensitive)."""
        ident = ident.lower().removeprefix("sha256:")
        return ident in (self.key_id, self.intoto_keyid)

    def pem(self) -> bytes:
        """PEM SubjectPublicKeyInfo."""
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def verify(self, data: bytes, signature: bytes) -> None:
        """Raise :class:`IntegrityError` unless ``signature`` is valid over ``data``."""
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            try:
                self.key.verify(signature, data)
                return
            except InvalidSignature:
                pass  # not pure Ed25519; try Ed25519ph below
        digests = {name: hashlib.new(name, data).digest() for name in self._accepted_hashes()}
        self._verify_digests(digests, signature)

    def verify_digests(self, digests: dict[str, bytes], signature: bytes) -> None:
        """Verify over precomputed digests (``{"sha256": ...}``); used for streaming blobs."""
        self._verify_digests(digests, signature)

    def _accepted_hashes(self) -> tuple[str, ...]:
        if isinstance(self.key, ed25519.Ed25519PublicKey):
            return ("sha512",)
        return tuple(dict.fromkeys((self.hash_name, "sha256")))

    def _verify_digests(self, digests: dict[str, bytes], signature: bytes) -> None:
        for name in self._accepted_hashes():
            digest = digests.get(name)
            if digest is None:
                continue
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                from lockgate.trust.keys.ed25519ph import verify_prehashed

                try:
                    verify_prehashed(self.key, digest, signature)
                    return
                except IntegrityError:
                    continue
            alg = utils.Prehashed(hash_algorithm(name))
            try:
                if isinstance(self.key, rsa.RSAPublicKey):
                    for pad in (padding.PKCS1v15(), padding.PSS(padding.MGF1(hash_algorithm(name)), padding.PSS.AUTO)):
                        try:
                            self.key.verify(signature, digest, pad, alg)
                            return
                        except InvalidSignature:
                            continue
                    continue
                assert isinstance(self.key, ec.EllipticCurvePublicKey)
                self.key.verify(signature, digest, ec.ECDSA(alg))
                return
            except InvalidSignature:
                continue
            except ValueError:
                continue
        raise IntegrityError(f"invalid signature for key {self.key_id[:16]}")


@runtime_checkable
class Verifier(Protocol):
    """Anything that checks signatures for one key (``PublicKey`` implements it)."""

    @property
    def key_id(self) -> str: ...

    def verify(self, data: bytes, signature: bytes) -> None:
        """Raise :class:`~lockgate.errors.IntegrityError` unless the signature is valid over ``data``."""
        ...


@runtime_checkable
class Signer(Protocol):
    """The plug-in interface for signing keys (files, PKCS#11 tokens, KMS plug-ins).

    ``sign`` returns a signature in the format :meth:`PublicKey.verify` accepts: DER ECDSA over the
    curve's default digest, RSA PKCS#1 v1.5 SHA-256, or Ed25519ph (pure Ed25519 is accepted too).
    ``sign_digest`` signs a digest computed with ``public_key.hash_name`` (streaming large files); signers
    that cannot sign digests (pure-Ed25519 tokens) raise :class:`~lockgate.errors.ConfigError` there.
    """

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...

    def sign_digest(self, digest: bytes) -> bytes: ...


def check_digest_length(public_key: PublicKey, digest: bytes) -> None:
    """Raise :class:`InputError` unless ``digest`` has the length of ``public_key.hash_name``."""
    want = hashlib.new(public_key.hash_name or "sha256").digest_size
    if len(digest) != want:
        raise InputError(f"digest is {len(digest)} bytes; {public_key.hash_name} needs {want}")
