"""``attestations:`` requirements in the trust policy's scopes, and their evaluation.

```yaml
trust:
  - scope: "registry.example.com/prod/**"
    signers: {keys: [keys/release.pub]}
    attestations:
      - type: slsaprovenance1                 # cosign --type name or a predicate-type URI
        signers: {keys: [keys/ci.pub], threshold: 1}   # default: the scope's signers
        rego: policies/provenance.rego        # file relative to the policy (package queried; deny/allow)
        cel: 'predicate.runDetails.builder.id.startsWith("https://github.com/org/")'
```

Every requirement must be met by at least one attestation (the threshold counts distinct keys that signed
attestations of that type which pass all checks). The scope is chosen by the trust policy's own evaluator
(:mod:`lockgate.trust.policy`); this module only adds the attestation half, so ``verify --policy`` and
``verify-attestation --policy`` decide alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgate.errors import ConfigError

if TYPE_CHECKING:
    from lockgate.attest.verify import PredicateCheck
    from lockgate.config import Limits
    from lockgate.oci.registry.options import RegistryOptions
    from lockgate.trust.keys.model import PublicKey
    from lockgate.trust.revocation import RevocationList


@dataclass(frozen=True, slots=True)
class AttestationRequirement:
    """One entry of a scope's ``attestations:`` list."""

    predicate_type: str
    keys: tuple[str, ...] = ()
    threshold: int = 1
    rego: str | None = None
    cel: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AttestationDecision:
    """Whether the image's attestations satisfy its scope, with one line per finding."""

    allowed: bool
    scope: str | None
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "scope": self.scope, "reasons": list(self.reasons)}


def parse_requirements(raw: Any, where: str) -> tuple[AttestationRequirement, ...]:
    """Validate a scope's ``attestations:`` list."""
    from lockgate.attest.predicates import predicate_type_uri
    from lockgate.errors import InputError

    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}.attestations must be a list")
    out = []
    for i, item in enumerate(raw):
        w = f"{where}.attestations[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise ConfigError(f"{w} needs a 'type'")
        unknown = set(item) - {"type", "signers", "rego", "cel"}
        if unknown:
            raise ConfigError(f"{w} has unknown keys: {', '.join(sorted(unknown))}")
        try:
            ptype = predicate_type_uri(item["type"])
        except InputError as e:
            raise ConfigError(f"{w}: {e}") from None
        signers = item.get("signers") or {}
        if not isinstance(signers, dict):
            raise ConfigError(f"{w}.signers must be a mapping")
        keys = signers.get("keys") or []
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(f"{w}.signers.keys must be a list of strings")
        threshold = signers.get("threshold", 1)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
            raise ConfigError(f"{w}.signers.threshold must be a positive integer")
        if keys and threshold > len(keys):
            raise ConfigError(f"{w}: threshold {threshold} exceeds the {len(keys)} keys listed")
        rego = item.get("rego")
        if rego is not None and not isinstance(rego, str):
            raise ConfigError(f"{w}.rego must be a file path or inline module")
        cel = item.get("cel") or []
        cel = [cel] if isinstance(cel, str) else cel
        if not isinstance(cel, list) or not all(isinstance(c, str) for c in cel):
            raise ConfigError(f"{w}.cel must be a string or list of strings")
        out.append(AttestationRequirement(ptype, tuple(keys), threshold, rego, tuple(cel)))
    return tuple(out)


def load_requirements(policy_path: Path) -> dict[str, tuple[AttestationRequirement, ...]]:
    """scope pattern -> its attestation requirements, from the policy file's ``trust:`` section."""
    import yaml

    from lockgate.trust.policy import load_trust_policy

    load_trust_policy(policy_path)  # validates the file and the trust section
    doc = yaml.safe_load(policy_path.read_text())
    out: dict[str, tuple[AttestationRequirement, ...]] = {}
    for i, entry in enumerate(doc.get("trust") or []):
        out[entry["scope"]] = parse_requirements(entry.get("attestations"), f"policy trust[{i}]")
    return out


