"""RFC 3161 timestamps on signatures: a trusted signing time, stored the way cosign stores it.

``lockgate sign --tsa URL`` asks the timestamp authority to countersign the raw signature bytes (as
``cosign sign --timestamp-server-url`` does) and stores the response in the signature layer's annotation
``dev.sigstore.cosign/rfc3161timestamp`` = ``{"SignedRFC3161Timestamp": "<base64 DER TimeStampResp>"}``.
Verifiers given the TSA's certificate chain (``--tsa-cert-chain``, cosign's ``--timestamp-certificate-chain``)
check it with ``rfc3161-client`` and use its ``genTime`` as the signing time (for key revocation cut-offs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lockgate.errors import ConfigError, InputError, IntegrityError, UnavailableError

ANNOTATION = "dev.sigstore.cosign/rfc3161timestamp"
MAX_RESPONSE_BYTES = 256 * 1024


def request_timestamp(url: str, data: bytes, *, timeout: float = 30.0, ca_cert: Path | None = None) -> bytes:
    """Ask the TSA at ``url`` for a timestamp over ``data``; return the DER TimeStampResp (checked)."""
    import httpx
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

    req = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)  # what cosign asks for
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    try:
        resp = httpx.post(
            url,
            content=req.as_bytes(),
            headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
            timeout=timeout,
            verify=str(ca_cert) if ca_cert else True,
        )
    except httpx.HTTPError as e:
        raise UnavailableError(f"timestamp authority {url} unreachable: {type(e).__name__}") from None
    if resp.status_code != 200:
        raise UnavailableError(f"timestamp authority {url} answered HTTP {resp.status_code}")
    body = resp.content
    if len(body) > MAX_RESPONSE_BYTES:
        raise InputError(f"timestamp response from {url} is larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        tsr = decode_timestamp_response(body)
    except ValueError as e:
        raise InputError(f"timestamp authority {url} sent an invalid response: {e}") from None
    if tsr.status not in (0, 1):
        raise UnavailableError(f"timestamp authority {url} refused the request (status {tsr.status})")
    info = tsr.tst_info
    if info.message_imprint.message != hashlib.sha256(data).digest():
        raise IntegrityError(f"timestamp from {url} covers other data")
    if req.nonce is not None and info.nonce != req.nonce:
        raise IntegrityError(f"timestamp from {url} has the wrong nonce")
    return body


def annotation_value(tsr: bytes) -> str:
    """The annotation cosign writes: ``{"SignedRFC3161Timestamp":"<base64>"}``."""
    return json.dumps({"SignedRFC3161Timestamp": base64.b64encode(tsr).decode()}, separators=(",", ":"))


def parse_annotation(value: str) -> bytes:
    """The DER TimeStampResp inside a ``dev.sigstore.cosign/rfc3161timestamp`` annotation."""
    try:
        doc = json.loads(value)
        raw = doc["SignedRFC3161Timestamp"]
        if not isinstance(raw, str):
            raise TypeError
        return base64.b64decode(raw, validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InputError("rfc3161 timestamp annotation is malformed") from None


@dataclass(frozen=True, slots=True)
class TsaTrust:
    """The certificates a verifier trusts for timestamps (root first or last; leaf optional)."""

    roots: tuple[bytes, ...]
    intermediates: tuple[bytes, ...] = ()

    @classmethod
    def from_pem_file(cls, path: Path) -> TsaTrust:
        """Load a PEM chain: self-signed certificates are roots, the others intermediates/leaf."""
        from cryptography import x509

        try:
            certs = x509.load_pem_x509_certificates(path.read_bytes())
        except FileNotFoundError:
            raise ConfigError(f"TSA certificate chain {path} not found") from None
        except ValueError as e:
            raise ConfigError(f"TSA certificate chain {path}: {e}") from None
        from cryptography.hazmat.primitives import serialization

        roots = tuple(c.public_bytes(serialization.Encoding.DER) for c in certs if c.issuer == c.subject)
        others = tuple(c.public_bytes(serialization.Encoding.DER) for c in certs if c.issuer != c.subject)
        if not roots:
            raise ConfigError(f"TSA certificate chain {path} has no self-signed root")
        return cls(roots, others)


def verify_timestamp(tsr: bytes, data: bytes, trust: TsaTrust) -> datetime:
    """Verify the response covers ``data`` and chains to ``trust``; return its ``genTime`` (UTC)."""
    from cryptography import x509
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        resp = decode_timestamp_response(tsr)
    except ValueError:
        raise IntegrityError("rfc3161 timestamp is not a valid TimeStampResp") from None
    builder = VerifierBuilder()
    for der in trust.roots:
        builder = builder.add_root_certificate(x509.load_der_x509_certificate(der))
    for der in trust.intermediates:
        builder = builder.add_intermediate_certificate(x509.load_der_x509_certificate(der))
    try:
        builder.build().verify_message(resp, data)
    except VerificationError as e:
        raise IntegrityError(f"rfc3161 timestamp does not verify: {e}") from None
    t = resp.tst_info.gen_time
    return t if t.tzinfo else t.replace(tzinfo=UTC)
