"""in-toto metadata containers: the classic Metablock (``{"signed": ..., "signatures": [{"keyid", "sig"
(hex)}]}``, signatures over the canonical JSON of ``signed``) and DSSE envelopes (payload type
``application/vnd.in-toto+json``, signatures over the PAE of the exact payload bytes).

in-toto matches signatures to keys by keyid in both forms, so lockgate writes the securesystemslib keyid.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.attest.dsse import IN_TOTO_PAYLOAD_TYPE, parse_envelope, sign_envelope
from lockgate.attest.intoto.keys import IntotoKey, intoto_sign
from lockgate.errors import InputError, IntegrityError
from lockgate.trust.keys.model import Signer, canonical_json

MAX_METADATA_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Metadata:
    """Loaded link or layout metadata: the ``signed`` document, its signatures and the signed bytes."""

    signed: dict[str, Any]
    signatures: tuple[tuple[str, bytes], ...]
    """(keyid, raw signature) pairs."""
    signed_bytes: bytes
    dsse: bool = False

    @property
    def type(self) -> str:
        return str(self.signed.get("_type", ""))

    def verified_keyids(self, keys: Mapping[str, IntotoKey]) -> list[str]:
        """Keyids in ``keys`` with a valid signature (each signature is checked against its keyid's key)."""
        good: list[str] = []
        for keyid, sig in self.signatures:
            key = keys.get(keyid)
            if key is None or keyid in good:
                continue
            try:
                key.verify(self.signed_bytes, sig)
            except IntegrityError:
                continue
            good.append(keyid)
        return good


def load_metadata(data: bytes, what: str = "metadata") -> Metadata:
    """Parse Metablock or DSSE in-toto metadata."""
    if len(data) > MAX_METADATA_BYTES:
        raise InputError(f"{what} is larger than {MAX_METADATA_BYTES} bytes")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{what} is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{what} must be a JSON object")
    if "payloadType" in doc:
        env = parse_envelope(doc, allow_unsigned=True)
        if env.payload_type != IN_TOTO_PAYLOAD_TYPE:
            raise InputError(f"{what}: DSSE payloadType {env.payload_type!r} is not in-toto")
        try:
            signed = json.loads(env.payload)
        except (ValueError, UnicodeDecodeError):
            raise InputError(f"{what}: DSSE payload is not JSON") from None
        if not isinstance(signed, dict):
            raise InputError(f"{what}: DSSE payload must be an object")
        return Metadata(signed, tuple((s.keyid, s.sig) for s in env.signatures), env.pae(), dsse=True)
    signed = doc.get("signed")
    sigs = doc.get("signatures", [])
    if not isinstance(signed, dict) or not isinstance(sigs, list):
        raise InputError(f"{what}: expected 'signed' and 'signatures'")
    pairs = []
    for s in sigs:
        if not isinstance(s, dict) or not isinstance(s.get("keyid"), str) or not isinstance(s.get("sig"), str):
            raise InputError(f"{what}: malformed signature entry")
        try:
            pairs.append((s["keyid"], bytes.fromhex(s["sig"])))
        except ValueError:
            raise InputError(f"{what}: signature is not hex") from None
    try:
        signed_bytes = canonical_json(signed)
    except InputError as e:
        raise InputError(f"{what}: {e}") from None
    return Metadata(signed, tuple(pairs), signed_bytes, dsse=False)


def sign_metadata(signed: dict[str, Any], signers: Sequence[Signer], *, dsse: bool = False) -> bytes:
    """Serialise ``signed`` as a Metablock (default) or DSSE envelope signed by every signer."""
    if dsse:
        payload = canonical_json(signed)
        env = sign_envelope(IN_TOTO_PAYLOAD_TYPE, payload, signers, keyid=lambda k: k.intoto_keyid, sign=intoto_sign)
        return json.dumps(env.to_dict(), indent=1).encode() + b"\n"
    body = canonical_json(signed)
    sigs = [
        {"keyid": s.public_key.intoto_keyid, "sig": binascii.hexlify(intoto_sign(s, body)).decode()} for s in signers
    ]
    return json.dumps({"signatures": sigs, "signed": signed}, indent=1, sort_keys=True).encode() + b"\n"


def add_signatures(md: Metadata, signers: Sequence[Signer]) -> bytes:
    """Re-serialise ``md`` with signatures by ``signers`` added (existing ones are kept)."""
    if md.dsse:
        raise InputError("adding signatures to a DSSE layout is not supported; sign its unsigned template instead")
    existing = {k for k, _ in md.signatures}
    sigs = [{"keyid": k, "sig": binascii.hexlify(s).decode()} for k, s in md.signatures]
    for s in signers:
        kid = s.public_key.intoto_keyid
        if kid not in existing:
            sigs.append({"keyid": kid, "sig": binascii.hexlify(intoto_sign(s, md.signed_bytes)).decode()})
    return json.dumps({"signatures": sigs, "signed": md.signed}, indent=1, sort_keys=True).encode() + b"\n"
