"""Key-based Sigstore bundles (v0.3) for image signatures: cosign v3's default storage, written and read.

Shape (protobuf-specs JSON; cosign v3 ``sign --key`` with ``--new-bundle-format``)::

    {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
     "verificationMaterial": {"publicKey": {"hint": "<lockgate key id>"},
                              "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": b64}]}},
     "dsseEnvelope": {"payload": b64(statement), "payloadType": "application/vnd.in-toto+json",
                      "signatures": [{"sig": b64, "keyid": ""}]}}

The statement is an in-toto v1 Statement whose subject is the manifest digest and whose predicate type is
``https://sigstore.dev/cosign/sign/v1``. With no transparency log, the signed time comes from an RFC 3161
timestamp over the DSSE signature, so writing a bundle requires a TSA. The bundle is attached as an OCI 1.1
referrer (artifact type ``application/vnd.dev.sigstore.bundle.v0.3+json``). cosign verifies it with
``cosign verify --key K.pub --insecure-ignore-tlog --use-signed-timestamps --timestamp-certificate-chain
CHAIN.pem REF`` (or a ``--trusted-root`` that lists the TSA).

``sigstore-python`` only reads certificate-based bundles, so the key-based ones are handled here.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from lockgate.errors import InputError, IntegrityError
from lockgate.trust.keyless import BUNDLE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, SIGN_PREDICATE
from lockgate.trust.keys.model import PublicKey, Signer

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MAX_BUNDLE_BYTES = 4 * 1024 * 1024


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding (``DSSEv1 <len> <type> <len> <payload>``)."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def make_statement(name: str, digest: str) -> bytes:
    """The in-toto statement cosign v3 signs for an image."""
    algo, _, hexpart = digest.partition(":")
    doc = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {algo: hexpart}}],
        "predicateType": SIGN_PREDICATE,
        "predicate": {},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def sign_statement(statement: bytes, signer: Signer) -> bytes:
    """The raw DSSE signature over ``statement``."""
    return signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, statement))


def assemble_bundle(statement: bytes, key_id: str, signature: bytes, timestamp: bytes | None) -> bytes:
    """The bundle JSON for a signed statement (``timestamp``: DER TimeStampResp over ``signature``)."""
    material: dict[str, Any] = {"publicKey": {"hint": key_id}}
    if timestamp is not None:
        material["timestampVerificationData"] = {
            "rfc3161Timestamps": [{"signedTimestamp": base64.b64encode(timestamp).decode()}]
        }
    doc = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material,
        "dsseEnvelope": {
            "payload": base64.b64encode(statement).decode(),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
        },
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def statement_subject_names(payload: bytes) -> list[str]:
    """The subject names of a statement (empty when unreadable)."""
    try:
        st = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return []
    subjects = st.get("subject") if isinstance(st, dict) else None
    return [str(s.get("name", "")) for s in subjects or [] if isinstance(s, dict) and s.get("name")]


@dataclass(frozen=True, slots=True)
class KeyedBundle:
    """The parts of a key-based bundle a verifier needs."""

    payload_type: str
    payload: bytes
    signatures: tuple[bytes, ...]
    timestamps: tuple[bytes, ...]
    hint: str = ""


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"bundle {what} is not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"bundle {what} is not base64") from None


def _keyed_document(raw: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bundle document and its ``verificationMaterial``, for key-based bundles only."""
    if len(raw) > MAX_BUNDLE_BYTES:
        raise InputError(f"bundle is larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("bundle is not JSON") from None
    if not isinstance(doc, dict) or not str(doc.get("mediaType", "")).startswith("application/vnd.dev.sigstore.bundle"):
        raise InputError("not a Sigstore bundle")
    material = doc.get("verificationMaterial")
    if not isinstance(material, dict) or "publicKey" not in material:
        raise InputError("bundle is certificate-based (verify it with --trusted-root and identities)")
    return doc, material


def _timestamps(material: dict[str, Any]) -> tuple[bytes, ...]:
    """The RFC 3161 timestamps of ``verificationMaterial`` (at most 32)."""
    tvd = material.get("timestampVerificationData") or {}
    stamps = tvd.get("rfc3161Timestamps") or [] if isinstance(tvd, dict) else []
    if not isinstance(stamps, list) or len(stamps) > 32:
        raise InputError("bundle has too many RFC 3161 timestamps")
    return tuple(_b64(t.get("signedTimestamp") if isinstance(t, dict) else None, "timestamp") for t in stamps)


def parse_keyed_bundle(raw: bytes) -> KeyedBundle:
    """Parse a bundle with a DSSE envelope; certificate-based bundles are refused (use keyless verification)."""
    doc, material = _keyed_document(raw)
    env = doc.get("dsseEnvelope")
    if not isinstance(env, dict):
        raise InputError("bundle holds no DSSE envelope")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs or len(sigs) > 16:
        raise InputError("bundle DSSE envelope needs 1-16 signatures")
    hint = material["publicKey"].get("hint", "") if isinstance(material["publicKey"], dict) else ""
    return KeyedBundle(
        payload_type=str(env.get("payloadType", "")),
        payload=_b64(env.get("payload"), "payload"),
        signatures=tuple(_b64(s.get("sig") if isinstance(s, dict) else None, "signature") for s in sigs),
        timestamps=_timestamps(material),
        hint=str(hint),
    )


def verify_keyed_bundle(bundle: KeyedBundle, keys: list[PublicKey], digest: str) -> tuple[PublicKey, bytes]:
    """Check the DSSE signature with one of ``keys`` and that the statement signs ``digest``.

    Returns the key and the raw signature that verified (the RFC 3161 timestamp covers that signature).
    """
    if bundle.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise IntegrityError(f"bundle payload type {bundle.payload_type!r} is not an in-toto statement")
    message = pae(bundle.payload_type, bundle.payload)
    for sig in bundle.signatures:
        for key in keys:
            try:
                key.verify(message, sig)
            except IntegrityError:
                continue
            _check_statement(bundle.payload, digest)
            return key, sig
    raise IntegrityError("bundle signature does not verify with any given key")


def _check_statement(payload: bytes, digest: str) -> None:
    try:
        st = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise IntegrityError("bundle statement is not JSON") from None
    if not isinstance(st, dict):
        raise IntegrityError("bundle statement is not an object")
    if st.get("predicateType") != SIGN_PREDICATE:
        raise IntegrityError(f"predicate type {st.get('predicateType')!r} is not {SIGN_PREDICATE!r}")
    algo, _, hexpart = digest.partition(":")
    raw_subjects = st.get("subject")
    subjects: list[Any] = raw_subjects if isinstance(raw_subjects, list) else []
    if not any(isinstance(s, dict) and isinstance(s.get("digest"), dict) and s["digest"].get(algo) == hexpart
               for s in subjects):  # fmt: skip
        raise IntegrityError(f"bundle statement does not name {digest} as a subject")


# -- blobs: message-signature bundles (cosign sign-blob --bundle, new format) --------------------------
def assemble_blob_bundle(file_sha256: bytes, key_id: str, signature: bytes, timestamp: bytes | None) -> bytes:
    """A v0.3 bundle with a ``messageSignature`` over a file whose SHA-256 is ``file_sha256``."""
    material: dict[str, Any] = {"publicKey": {"hint": key_id}}
    if timestamp is not None:
        material["timestampVerificationData"] = {
            "rfc3161Timestamps": [{"signedTimestamp": base64.b64encode(timestamp).decode()}]
        }
    doc = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material,
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": base64.b64encode(file_sha256).decode()},
            "signature": base64.b64encode(signature).decode(),
        },
    }
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class BlobBundle:
    """The parts of a key-based message-signature bundle."""

    digest: bytes
    signature: bytes
    timestamps: tuple[bytes, ...]


def parse_blob_bundle(raw: bytes) -> BlobBundle:
    """Parse a key-based bundle holding a ``messageSignature`` with a SHA-256 digest."""
    doc, material = _keyed_document(raw)
    ms = doc.get("messageSignature")
    if not isinstance(ms, dict):
        raise InputError("bundle holds no messageSignature")
    md = ms.get("messageDigest")
    if not isinstance(md, dict) or md.get("algorithm") != "SHA2_256":
        raise InputError("bundle messageDigest must be SHA2_256")
    return BlobBundle(
        digest=_b64(md.get("digest"), "messageDigest"),
        signature=_b64(ms.get("signature"), "signature"),
        timestamps=_timestamps(material),
    )
