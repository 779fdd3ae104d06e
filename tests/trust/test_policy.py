"""Trust policy: scope matching table, most-specific-wins, thresholds, validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lockgate.errors import ConfigError
from lockgate.trust.image import ImageVerification, SignatureCheck
from lockgate.trust.keys.model import PublicKey
from lockgate.trust.policy import TrustScope, evaluate_trust, load_trust_policy, parse_trust_section


@pytest.mark.parametrize(
    ("pattern", "reference", "expected"),
    [
        ("registry.example.com/prod/*", "registry.example.com/prod/app:v1", True),
        ("registry.example.com/prod/*", "registry.example.com/prod/team/app:v1", False),
        ("registry.example.com/prod/**", "registry.example.com/prod/team/app:v1", True),
        ("registry.example.com/prod/**", "registry.example.com/prod", True),
        ("registry.example.com/prod/**", "registry.example.com/production/app", False),
        ("registry.example.com/**/app", "registry.example.com/a/b/c/app@sha256:" + "0" * 64, True),
        ("registry.example.com/**/app", "registry.example.com/app", True),
        ("**", "docker.io/library/alpine:3.20", True),
        ("docker.io/library/alpine", "docker.io/library/alpine:3.20", True),
        ("docker.io/library/alpine:3.20", "docker.io/library/alpine:3.20", True),
        ("docker.io/library/alpine:3.20", "docker.io/library/alpine:3.21", False),
        ("docker.io/library/alp*", "docker.io/library/alpine:latest", True),
        ("docker.io/*/alpine", "docker.io/library/alpine", True),
        ("*/library/alpine", "docker.io/library/alpine", True),
        ("*", "docker.io/library/alpine", False),
        ("localhost:5000/*", "localhost:5000/app:v1", True),
    ],
)
def test_scope_matching(pattern: str, reference: str, expected: bool) -> None:
    assert TrustScope(pattern).matches(reference) is expected


def test_most_specific_scope_wins() -> None:
    policy = parse_trust_section(
        [
            {"scope": "**", "signers": {"keys": ["a" * 64]}},
            {"scope": "registry.example.com/**", "signers": {"keys": ["b" * 64]}},
            {"scope": "registry.example.com/prod/*", "signers": {"keys": ["c" * 64]}},
            {"scope": "registry.example.com/prod/web", "signers": {"keys": ["d" * 64]}},
        ],
        Path(),
    )
    assert (s := policy.select("registry.example.com/prod/web:1")) and s.keys == ("d" * 64,)
    assert (s := policy.select("registry.example.com/prod/api:1")) and s.keys == ("c" * 64,)
    assert (s := policy.select("registry.example.com/dev/api:1")) and s.keys == ("b" * 64,)
    assert (s := policy.select("quay.io/x/y")) and s.keys == ("a" * 64,)


def _check(key: PublicKey | None, ok: bool, reason: str = "") -> SignatureCheck:
    return SignatureCheck("sha256:" + "1" * 64, "tag", key.key_id if key else "", ok, reason)


def test_evaluate_threshold_and_denials() -> None:
    k1, k2, k3 = (PublicKey(ec.generate_private_key(ec.SECP256R1()).public_key()) for _ in range(3))
    policy = parse_trust_section(
        [{"scope": "reg.example/prod/*", "signers": {"keys": [k1.key_id, k2.key_id], "threshold": 2}}], Path()
    )
    ref = "reg.example/prod/app:v1"
    both = ImageVerification(ref, "sha256:" + "1" * 64, ref, (_check(k1, True), _check(k2, True)))
    assert evaluate_trust(ref, both, policy, [k1, k2]).allowed
    one = ImageVerification(ref, "sha256:" + "1" * 64, ref, (_check(k1, True), _check(k1, True)))
    d = evaluate_trust(ref, one, policy, [k1, k2])
    assert not d.allowed and "1 of 2" in d.reasons[-1]
    # a valid signature by a key the scope does not list does not count
    outsider = ImageVerification(ref, "sha256:" + "1" * 64, ref, (_check(k1, True), _check(k3, True)))
    assert not evaluate_trust(ref, outsider, policy, [k1, k2]).allowed
    unsigned = ImageVerification(ref, "sha256:" + "1" * 64, ref, ())
    d = evaluate_trust(ref, unsigned, policy, [k1, k2])
    assert not d.allowed and "not signed" in d.reasons[-1]
    d = evaluate_trust("reg.example/dev/app:v1", both, policy, [k1, k2])
    assert not d.allowed and d.scope is None and "no trust scope matches" in d.reasons[0]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"scope": "x"}, "must be a list"),
        ([{"signers": {}}], "needs a 'scope'"),
        ([{"scope": "x", "signers": {"keys": ["a"], "threshold": 2}}], "exceeds"),
        ([{"scope": "x", "signers": {"keys": ["a"], "threshold": 0}}], "positive integer"),
        ([{"scope": "x", "colour": "red"}], "unknown keys"),
        ([{"scope": "x", "signers": {"keys": "a"}}], "list of strings"),
    ],
)
def test_invalid_sections(section: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_trust_section(section, Path())


def test_load_policy_file(tmp_path: Path) -> None:
    p = tmp_path / "policy.yaml"
    p.write_text(
        'vulnerabilities: {fail_on: HIGH}\ntrust:\n  - {scope: "a/**", signers: {keys: [k.pub], threshold: 1}}\n'
    )
    pol = load_trust_policy(p)
    assert pol.base_dir == tmp_path and pol.scopes[0].keys == ("k.pub",)
    (tmp_path / "bad.yaml").write_text("trust: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_trust_policy(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="not found"):
        load_trust_policy(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("target", "identity"),
    [
        ("alpine", "index.docker.io/library/alpine"),
        ("docker.io/bitnami/redis:7", "index.docker.io/bitnami/redis"),
        ("ghcr.io/org/app@sha256:" + "a" * 64, "ghcr.io/org/app"),
        ("localhost:5000/team/app:v1", "localhost:5000/team/app"),
    ],
)
def test_signed_identity_matches_cosign(target: str, identity: str) -> None:
    """cosign signs go-containerregistry's ``Repository.Name()`` (Docker Hub as ``index.docker.io``)."""
    from lockgate.oci.targets import parse_target
    from lockgate.trust.image import default_identity
    from lockgate.trust.simplesigning import same_repository

    assert default_identity(parse_target(target)) == identity
    assert same_repository(identity, target)
    assert not same_repository(identity, "quay.io/other/thing")


