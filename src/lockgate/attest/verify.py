"""Verify the attestations of an image: DSSE signature by a trusted, unrevoked key; an in-toto Statement
whose subject is this image's digest; the requested predicate type; a valid predicate; optional policy checks.

Each envelope gets a one-line outcome; the image passes when at least one envelope of the requested type
passes every check. The statement is parsed from the exact payload bytes that were signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from lockgate.attest.attach import PREDICATE_ANNOTATION, StoredAttestation, find_attestations
from lockgate.attest.dsse import IN_TOTO_PAYLOAD_TYPE, parse_envelope, verify_envelope
from lockgate.attest.predicates import validate_predicate
from lockgate.attest.statement import Statement, parse_statement
from lockgate.config import Limits
from lockgate.errors import InputError, IntegrityError
from lockgate.oci.registry.options import RegistryOptions
from lockgate.trust.keys.model import PublicKey
from lockgate.trust.revocation import RevocationList

if TYPE_CHECKING:
    from lockgate.oci.registry.client import RegistryClient


class PredicateCheck(Protocol):
    """A policy check over a verified statement (Rego or CEL; see :mod:`lockgate.attest.policy`)."""

    def evaluate(self, statement: dict[str, Any]) -> str | None:
        """``None`` when the statement passes, else a one-line reason."""
        ...


@dataclass(frozen=True, slots=True)
class AttestationCheck:
    """The outcome for one stored envelope."""

    layer_digest: str
    source: str
    ok: bool = False
    reason: str = ""
    key_ids: tuple[str, ...] = ()
    predicate_type: str = ""
    statement: Statement | None = None


@dataclass(frozen=True, slots=True)
class AttestationVerification:
    """Every attestation found for one image and what became of it."""

    reference: str
    digest: str
    predicate_type: str | None
    checks: tuple[AttestationCheck, ...] = field(default=())

    @property
    def passed(self) -> tuple[AttestationCheck, ...]:
        return tuple(c for c in self.checks if c.ok)

    def failure_reason(self) -> str:
        """A one-line reason for the failure (the most relevant check's)."""
        if not self.checks:
            return f"no attestations found for {self.digest}"
        wanted = [c for c in self.checks if self.predicate_type in (None, c.predicate_type)]
        pool = wanted or list(self.checks)
        return pool[0].reason or "attestation rejected"

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "predicateType": self.predicate_type,
            "verified": len(self.passed),
            "attestations": [
                {
                    "layer": c.layer_digest,
                    "source": c.source,
                    "ok": c.ok,
                    "reason": c.reason,
                    "key_ids": list(c.key_ids),
                    "predicateType": c.predicate_type,
                    "statement": c.statement.to_dict() if c.ok and c.statement else None,
                }
                for c in self.checks
            ],
        }


def check_envelope(
    data: bytes,
    digest: str,
    keys: Sequence[PublicKey],
    *,
    predicate_type: str | None = None,
    revocations: RevocationList | None = None,
    checks: Sequence[PredicateCheck] = (),
    threshold: int = 1,
    layer_digest: str = "",
    source: str = "",
) -> AttestationCheck:
    """Verify one serialized DSSE envelope as an attestation of ``digest``."""

    def fail(reason: str, **kw: Any) -> AttestationCheck:
        return AttestationCheck(layer_digest, source, ok=False, reason=reason, **kw)

    try:
        env = parse_envelope(data)
    except InputError as e:
        return fail(str(e))
    try:
        good = verify_envelope(env, keys, threshold=threshold)
    except (IntegrityError, InputError) as e:
        return fail(f"{e} (tampered payload or payloadType, or wrong key)")
    kids = tuple(k.key_id for k in good)
    if revocations is not None:
        live = [k for k in good if revocations.check(k, None) is None]
        if len(live) < threshold:
            reason = revocations.check(good[0], None) or "key revoked"
            return fail(reason, key_ids=kids)
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE:
        return fail(f"payloadType {env.payload_type!r} is not {IN_TOTO_PAYLOAD_TYPE}", key_ids=kids)
    try:
        st = parse_statement(env.payload)
    except InputError as e:
        return fail(str(e), key_ids=kids)
    common: dict[str, Any] = {"key_ids": kids, "predicate_type": st.predicate_type, "statement": st}
    if predicate_type is not None and st.predicate_type != predicate_type:
        return fail(f"predicate type {st.predicate_type}, not {predicate_type}", **common)
    if not st.names_digest(digest):
        names = ", ".join(f"{s.name}@{s.digest_map().get('sha256', '?')[:12]}" for s in st.subjects[:3])
        return fail(f"statement subject ({names}) does not name {digest} (replayed attestation?)", **common)
    try:
        validate_predicate(st.predicate_type, st.predicate)
    except InputError as e:
        return fail(str(e), **common)
    doc = st.to_dict()
    for c in checks:
        why = c.evaluate(doc)
        if why:
            return fail(why, **common)
    return AttestationCheck(layer_digest, source, ok=True, **common)


def verify_attestations(
    target_text: str,
    keys: Sequence[PublicKey],
    *,
    predicate_type: str | None = None,
    revocations: RevocationList | None = None,
    checks: Sequence[PredicateCheck] = (),
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
    client: RegistryClient | None = None,
) -> AttestationVerification:
    """Check every attestation stored for the image ``target_text`` names (``client``: reuse a registry client)."""
    digest, found = find_attestations(target_text, options=options, limits=limits, client=client)
    results = [_check_stored(a, digest, keys, predicate_type, revocations, checks) for a in found]
    # requested type first, so the failure reason is the most relevant one
    results.sort(key=lambda c: (c.ok is False, predicate_type is not None and c.predicate_type != predicate_type))
    return AttestationVerification(target_text, digest, predicate_type, tuple(results))


def _check_stored(
    a: StoredAttestation,
    digest: str,
    keys: Sequence[PublicKey],
    predicate_type: str | None,
    revocations: RevocationList | None,
    checks: Sequence[PredicateCheck],
) -> AttestationCheck:
    if a.error:
        return AttestationCheck(
            a.layer.digest, a.source, reason=a.error, predicate_type=a.layer.annotation(PREDICATE_ANNOTATION) or ""
        )
    res = check_envelope(
        a.data,
        digest,
        keys,
        predicate_type=predicate_type,
        revocations=revocations,
        checks=checks,
        layer_digest=a.layer.digest,
        source=a.source,
    )
    if not res.predicate_type:
        # unverified envelopes: the layer annotation (unauthenticated) only steers which reason is reported
        res = replace(res, predicate_type=a.layer.annotation(PREDICATE_ANNOTATION) or "")
    return res
