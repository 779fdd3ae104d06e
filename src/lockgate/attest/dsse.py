"""DSSE (Dead Simple Signing Envelope) v1: parse, sign and verify envelopes.

The signature covers the pre-authentication encoding ``DSSEv1 <len(type)> <type> <len(payload)> <payload>``
(:func:`lockgate.trust.bundle.pae`, shared with the trust package). An envelope may carry several
signatures; each ``keyid`` is only a hint (possibly empty, as cosign writes it), so verification tries every
trusted key on every signature. The payload bytes that were signed are kept as decoded from the envelope and
never re-serialised.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.errors import InputError, IntegrityError
from lockgate.trust.bundle import pae
from lockgate.trust.keys.model import PublicKey, Signer

__all__ = [
    "ENVELOPE_MEDIA_TYPE",
    "IN_TOTO_PAYLOAD_TYPE",
    "Envelope",
    "EnvelopeSignature",
    "pae",
    "parse_envelope",
    "sign_envelope",
    "verify_envelope",
]

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
MAX_ENVELOPE_BYTES = 32 * 1024 * 1024
MAX_SIGNATURES = 64


@dataclass(frozen=True, slots=True)
class EnvelopeSignature:
    """One signature of an envelope: the raw signature bytes and the (untrusted) keyid hint."""

    sig: bytes
    keyid: str = ""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A DSSE envelope; ``payload`` is exactly the signed bytes."""

    payload_type: str
    payload: bytes
    signatures: tuple[EnvelopeSignature, ...] = ()

    def pae(self) -> bytes:
        """The bytes every signature covers."""
        return pae(self.payload_type, self.payload)

    def to_dict(self) -> dict[str, Any]:
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode(),
            "signatures": [{"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in self.signatures],
        }

    def to_json(self) -> bytes:
        """Compact JSON, the form cosign stores in ``.att`` layers."""
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"DSSE envelope: {what} must be a base64 string")
    text = value.strip()
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"DSSE envelope: {what} is not valid base64") from None


def parse_envelope(data: bytes | str | dict[str, Any], *, allow_unsigned: bool = False) -> Envelope:
    """Parse an envelope from JSON (bytes/str) or an already decoded object; malformed input is an InputError.

    ``allow_unsigned`` accepts an empty ``signatures`` list (unsigned in-toto layout templates).
    """
    if isinstance(data, bytes | str):
        if len(data) > MAX_ENVELOPE_BYTES:
            raise InputError(f"DSSE envelope larger than {MAX_ENVELOPE_BYTES} bytes")
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"DSSE envelope is not JSON: {e}") from None
    else:
        doc = data
    if not isinstance(doc, dict):
        raise InputError("DSSE envelope must be a JSON object")
    ptype = doc.get("payloadType")
    if not isinstance(ptype, str) or not ptype:
        raise InputError("DSSE envelope: payloadType missing")
    payload = _b64(doc.get("payload"), "payload")
    sigs_raw = doc.get("signatures")
    if not isinstance(sigs_raw, list) or (not sigs_raw and not allow_unsigned):
        raise InputError("DSSE envelope: no signatures")
    if len(sigs_raw) > MAX_SIGNATURES:
        raise InputError(f"DSSE envelope: more than {MAX_SIGNATURES} signatures")
    sigs = []
    for s in sigs_raw:
        if not isinstance(s, dict):
            raise InputError("DSSE envelope: signature entries must be objects")
        keyid = s.get("keyid", "")
        if not isinstance(keyid, str):
            raise InputError("DSSE envelope: keyid must be a string")
        sigs.append(EnvelopeSignature(_b64(s.get("sig"), "sig"), keyid))
    return Envelope(ptype, payload, tuple(sigs))


def sign_envelope(
    payload_type: str,
    payload: bytes,
    signers: Sequence[Signer],
    *,
    keyid: Callable[[PublicKey], str] | None = None,
    sign: Callable[[Signer, bytes], bytes] | None = None,
) -> Envelope:
    """Sign ``payload`` with every signer; ``keyid`` picks the hint (default: lockgate's key ID).

    ``sign`` overrides how a signer signs the PAE (in-toto uses securesystemslib's schemes).
    """
    message = pae(payload_type, payload)
    sigs = []
    for s in signers:
        raw = sign(s, message) if sign else s.sign(message)
        kid = keyid(s.public_key) if keyid else s.public_key.key_id
        sigs.append(EnvelopeSignature(raw, kid))
    return Envelope(payload_type, payload, tuple(sigs))


def verify_envelope(
    env: Envelope,
    keys: Sequence[PublicKey],
    *,
    threshold: int = 1,
    verify: Callable[[PublicKey, bytes, bytes], None] | None = None,
) -> list[PublicKey]:
    """Return the distinct keys with a valid signature; raise IntegrityError when fewer than ``threshold``.

    Each key counts once however many signatures it made. ``verify`` overrides the signature check.
    """
    if threshold < 1:
        raise InputError("DSSE threshold must be at least 1")
    message = env.pae()
    good: dict[str, PublicKey] = {}
    for s in env.signatures:
        # keyid hints first, but every key is tried: hints are unauthenticated and often empty
        ordered = sorted(keys, key=lambda k: not (s.keyid and k.matches(s.keyid)))
        for k in ordered:
            if k.key_id in good:
                continue
            try:
                (verify or _default_verify)(k, message, s.sig)
            except IntegrityError:
                continue
            good[k.key_id] = k
            break
    if len(good) < threshold:
        if not good:
            raise IntegrityError("no DSSE signature verifies with the given key(s)")
        raise IntegrityError(f"DSSE signatures from {len(good)} key(s), {threshold} required")
    return list(good.values())


def _default_verify(key: PublicKey, message: bytes, sig: bytes) -> None:
    """Verify with the key's usual schemes; ECDSA signatures may also be raw ``r||s`` (the DSSE test vector)."""
    try:
        key.verify(message, sig)
    except IntegrityError:
        der = raw_ecdsa_to_der(key, sig)
        if der is None:
            raise
        key.verify(message, der)


def raw_ecdsa_to_der(key: PublicKey, sig: bytes) -> bytes | None:
    """DER-encode a raw ``r||s`` ECDSA signature for ``key``'s curve; None when it is not one."""
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    if not isinstance(key.key, ec.EllipticCurvePublicKey):
        return None
    n = (key.key.curve.key_size + 7) // 8
    if len(sig) != 2 * n:
        return None
    return utils.encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
