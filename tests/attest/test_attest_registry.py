"""Attestations in a real registry (Debian's docker-registry started by the fixture); skopeo is the oracle for
what lands there (the ``sha256-<hex>.att`` tag and its DSSE layer) and for the referrers fallback tag."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.fixtures.registry import OCILayout, RunningRegistry, skopeo, skopeo_inspect_flags, skopeo_raw, unique_repo

from ._helpers import lockgate, one_line_reason

Push = Callable[[OCILayout, RunningRegistry, str, str], str]
DSSE = "application/vnd.dsse.envelope.v1+json"


def test_attest_and_verify_in_registry(
    registry: RunningRegistry, small_image: OCILayout, skopeo_push: Push, att_keys: dict[str, Path], corpus: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    repo = unique_repo("attest/app")
    digest = skopeo_push(small_image, registry, repo, "v1")
    ref = registry.ref(repo, "v1")
    pred = corpus / "intoto/slsa-predicates/slsa_predicate_v1_0.json"
    r = lockgate("attest", ref, "--predicate", str(pred), "--type", "slsaprovenance1", "--key",
                 f"{att_keys['alice']}.key", "--key", f"{att_keys['bob']}.key", "--referrer")  # fmt: skip
    assert r.returncode == 0, r.stderr
    att_tag = digest.replace(":", "-") + ".att"
    m = json.loads(
        skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(registry), f"docker://{registry.ref(repo, att_tag)}")
    )
    assert [x["mediaType"] for x in m["layers"]] == [DSSE]
    tags = json.loads(skopeo("list-tags", *skopeo_inspect_flags(registry), f"docker://{registry.host}/{repo}").stdout)
    assert att_tag in tags["Tags"]
    for key in ("alice", "bob"):
        v = lockgate("verify-attestation", ref, "--type", "slsaprovenance1", "--key", f"{att_keys[key]}.pub")
        assert v.returncode == 0, v.stderr
    by_digest = lockgate(
        "verify-attestation", registry.ref(repo, digest), "--key", f"{att_keys['alice']}.pub", "--format", "json"
    )
    assert by_digest.returncode == 0, by_digest.stderr
    doc = json.loads(by_digest.stdout)
    assert {a["source"] for a in doc["attestations"]} == {"tag", "referrer"}
    wrong = lockgate("verify-attestation", ref, "--key", f"{att_keys['mallory']}.pub")
    assert wrong.returncode == 1 and "no DSSE signature verifies" in one_line_reason(wrong)

    # trust policy: the scope requires a v1 provenance signed by both alice and bob, built by the known builder
    builder = json.loads(pred.read_text())["runDetails"]["builder"]["id"]
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "trust:\n"
        f'  - scope: "{registry.host}/attest/**"\n'
        f"    signers: {{keys: [{att_keys['alice']}.pub]}}\n"
        "    attestations:\n"
        "      - type: slsaprovenance1\n"
        f"        signers: {{keys: [{att_keys['alice']}.pub, {att_keys['bob']}.pub], threshold: 2}}\n"
        f"        cel: 'predicate.runDetails.builder.id == \"{builder}\"'\n"
    )
    ok = lockgate("verify-attestation", ref, "--policy", str(policy))
    assert ok.returncode == 0, ok.stderr + ok.stdout
    policy.write_text(policy.read_text().replace(f"{att_keys['bob']}.pub", f"{att_keys['mallory']}.pub"))
    short = lockgate("verify-attestation", ref, "--policy", str(policy))
    assert short.returncode == 1 and "1 of 2 signers" in one_line_reason(short)
