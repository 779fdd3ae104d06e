"""Keyless verification of Sigstore bundles, offline, with a given ``trusted_root.json``.

The cryptographic work (Fulcio chain at the signed time, SCT, Rekor inclusion proof / promise, RFC 3161
timestamps, DSSE) is done by the PyPI ``sigstore`` package; this module adds what cosign adds on top:
identity and issuer matching by exact value or regular expression (``--certificate-identity[-regexp]``,
``--certificate-oidc-issuer[-regexp]``, Go ``regexp.MatchString`` semantics, i.e. unanchored search),
one-line errors, and, for images, cosign v3's storage: a bundle (``application/vnd.dev.sigstore.bundle.v0.3+json``)
attached as an OCI 1.1 referrer, holding a DSSE in-toto statement whose subject is the manifest digest
(predicate ``https://sigstore.dev/cosign/sign/v1`` for signatures).

``cosign verify --certificate-identity ... --certificate-oidc-issuer ... --trusted-root T --offline``
checks the same things for the same bundles.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgate.errors import ConfigError, InputError, IntegrityError, NotFoundError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_BUNDLE_BYTES = 4 * 1024 * 1024
MAX_ROOT_BYTES = 8 * 1024 * 1024
_OIDC_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
_OIDC_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
_OTHERNAME_SAN = "1.3.6.1.4.1.57264.1.7"


@dataclass(frozen=True, slots=True)
class IdentityMatcher:
    """Which certificate identities and OIDC issuers are acceptable (cosign's four flags)."""

    identity: str | None = None
    identity_regexp: str | None = None
    issuer: str | None = None
    issuer_regexp: str | None = None

    def __post_init__(self) -> None:
        if not (self.identity or self.identity_regexp):
            raise ConfigError("keyless verification needs --certificate-identity or --certificate-identity-regexp")
        if not (self.issuer or self.issuer_regexp):
            raise ConfigError(
                "keyless verification needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp"
            )
        for rx in (self.identity_regexp, self.issuer_regexp):
            if rx is not None:
                try:
                    re.compile(rx)
                except re.error as e:
                    raise ConfigError(f"invalid regular expression {rx!r}: {e}") from None

    def matches(self, identity: str, issuer: str) -> bool:
        """True when one (identity, issuer) pair satisfies this matcher."""
        if self.issuer is not None and issuer != self.issuer:
            return False
        if self.issuer_regexp is not None and not re.search(self.issuer_regexp, issuer):
            return False
        if self.identity is not None and identity != self.identity:
            return False
        return self.identity_regexp is None or re.search(self.identity_regexp, identity) is not None

    def describe(self) -> str:
        who = self.identity if self.identity is not None else f"/{self.identity_regexp}/"
        iss = self.issuer if self.issuer is not None else f"/{self.issuer_regexp}/"
        return f"{who} (issuer {iss})"

    def check(self, cert: Certificate) -> tuple[str, str]:
        """Return ``(identity, issuer)`` of ``cert``; raise :class:`IntegrityError` when they do not match."""
        sans = certificate_identities(cert)
        issuer = certificate_issuer(cert)
        if self.issuer is not None and issuer != self.issuer:
            raise IntegrityError(f"certificate issuer {issuer!r} is not {self.issuer!r}")
        if self.issuer_regexp is not None and not re.search(self.issuer_regexp, issuer):
            raise IntegrityError(f"certificate issuer {issuer!r} does not match {self.issuer_regexp!r}")
        for san in sans:
            if self.identity is not None and san != self.identity:
                continue
            if self.identity_regexp is not None and not re.search(self.identity_regexp, san):
                continue
            return san, issuer
        want = self.identity if self.identity is not None else f"/{self.identity_regexp}/"
        raise IntegrityError(f"certificate identity {', '.join(sans) or 'none'} does not match {want}")


def certificate_identities(cert: Certificate) -> list[str]:
    """The SAN values cosign treats as identities: emails, URIs and Sigstore's OtherName."""
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = list(san.get_values_for_type(x509.RFC822Name)) + list(san.get_values_for_type(x509.UniformResourceIdentifier))
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id.dotted_string == _OTHERNAME_SAN:
            out.append(_der_utf8(other.value))
    return out


def _der_utf8(value: bytes) -> str:
    """Decode a DER UTF8String (tag 0x0c); fall back to the raw bytes as text."""
    if len(value) >= 2 and value[0] == 0x0C:
        n = value[1]
        start = 2
        if n & 0x80:
            width = n & 0x7F
            n = int.from_bytes(value[2 : 2 + width], "big")
            start = 2 + width
        return value[start : start + n].decode("utf-8", errors="replace")
    return value.decode("utf-8", errors="replace")


def certificate_issuer(cert: Certificate) -> str:
    """The OIDC issuer Fulcio recorded (v2 extension preferred, then the legacy v1 one)."""
    from cryptography import x509

    for oid, der in ((_OIDC_ISSUER_V2, True), (_OIDC_ISSUER_V1, False)):
        try:
            ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value
        except x509.ExtensionNotFound:
            continue
        raw = ext.value if isinstance(ext, x509.UnrecognizedExtension) else b""
        return _der_utf8(raw) if der else raw.decode("utf-8", errors="replace")
    return ""


@dataclass(frozen=True, slots=True)
class KeylessResult:
    """A verified bundle: who signed, per the certificate, and the DSSE payload if any."""

    identity: str
    issuer: str
    payload_type: str = ""
    payload: bytes = b""


def _read(path: Path, limit: int, what: str) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise InputError(f"{what} {path} is larger than {limit} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{what} {path} not found") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a directory") from None


def load_trusted_root(path: Path) -> Any:
    """A ``sigstore.models.TrustedRoot`` from a trusted_root.json or a ClientTrustConfig document."""
    from sigstore.models import ClientTrustConfig, TrustedRoot

    raw = _read(path, MAX_ROOT_BYTES, "trusted root")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"trusted root {path} is not JSON") from None
    media_type = str(doc.get("mediaType", "")) if isinstance(doc, dict) else ""
    try:
        if media_type.startswith("application/vnd.dev.sigstore.clienttrustconfig"):
            return ClientTrustConfig.from_json(raw.decode()).trusted_root
        return TrustedRoot.from_file(str(path))
    except Exception as e:  # sigstore raises pydantic/ValueError/its own errors for bad roots
        raise InputError(f"trusted root {path} is invalid: {_one_line(e)}") from None


