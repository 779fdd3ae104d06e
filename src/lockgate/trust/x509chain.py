"""X.509 signing certificates for key-based signatures ("bring your own PKI"), with CRL checking.

cosign stores a signing certificate and its chain next to a signature in the layer annotations
``dev.sigstore.cosign/certificate`` (PEM leaf) and ``dev.sigstore.cosign/chain`` (PEM intermediates and
root). A verifier configured with CA roots (``--ca-roots``, cosign's ``--ca-roots``/``--certificate-chain``)
and optionally CRLs validates the path at the signing time: signatures by each issuer, validity periods,
CA basic constraints, the code-signing EKU when the leaf restricts usage, and revocation in any CRL given
for an issuer (the CRL must be signed by that issuer and current). Path building is deliberately simple:
leaf, then intermediates by issuer name and signature, up to a configured root (at most 8 certificates).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from lockgate.errors import ConfigError, InputError, IntegrityError

CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
MAX_PATH = 8


def fingerprint(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the DER certificate (how policies name certificates)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_pem_certs(data: bytes, what: str) -> list[x509.Certificate]:
    """All certificates in PEM ``data``; raise :class:`InputError` when there are none or they are broken."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise InputError(f"{what}: {e}") from None
    if not certs:
        raise InputError(f"{what}: no certificate")
    return certs


@dataclass(frozen=True, slots=True)
class CertTrust:
    """CA roots and CRLs a verifier trusts for signing certificates."""

    roots: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...] = ()

    @classmethod
    def from_files(cls, roots: Path, crls: list[Path] | None = None) -> CertTrust:
        try:
            root_certs = load_pem_certs(roots.read_bytes(), str(roots))
        except FileNotFoundError:
            raise ConfigError(f"CA roots file {roots} not found") from None
        loaded = []
        for p in crls or []:
            try:
                data = p.read_bytes()
                loaded.append(
                    x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----") else x509.load_der_x509_crl(data)
                )
            except FileNotFoundError:
                raise ConfigError(f"CRL {p} not found") from None
            except ValueError as e:
                raise ConfigError(f"CRL {p}: {e}") from None
        return cls(tuple(root_certs), tuple(loaded))


def _signed_by(cert: x509.Certificate | x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    if isinstance(cert, x509.CertificateRevocationList):
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
            return False
        return cert.is_signature_valid(key)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            assert cert.signature_hash_algorithm is not None
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            assert cert.signature_hash_algorithm is not None
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, AssertionError, ValueError):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _check_time(cert: x509.Certificate, at: datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise IntegrityError(
            f"certificate {cert.subject.rfc4514_string()!r} is not valid at {at.isoformat()} "
            f"(valid {cert.not_valid_before_utc.isoformat()} to {cert.not_valid_after_utc.isoformat()})"
        )


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise IntegrityError("signing certificate lacks the code-signing extended key usage")


def _check_crls(cert: x509.Certificate, issuer: x509.Certificate, trust: CertTrust, now: datetime) -> None:
    for crl in trust.crls:
        if crl.issuer != issuer.subject or not _signed_by(crl, issuer):
            continue
        if crl.next_update_utc is not None and crl.next_update_utc < now:
            raise IntegrityError(f"CRL of {issuer.subject.rfc4514_string()!r} expired at {crl.next_update_utc}")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise IntegrityError(
                f"certificate {cert.subject.rfc4514_string()!r} (serial {cert.serial_number:x}) is revoked"
            )


def validate_chain(
    leaf: x509.Certificate, intermediates: list[x509.Certificate], trust: CertTrust, at: datetime | None = None
) -> list[x509.Certificate]:
    """Validate ``leaf`` up to one of ``trust.roots`` at time ``at`` (default now); return the path."""
    now = datetime.now(UTC)
    at = at or now
    _check_leaf_usage(leaf)
    path = [leaf]
    current = leaf
    pool = [c for c in intermediates if c != leaf]
    for _ in range(MAX_PATH):
        _check_time(current, at)
        root = next((r for r in trust.roots if r.subject == current.issuer and _signed_by(current, r)), None)
        if root is not None:
            _check_time(root, at)
            _check_crls(current, root, trust, now)
            return [*path, root]
        if current in trust.roots:
            return path
        issuer = next((c for c in pool if c.subject == current.issuer and _signed_by(current, c)), None)
        if issuer is None:
            raise IntegrityError(f"certificate {current.subject.rfc4514_string()!r} does not chain to a trusted root")
        if not _is_ca(issuer):
            raise IntegrityError(f"issuer {issuer.subject.rfc4514_string()!r} is not a CA")
        _check_crls(current, issuer, trust, now)
        pool.remove(issuer)
        path.append(issuer)
        current = issuer
    raise IntegrityError(f"certificate chain longer than {MAX_PATH}")