def _checks(req: AttestationRequirement, base_dir: Path) -> list[PredicateCheck]:
    from lockgate.attest.policy import CelCheck, RegoCheck, load_rego

    checks: list[PredicateCheck] = [CelCheck(c) for c in req.cel]
    if req.rego:
        if "\n" in req.rego or req.rego.lstrip().startswith("package "):
            checks.append(RegoCheck(req.rego, "inline.rego"))
        else:
            p = Path(req.rego)
            checks.append(load_rego(p if p.is_absolute() else base_dir / p))
    return checks


def evaluate_attestation_policy(
    image: str,
    policy_path: Path,
    *,
    revocations: RevocationList | None = None,
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
    extra_keys: Sequence[PublicKey] = (),
    predicate_type: str | None = None,
) -> AttestationDecision:
    """Check ``image``'s attestations against the ``attestations:`` of the scope it falls in.

    ``predicate_type`` restricts the check to that type's requirements (``verify-attestation --type``).
    """
    from lockgate.attest.verify import verify_attestations
    from lockgate.oci.targets import REGISTRY, parse_target
    from lockgate.trust.image import default_identity
    from lockgate.trust.policy import TrustScope, load_trust_policy, resolve_keys

    del extra_keys  # only the policy's signers count when a policy decides
    policy = load_trust_policy(policy_path)
    reqs_by_scope = load_requirements(policy_path)
    target = parse_target(image)
    name = str(target.reference) if target.transport == REGISTRY and target.reference else default_identity(target)
    scope = policy.select(name)
    if scope is None:
        return AttestationDecision(False, None, (f"no trust scope matches {name}: denied",))
    reqs = [r for r in reqs_by_scope.get(scope.scope, ()) if predicate_type in (None, r.predicate_type)]
    if not reqs:
        why = f"scope {scope.scope!r} requires no attestations" + (
            f" of type {predicate_type}" if predicate_type else ""
        )
        return AttestationDecision(predicate_type is None, scope.scope, (why,))
    reasons: list[str] = []
    allowed = True
    for req in reqs:
        keys_scope = TrustScope(scope.scope, req.keys) if req.keys else scope
        keys = resolve_keys(keys_scope, policy.base_dir)
        if not keys:
            raise ConfigError(f"scope {scope.scope!r}: attestation {req.predicate_type} has no signer keys")
        result = verify_attestations(
            image, keys, predicate_type=req.predicate_type, revocations=revocations,
            checks=_checks(req, policy.base_dir), options=options, limits=limits,
        )  # fmt: skip
        signed_by = list(dict.fromkeys(k for c in result.passed for k in c.key_ids))
        threshold = req.threshold if req.keys else scope.threshold if scope.keys else 1
        rejected = [c for c in result.checks if not c.ok and c.predicate_type in ("", req.predicate_type)]
        rejected.sort(key=lambda c: not c.key_ids)  # signed by a trusted key but failing a check: most relevant
        reasons += [f"attestation {c.layer_digest[:19]} rejected: {c.reason}" for c in rejected]
        if len(signed_by) >= threshold:
            reasons.append(f"attestation {req.predicate_type}: {len(signed_by)} of {threshold} signers verified")
        else:
            allowed = False
            detail = "" if result.checks else f": no attestations found for {result.digest}"
            reasons.append(
                f"denied: attestation {req.predicate_type}: {len(signed_by)} of {threshold} signers verified{detail}"
            )
    if allowed:
        reasons.append(f"allowed: {len(reqs)} attestation requirement(s) met")
    else:
        first = next((r for r in reasons if r.startswith("denied")), "denied")
        rejection = next((r for r in reasons if " rejected: " in r), "")
        reasons.append(first + (f" ({rejection})" if rejection else ""))
    return AttestationDecision(allowed, scope.scope, tuple(reasons))