def load_bundle(data: bytes, what: str = "bundle") -> Any:
    """A ``sigstore.models.Bundle``; malformed bundles raise :class:`InputError` with sigstore's reason."""
    from sigstore.models import Bundle

    if len(data) > MAX_BUNDLE_BYTES:
        raise InputError(f"{what} is larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        return Bundle.from_json(data)
    except Exception as e:
        raise InputError(f"{what} does not load: {_one_line(e)}") from None


def _one_line(e: BaseException) -> str:
    """A one-line reason (pydantic puts the field and the problem on the following lines)."""
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    text = ": ".join(lines[:3]) or type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


class _Policy:
    """Adapter: a ``sigstore`` verification policy backed by :class:`IdentityMatcher`."""

    def __init__(self, matcher: IdentityMatcher) -> None:
        self.matcher = matcher

    def verify(self, cert: Certificate) -> None:
        from sigstore.errors import VerificationError

        try:
            self.matcher.check(cert)
        except IntegrityError as e:
            raise VerificationError(str(e)) from None


def verify_blob_bundle(data: bytes, bundle: Any, trusted_root: Any, matcher: IdentityMatcher) -> KeylessResult:
    """Verify a message-signature or DSSE bundle over ``data`` (cosign ``verify-blob --bundle``)."""
    from sigstore.verify import Verifier

    verifier = Verifier(trusted_root=trusted_root)
    try:
        if bundle._dsse_envelope is not None:
            ptype, payload = verifier.verify_dsse(bundle, _Policy(matcher))
            _check_dsse_subject(ptype, payload, _sha256_hex(data), None)
        else:
            verifier.verify_artifact(data, bundle, _Policy(matcher))
            ptype, payload = "", b""
    except IntegrityError:
        raise
    except Exception as e:
        raise IntegrityError(f"bundle verification failed: {_one_line(e)}") from None
    ident, issuer = matcher.check(bundle.signing_certificate)
    return KeylessResult(ident, issuer, ptype, payload)


def verify_dsse_bundle(
    bundle: Any, trusted_root: Any, matcher: IdentityMatcher, digest: str, predicate_type: str | None
) -> KeylessResult:
    """Verify a DSSE bundle whose in-toto statement must name ``digest`` (``sha256:<hex>``) as a subject."""
    from sigstore.verify import Verifier

    if bundle._dsse_envelope is None:
        raise IntegrityError("bundle holds no DSSE envelope")
    try:
        ptype, payload = Verifier(trusted_root=trusted_root).verify_dsse(bundle, _Policy(matcher))
    except Exception as e:
        raise IntegrityError(f"bundle verification failed: {_one_line(e)}") from None
    algo, _, hexpart = digest.partition(":")
    _check_dsse_subject(ptype, payload, hexpart, predicate_type, algo)
    ident, issuer = matcher.check(bundle.signing_certificate)
    return KeylessResult(ident, issuer, ptype, payload)


def _sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _check_dsse_subject(
    ptype: str, payload: bytes, hexdigest: str, predicate_type: str | None, algo: str = "sha256"
) -> None:
    if ptype != IN_TOTO_PAYLOAD_TYPE:
        raise IntegrityError(f"DSSE payload type {ptype!r} is not an in-toto statement")
    try:
        statement = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise IntegrityError("DSSE payload is not JSON") from None
    if not isinstance(statement, dict):
        raise IntegrityError("DSSE payload is not an in-toto statement")
    if predicate_type is not None and statement.get("predicateType") != predicate_type:
        raise IntegrityError(f"predicate type {statement.get('predicateType')!r} is not {predicate_type!r}")
    subjects = statement.get("subject") or []
    for s in subjects if isinstance(subjects, list) else []:
        if isinstance(s, dict) and isinstance(s.get("digest"), dict) and s["digest"].get(algo) == hexdigest:
            return
    raise IntegrityError(f"statement does not name {algo}:{hexdigest} as a subject")


@dataclass(frozen=True, slots=True)
class BundleCheck:
    """The outcome for one bundle referrer of an image."""

    referrer: str
    ok: bool
    reason: str = ""
    identity: str = ""
    issuer: str = ""


def verify_image_bundles(
    target_text: str,
    trusted_root: Any,
    matcher: IdentityMatcher,
    *,
    predicate_type: str | None = SIGN_PREDICATE,
    options: Any = None,
) -> tuple[str, list[BundleCheck]]:
    """Verify every Sigstore bundle attached to the image as an OCI referrer; return (digest, checks)."""
    from lockgate.oci.image import read_blob
    from lockgate.oci.model import Manifest, sha256_digest
    from lockgate.oci.targets import REGISTRY, parse_target
    from lockgate.oci.targets import open_source as _open

    target = parse_target(target_text)
    if target.transport != REGISTRY or target.reference is None:
        raise InputError("keyless image verification needs a registry reference (bundles are OCI referrers)")
    src = _open(target, options)
    try:
        raw, _ = src.resolve()
        digest = sha256_digest(raw)
        client = getattr(src, "client", None)
        if client is None:
            raise InputError("registry source has no client")
        refs = client.referrers(target.reference.repository, digest, BUNDLE_MEDIA_TYPE)
        checks: list[BundleCheck] = []
        for ref in refs[:64]:
            try:
                m_raw, m_type = src.get_manifest(ref.digest)
                m = Manifest.parse(m_raw, m_type)
                layer = next(d for d in m.layers if d.media_type.startswith("application/vnd.dev.sigstore.bundle"))
                bundle = load_bundle(read_blob(src, layer, MAX_BUNDLE_BYTES), f"bundle {ref.digest[:19]}")
                res = verify_dsse_bundle(bundle, trusted_root, matcher, digest, predicate_type)
                checks.append(BundleCheck(ref.digest, True, "", res.identity, res.issuer))
            except StopIteration:
                checks.append(BundleCheck(ref.digest, False, "referrer has no bundle layer"))
            except (InputError, IntegrityError, NotFoundError) as e:
                checks.append(BundleCheck(ref.digest, False, str(e)))
    finally:
        src.close()
    return digest, checks
