"""in-toto (securesystemslib) keys: key dicts, keyids, and signatures in the scheme the key dict names.

securesystemslib schemes used by in-toto: ``rsassa-pss-sha256`` (RSA-PSS, MGF1-SHA256; signers use a salt
of the digest length, verifiers accept any), ``ecdsa-sha2-nistp256``/``nistp384`` (DER ECDSA) and
``ed25519`` (pure Ed25519). lockgate's cosign-style signers use PKCS#1 v1.5 and Ed25519ph, so in-toto
signing goes to the private key directly for key files, and to the signer for tokens whose mechanism is
already the in-toto one (ECDSA, pure Ed25519).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from lockgate.errors import ConfigError, InputError, IntegrityError
from lockgate.trust.keys.model import PublicKey, PublicKeyTypes, Signer, canonical_json, intoto_key

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_EC_SCHEMES = {"ecdsa-sha2-nistp256": "sha256", "ecdsa-sha2-nistp384": "sha384", "ecdsa-sha2-nistp521": "sha512"}


@dataclass(frozen=True, slots=True)
class IntotoKey:
    """A public key as in-toto names it: keyid plus the ``keytype``/``scheme``/``keyval`` dict."""

    keyid: str
    keytype: str
    scheme: str
    public: str
    key: PublicKeyTypes

    @classmethod
    def from_dict(cls, keyid: str, d: Any) -> IntotoKey:
        """Parse a key dict from a layout (extra fields such as ``keyid_hash_algorithms`` are ignored)."""
        if not isinstance(d, dict):
            raise InputError(f"key {keyid[:16]}: not an object")
        keytype, scheme, keyval = d.get("keytype"), d.get("scheme"), d.get("keyval")
        if not isinstance(keytype, str) or not isinstance(scheme, str) or not isinstance(keyval, dict):
            raise InputError(f"key {keyid[:16]}: needs keytype, scheme and keyval")
        public = keyval.get("public")
        if not isinstance(public, str) or not public:
            raise InputError(f"key {keyid[:16]}: keyval.public missing")
        key: Any
        try:
            if keytype == "ed25519":
                key = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
            elif keytype in ("rsa", "ecdsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384"):
                key = serialization.load_pem_public_key(public.encode())
            else:
                raise InputError(f"key {keyid[:16]}: unsupported keytype {keytype!r}")
        except ValueError as e:
            raise InputError(f"key {keyid[:16]}: cannot parse public key: {e}") from None
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
            raise InputError(f"key {keyid[:16]}: unsupported key type")
        return cls(keyid, keytype, scheme, public, key)

    @classmethod
    def from_public_key(cls, pub: PublicKey) -> IntotoKey:
        """The in-toto view of a lockgate public key (keyid = securesystemslib's)."""
        d = intoto_key(pub.key)
        keyval = d["keyval"]
        assert isinstance(keyval, dict)
        return cls(pub.intoto_keyid, str(d["keytype"]), str(d["scheme"]), str(keyval["public"]), pub.key)

    def to_dict(self) -> dict[str, Any]:
        """The key dict a layout lists under ``keys`` (with its ``keyid``, as in-toto writes it)."""
        return {"keyid": self.keyid, "keytype": self.keytype, "scheme": self.scheme, "keyval": {"public": self.public}}

    def computed_keyid(self) -> str:
        """securesystemslib's keyid for this key dict."""
        doc = {"keytype": self.keytype, "scheme": self.scheme, "keyval": {"public": self.public}}
        return hashlib.sha256(canonical_json(doc)).hexdigest()

    def verify(self, data: bytes, sig: bytes) -> None:
        """Raise IntegrityError unless ``sig`` is valid over ``data`` in this key's scheme."""
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                if self.scheme != "ed25519":
                    raise IntegrityError(f"scheme {self.scheme!r} does not fit an ed25519 key")
                self.key.verify(sig, data)
                return
            if isinstance(self.key, rsa.RSAPublicKey):
                kind, _, hname = self.scheme.rpartition("-")
                h = _HASHES.get(hname)
                if h is None or kind not in ("rsassa-pss", "rsa-pkcs1v15"):
                    raise IntegrityError(f"unsupported RSA scheme {self.scheme!r}")
                pad: padding.AsymmetricPadding = (
                    padding.PSS(padding.MGF1(h()), padding.PSS.AUTO) if kind == "rsassa-pss" else padding.PKCS1v15()
                )
                self.key.verify(sig, data, pad, h())
                return
            ec_hash = _EC_SCHEMES.get(self.scheme)
            if ec_hash is None:
                raise IntegrityError(f"unsupported ECDSA scheme {self.scheme!r}")
            self.key.verify(sig, data, ec.ECDSA(_HASHES[ec_hash]()))
        except InvalidSignature:
            raise IntegrityError(f"invalid signature for in-toto key {self.keyid[:8]}") from None


def intoto_keyid_of(signer: Signer) -> str:
    """The in-toto keyid of a signer's public key."""
    return signer.public_key.intoto_keyid


def intoto_sign(signer: Signer, data: bytes) -> bytes:
    """Sign ``data`` in the scheme of the signer's in-toto key dict (see the module docstring)."""
    from lockgate.trust.keys.files import FileSigner

    if isinstance(signer, FileSigner):
        priv = signer.private_key
        if isinstance(priv, rsa.RSAPrivateKey):
            return priv.sign(
                data, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH), hashes.SHA256()
            )
        if isinstance(priv, ed25519.Ed25519PrivateKey):
            return priv.sign(data)
        hname = {"secp256r1": "sha256", "secp384r1": "sha384", "secp521r1": "sha512"}[priv.curve.name]
        return priv.sign(data, ec.ECDSA(_HASHES[hname]()))
    key = signer.public_key.key
    if isinstance(key, rsa.RSAPublicKey):
        raise ConfigError("in-toto needs RSA-PSS signatures; this signer makes PKCS#1 v1.5 ones (use an EC key)")
    sig = signer.sign(data)
    IntotoKey.from_public_key(signer.public_key).verify(data, sig)  # Ed25519ph tokens would not verify
    return sig
