"""The ``trust:`` section of the policy file and the one evaluator that applies it.

```yaml
trust:
  - scope: "registry.example.com/prod/**"     # glob over the normalised repository name
    signers:
      keys: [keys/release.pub, 3f2a...]
      identities:                             # keyless (Sigstore bundles attached as referrers)
        - {issuer: "https://token.actions.githubusercontent.com", subject_regexp: "^https://github.com/org/"}
      threshold: 2                            # distinct keys + identity entries that must be satisfied
    trusted_root: trusted_root.json           # needed for identities (relative to the policy file)
    ca_roots: pki/roots.pem                   # X.509 signing certificates; keys may list their SHA-256
    crls: [pki/intermediate.crl]              #   fingerprints; CRLs are checked
    mirrors: ["registry.example.com/staging/*"] # docker-references accepted besides the image's own
```

``*`` matches one path segment, ``**`` any number (including none); a scope naming a tag or digest
(``repo:tag``) matches the full reference. The most specific scope wins (more literal segments, then fewer
wildcards, then more literal characters); an image no scope matches is denied. Keys are file paths
(relative to the policy file), lockgate key IDs or in-toto keyids of keys in the keyring.
The same evaluator is meant for the registry gate and the admission webhook.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgate.errors import ConfigError, LockgateError
from lockgate.trust.keyless import BundleCheck, IdentityMatcher

if TYPE_CHECKING:
    from lockgate.config import Limits
    from lockgate.oci.registry.options import RegistryOptions
    from lockgate.trust.image import ImageVerification
    from lockgate.trust.keys.model import PublicKey
    from lockgate.trust.revocation import RevocationList
    from lockgate.trust.timestamp import TsaTrust

MAX_POLICY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TrustScope:
    """One ``trust:`` entry."""

    scope: str
    keys: tuple[str, ...] = ()
    threshold: int = 1
    mirrors: tuple[str, ...] = ()
    identities: tuple[IdentityMatcher, ...] = ()
    trusted_root: str | None = None
    ca_roots: str | None = None
    """PEM roots for signing certificates; ``keys`` may then name certificates by SHA-256 fingerprint."""
    crls: tuple[str, ...] = ()

    def matches(self, reference: str) -> bool:
        """True when the glob covers ``reference`` (``registry/repo[:tag][@digest]``)."""
        return _glob_match(self.scope, reference)

    @property
    def specificity(self) -> tuple[int, int, int]:
        segs = self.scope.split("/")
        literal = sum(1 for s in segs if "*" not in s)
        wild = self.scope.count("*")
        return (literal, -wild, len(self.scope.replace("*", "")))


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """The parsed ``trust:`` section; ``base_dir`` resolves relative key paths."""

    scopes: tuple[TrustScope, ...] = ()
    base_dir: Path = Path()

    def select(self, reference: str) -> TrustScope | None:
        """The most specific scope matching ``reference``, or ``None``."""
        hits = [s for s in self.scopes if s.matches(reference)]
        return max(hits, key=lambda s: s.specificity) if hits else None


@dataclass(frozen=True, slots=True)
class TrustDecision:
    """Allowed or not, which scope decided, and the reasons (each one line)."""

    allowed: bool
    scope: str | None
    reasons: tuple[str, ...]


def _segment_match(pattern: str, segment: str) -> bool:
    rx = "".join("[^/]*" if c == "*" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, segment) is not None


def _match_segments(pats: list[str], segs: list[str]) -> bool:
    if not pats:
        return not segs
    head = pats[0]
    if head == "**":
        return any(_match_segments(pats[1:], segs[i:]) for i in range(len(segs) + 1))
    return bool(segs) and _segment_match(head, segs[0]) and _match_segments(pats[1:], segs[1:])


def _glob_match(pattern: str, reference: str) -> bool:
    target = reference if _pattern_has_identifier(pattern) else _strip_identifier(reference)
    return _match_segments(pattern.split("/"), target.split("/"))


def _pattern_has_identifier(pattern: str) -> bool:
    last = pattern.rsplit("/", 1)[-1]
    return "@" in pattern or ":" in last


def _strip_identifier(reference: str) -> str:
    name = reference.split("@", 1)[0]
    last = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > last else name


def parse_trust_section(section: Any, base_dir: Path) -> TrustPolicy:
    """Validate the ``trust:`` list from a loaded policy document."""
    if section is None:
        return TrustPolicy((), base_dir)
    if not isinstance(section, list):
        raise ConfigError("policy 'trust' must be a list of scopes")
    scopes = []
    for i, entry in enumerate(section):
        where = f"policy trust[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("scope"), str) or not entry["scope"]:
            raise ConfigError(f"{where} needs a 'scope' string")
        unknown = set(entry) - {"scope", "signers", "mirrors", "attestations", "trusted_root", "ca_roots", "crls"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        signers = entry.get("signers") or {}
        if not isinstance(signers, dict):
            raise ConfigError(f"{where}.signers must be a mapping")
        keys = signers.get("keys") or []
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(f"{where}.signers.keys must be a list of strings")
        threshold = signers.get("threshold", 1)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
            raise ConfigError(f"{where}.signers.threshold must be a positive integer")
        identities = _parse_identities(signers.get("identities"), where)
        if (keys or identities) and threshold > len(keys) + len(identities):
            raise ConfigError(
                f"{where}: threshold {threshold} exceeds the {len(keys) + len(identities)} signers listed"
            )
        trusted_root = entry.get("trusted_root")
        if trusted_root is not None and not isinstance(trusted_root, str):
            raise ConfigError(f"{where}.trusted_root must be a path")
        if identities and not trusted_root:
            raise ConfigError(f"{where}: signers.identities need a trusted_root")
        mirrors = entry.get("mirrors") or []
        if not isinstance(mirrors, list) or not all(isinstance(m, str) for m in mirrors):
            raise ConfigError(f"{where}.mirrors must be a list of strings")
        ca_roots = entry.get("ca_roots")
        crls = entry.get("crls") or []
        if ca_roots is not None and not isinstance(ca_roots, str):
            raise ConfigError(f"{where}.ca_roots must be a path")
        if not isinstance(crls, list) or not all(isinstance(c, str) for c in crls):
            raise ConfigError(f"{where}.crls must be a list of paths")
        if crls and not ca_roots:
            raise ConfigError(f"{where}: crls need ca_roots")
        scopes.append(
            TrustScope(
                entry["scope"], tuple(keys), threshold, tuple(mirrors), identities, trusted_root, ca_roots, tuple(crls)
            )
        )
    return TrustPolicy(tuple(scopes), base_dir)


def _parse_identities(raw: Any, where: str) -> tuple[IdentityMatcher, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}.signers.identities must be a list")
    out = []
    for j, item in enumerate(raw):
        allowed = {"issuer", "issuer_regexp", "subject", "subject_regexp"}
        if not isinstance(item, dict) or set(item) - allowed or not all(isinstance(v, str) for v in item.values()):
            raise ConfigError(f"{where}.signers.identities[{j}] takes string keys {', '.join(sorted(allowed))}")
        try:
            out.append(
                IdentityMatcher(
                    item.get("subject"), item.get("subject_regexp"), item.get("issuer"), item.get("issuer_regexp")
                )
            )
        except ConfigError as e:
            raise ConfigError(f"{where}.signers.identities[{j}]: {e}") from None
    return tuple(out)


def load_trust_policy(path: Path) -> TrustPolicy:
    """Read the policy file's ``trust:`` section (YAML or JSON)."""
    import yaml

    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise ConfigError(f"policy {path} is larger than {MAX_POLICY_BYTES} bytes")
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"policy file {path} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read policy {path}: {e}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(text, Loader=loader)  # noqa: S506 - safe loader
    except yaml.YAMLError as e:
        raise ConfigError(f"policy {path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"policy {path} is not a mapping")
    return parse_trust_section(doc.get("trust"), path.parent)


def resolve_keys(scope: TrustScope, base_dir: Path) -> list[PublicKey]:
    """Load the scope's keys (paths relative to the policy; IDs from the keyring)."""
    from lockgate.trust.keys.resolve import load_verifier

    out = []
    for k in scope.keys:
        p = Path(k)
        spec = str(base_dir / p) if not p.is_absolute() and (base_dir / p).exists() else k
        try:
            out.append(load_verifier(spec))
        except LockgateError as e:
            if scope.ca_roots and _FINGERPRINT.fullmatch(k.lower()):
                continue  # a certificate named by fingerprint; matched after chain validation
            raise ConfigError(f"trust scope {scope.scope!r}: key {k}: {e}") from None
    return out


_FINGERPRINT = re.compile(r"(sha256:)?[0-9a-f]{64}")


def evaluate_trust(
    reference: str,
    verification: ImageVerification | None,
    policy: TrustPolicy,
    keys: Sequence[PublicKey] = (),
    bundles: Sequence[BundleCheck] = (),
) -> TrustDecision:
    """Decide whether ``reference`` may be used, given its verified signatures.

    ``keys`` are the scope's resolved keys (from :func:`resolve_keys`) and ``bundles`` the verified keyless
    bundles; each listed key and each identity entry counts once towards the threshold.
    """
    scope = policy.select(reference)
    if scope is None:
        return TrustDecision(False, None, (f"no trust scope matches {reference}: denied",))
    if not scope.keys and not scope.identities:
        return TrustDecision(True, scope.scope, (f"scope {scope.scope!r} requires no signatures",))
    allowed_ids = {k.key_id for k in keys}
    fingerprints = {k.lower().removeprefix("sha256:") for k in scope.keys} if scope.ca_roots else set()
    checks = verification.checks if verification is not None else ()
    good = list(
        dict.fromkeys(
            c.key_id if c.key_id in allowed_ids else c.certificate
            for c in checks
            if c.ok and (c.key_id in allowed_ids or (c.certificate and c.certificate in fingerprints))
        )
    )
    reasons = [f"scope {scope.scope!r}: signature by key/certificate {kid} verified" for kid in good]
    reasons += [f"signature {c.layer_digest[:19]} rejected: {c.reason}" for c in checks if not c.ok]
    satisfied = len(good)
    for m in scope.identities:
        hit = next((b for b in bundles if b.ok and m.matches(b.identity, b.issuer)), None)
        if hit is not None:
            satisfied += 1
            reasons.append(f"scope {scope.scope!r}: keyless signature by {hit.identity} ({hit.issuer}) verified")
    reasons += [f"bundle {b.referrer[:19]} rejected: {b.reason}" for b in bundles if not b.ok]
    if satisfied >= scope.threshold:
        reasons.append(f"allowed: {satisfied} of {scope.threshold} required signers verified")
        return TrustDecision(True, scope.scope, tuple(reasons))
    if not checks and not bundles:
        reasons.append(f"denied: {reference} is not signed")
    else:
        reasons.append(f"denied: {satisfied} of {scope.threshold} required signers verified")
    return TrustDecision(False, scope.scope, tuple(reasons))


def evaluate_image(
    image: str,
    policy_path: Path,
    *,
    revocations: RevocationList | None = None,
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
    annotations: dict[str, str] | None = None,
    extra_keys: Sequence[PublicKey] = (),
    tsa: TsaTrust | None = None,
) -> tuple[TrustDecision, ImageVerification | None]:
    """Load the policy, verify ``image`` against the winning scope's keys, and decide."""
    from lockgate.oci.targets import REGISTRY, parse_target
    from lockgate.trust.image import default_identity, verify_image

    policy = load_trust_policy(policy_path)
    target = parse_target(image)
    name = str(target.reference) if target.transport == REGISTRY and target.reference else default_identity(target)
    scope = policy.select(name)
    if scope is None or not (scope.keys or scope.identities):
        decision = evaluate_trust(name, None, policy)
        return _with_attestations(decision, image, policy_path, revocations, options, limits), None
    del extra_keys  # only the policy's signers count when a policy decides
    keys = resolve_keys(scope, policy.base_dir)
    result = None
    cert_trust = None
    if scope.ca_roots:
        from lockgate.trust.x509chain import CertTrust

        def rel(p: str) -> Path:
            return Path(p) if Path(p).is_absolute() else policy.base_dir / p

        cert_trust = CertTrust.from_files(rel(scope.ca_roots), [rel(c) for c in scope.crls])
    if keys or cert_trust is not None:
        result = verify_image(
            image, keys, annotations=annotations, mirrors=scope.mirrors, revocations=revocations,
            options=options, limits=limits, tsa=tsa, cert_trust=cert_trust,
        )  # fmt: skip
    bundles: list[BundleCheck] = []
    if scope.identities and scope.trusted_root:
        from lockgate.trust.keyless import load_trusted_root, verify_image_bundles

        root_path = Path(scope.trusted_root)
        root = load_trusted_root(root_path if root_path.is_absolute() else policy.base_dir / root_path)
        anyone = IdentityMatcher(identity_regexp=".*", issuer_regexp=".*")
        _, bundles = verify_image_bundles(image, root, anyone, options=options)
    decision = evaluate_trust(name, result, policy, keys, bundles)
    return _with_attestations(decision, image, policy_path, revocations, options, limits), result


def _with_attestations(
    decision: TrustDecision,
    image: str,
    policy_path: Path,
    revocations: RevocationList | None,
    options: RegistryOptions | None,
    limits: Limits | None,
) -> TrustDecision:
    """Hook for the scope's ``attestations:`` requirements (see :mod:`lockgate.attest.trustpolicy`)."""
    if not decision.allowed or decision.scope is None:
        return decision
    from lockgate.attest.trustpolicy import evaluate_attestation_policy, load_requirements

    if not load_requirements(policy_path).get(decision.scope):
        return decision
    att = evaluate_attestation_policy(image, policy_path, revocations=revocations, options=options, limits=limits)
    return TrustDecision(att.allowed, decision.scope, decision.reasons + att.reasons)