def test_same_repository_equivalences() -> None:
    from lockgate.trust.simplesigning import same_repository

    assert same_repository("docker.io/library/alpine", "index.docker.io/library/alpine")
    assert same_repository("alpine", "docker.io/library/alpine:3.20")
    assert same_repository("registry-1.docker.io/library/alpine", "alpine")
    assert not same_repository("docker.io/library/alpine", "docker.io/library/alpine2")
    assert not same_repository("reg.example/a/app", "reg.example/b/app")


def test_identities_count_towards_threshold() -> None:
    from lockgate.trust.keyless import BundleCheck

    k1 = PublicKey(ec.generate_private_key(ec.SECP256R1()).public_key())
    policy = parse_trust_section(
        [{"scope": "ghcr.io/org/**", "trusted_root": "root.json",
          "signers": {"keys": [k1.key_id], "threshold": 2,
                      "identities": [{"issuer": "https://token.actions.githubusercontent.com",
                                      "subject_regexp": "^https://github.com/org/"}]}}],
        Path(),
    )  # fmt: skip
    ref = "ghcr.io/org/app:v1"
    signed = ImageVerification(ref, "sha256:" + "1" * 64, ref, (_check(k1, True),))
    ci = BundleCheck("sha256:" + "2" * 64, True, "", "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main",
                     "https://token.actions.githubusercontent.com")  # fmt: skip
    other = BundleCheck("sha256:" + "3" * 64, True, "", "https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main",
                        "https://token.actions.githubusercontent.com")  # fmt: skip
    wrong_issuer = BundleCheck("sha256:" + "4" * 64, True, "", ci.identity, "https://accounts.google.com")
    failed = BundleCheck("sha256:" + "5" * 64, False, "bundle verification failed: SCT")
    assert evaluate_trust(ref, signed, policy, [k1], [ci]).allowed
    for bundles in ([other], [wrong_issuer], [failed], []):
        d = evaluate_trust(ref, signed, policy, [k1], bundles)
        assert not d.allowed and "1 of 2" in d.reasons[-1]
    assert any("SCT" in r for r in evaluate_trust(ref, signed, policy, [k1], [failed]).reasons)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"scope": "x", "signers": {"identities": [{"subject": "a@b", "issuer": "https://i"}]}}, "trusted_root"),
        ({"scope": "x", "trusted_root": "r.json", "signers": {"identities": [{"subject": "a@b"}]}}, "oidc-issuer"),
        ({"scope": "x", "trusted_root": "r.json", "signers": {"identities": [{"email": "a@b"}]}}, "string keys"),
        ({"scope": "x", "trusted_root": "r.json",
          "signers": {"identities": [{"subject_regexp": "(", "issuer": "https://i"}]}}, "regular expression"),
    ],
)  # fmt: skip
def test_invalid_identities(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_trust_section([entry], Path())
