"""``attest`` / ``verify-attestation`` on OCI layouts: cosign's ``.att`` storage shape and the negative matrix.

Oracles: skopeo reads the attestation manifest back; securesystemslib verifies the DSSE envelope lockgate
stored; openssl-independent checks read the statement out of the stored blob.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.registry import OCILayout, skopeo_raw

from ._helpers import lockgate, one_line_reason

DSSE = "application/vnd.dsse.envelope.v1+json"


def _digest(layout: OCILayout) -> str:
    return "sha256:" + hashlib.sha256(skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{layout.tag}")).hexdigest()


def _att_manifest(layout: OCILayout, digest: str) -> dict[str, Any]:
    tag = digest.replace(":", "-") + ".att"
    m: dict[str, Any] = json.loads(skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{tag}"))
    return m


def _blob_path(layout: OCILayout, digest: str) -> Path:
    return layout.path / "blobs" / "sha256" / digest.split(":")[1]


def _slsa1(corpus: Path) -> Path:
    return corpus / "intoto/slsa-predicates/slsa_predicate_v1_0.json"


def _attest(layout: OCILayout, key: Path, predicate: Path, type_name: str, *extra: str) -> None:
    r = lockgate(
        "attest",
        f"oci:{layout.path}:{layout.tag}",
        "--predicate",
        str(predicate),
        "--type",
        type_name,
        "--key",
        f"{key}.key",
        *extra,
    )
    assert r.returncode == 0, r.stderr


def _verify(layout: OCILayout, *args: str) -> Any:
    return lockgate("verify-attestation", f"oci:{layout.path}:{layout.tag}", *args)


def test_attest_writes_cosign_att_layout_and_verifies(
    layout: OCILayout, att_keys: dict[str, Path], corpus: Path
) -> None:
    from securesystemslib.dsse import Envelope as SslEnvelope
    from securesystemslib.signer import SSlibKey

    from lockgate.trust.keys.files import load_public_key

    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")
    digest = _digest(layout)
    m = _att_manifest(layout, digest)
    assert [x["mediaType"] for x in m["layers"]] == [DSSE]
    assert m["layers"][0]["annotations"]["predicateType"] == "https://slsa.dev/provenance/v1"
    env = json.loads(_blob_path(layout, m["layers"][0]["digest"]).read_bytes())
    assert env["payloadType"] == "application/vnd.in-toto+json"
    st = json.loads(base64.b64decode(env["payload"]))
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["subject"][0]["digest"] == {"sha256": digest.split(":")[1]}
    assert st["predicate"] == json.loads(_slsa1(corpus).read_text())
    # securesystemslib verifies the stored envelope with alice's public key
    pub = load_public_key(Path(f"{att_keys['alice']}.pub"))
    key = SSlibKey.from_crypto(pub.key, keyid=env["signatures"][0]["keyid"])
    assert SslEnvelope.from_dict(env).verify([key], 1)

    ok = _verify(layout, "--type", "slsaprovenance1", "--key", f"{att_keys['alice']}.pub", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["verified"] == 1 and doc["attestations"][0]["statement"]["predicateType"] == st["predicateType"]


def test_second_attestation_appends_and_multiple_types(
    layout: OCILayout, att_keys: dict[str, Path], corpus: Path
) -> None:
    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")
    v02 = corpus / "intoto/slsa-predicates/slsa_predicate_v0_2.json"
    _attest(layout, att_keys["bob"], v02, "slsaprovenance")
    m = _att_manifest(layout, _digest(layout))
    assert [x["annotations"]["predicateType"] for x in m["layers"]] == [
        "https://slsa.dev/provenance/v1",
        "https://slsa.dev/provenance/v0.2",
    ]
    assert _verify(layout, "--type", "slsaprovenance02", "--key", f"{att_keys['bob']}.pub").returncode == 0
    both = ("--key", f"{att_keys['alice']}.pub", "--key", f"{att_keys['bob']}.pub")
    assert _verify(layout, *both, "--threshold", "2").returncode == 0  # any type: alice's v1 and bob's v0.2
    short = _verify(layout, *both, "--type", "slsaprovenance1", "--threshold", "2")
    assert short.returncode == 1 and "1 of 2 required keys" in one_line_reason(short)
    r = _verify(layout, "--type", "slsaprovenance02", "--key", f"{att_keys['alice']}.pub")
    assert r.returncode == 1 and "wrong key" in one_line_reason(r)


def test_referrer_only(layout: OCILayout, att_keys: dict[str, Path], corpus: Path) -> None:
    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1", "--referrer", "--no-tag")
    index = json.loads((layout.path / "index.json").read_text())
    untagged = [d for d in index["manifests"] if "org.opencontainers.image.ref.name" not in d.get("annotations", {})]
    refs = [json.loads(_blob_path(layout, d["digest"]).read_bytes()) for d in untagged]
    assert len(refs) == 1
    ref_m = refs[0]
    assert ref_m["artifactType"] == DSSE and ref_m["layers"][0]["mediaType"] == DSSE
    assert ref_m["subject"]["digest"] == _digest(layout)
    assert _verify(layout, "--type", "slsaprovenance1", "--key", f"{att_keys['alice']}.pub").returncode == 0


def _tamper(layout: OCILayout, change: Any) -> None:
    """Rewrite the stored envelope blob in place (as an attacker with write access to storage would)."""
    m = _att_manifest(layout, _digest(layout))
    p = _blob_path(layout, m["layers"][0]["digest"])
    env = json.loads(p.read_bytes())
    change(env)
    data = json.dumps(env).encode()
    new_digest = hashlib.sha256(data).hexdigest()
    (p.parent / new_digest).write_bytes(data)
    # repoint the .att manifest (and the index) at the tampered blob so storage integrity checks still pass
    m["layers"][0]["digest"] = "sha256:" + new_digest
    m["layers"][0]["size"] = len(data)
    m_raw = json.dumps(m).encode()
    m_digest = hashlib.sha256(m_raw).hexdigest()
    (p.parent / m_digest).write_bytes(m_raw)
    index = json.loads((layout.path / "index.json").read_text())
    for d in index["manifests"]:
        if d.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith(".att"):
            d["digest"], d["size"] = "sha256:" + m_digest, len(m_raw)
    (layout.path / "index.json").write_text(json.dumps(index))


def _statement_change(fn: Any) -> Any:
    def change(env: dict[str, Any]) -> None:
        st = json.loads(base64.b64decode(env["payload"]))
        fn(st)
        env["payload"] = base64.b64encode(json.dumps(st).encode()).decode()

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_statement_change(lambda st: st["predicate"]["runDetails"]["builder"].update(id="https://evil")), "tampered"),
        (lambda env: env.update(payloadType="application/json"), "tampered"),
        (lambda env: env.update(signatures=[]), "no signatures"),
    ],
    ids=["payload", "payloadType", "signature-stripped"],
)
def test_tampered_envelope_rejected(
    layout: OCILayout, att_keys: dict[str, Path], corpus: Path, change: Any, reason: str
) -> None:
    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")
    _tamper(layout, change)
    r = _verify(layout, "--type", "slsaprovenance1", "--key", f"{att_keys['alice']}.pub")
    assert r.returncode == 1
    assert reason in one_line_reason(r)


def test_replayed_statement_for_another_image_rejected(
    layout: OCILayout, other_layout: OCILayout, att_keys: dict[str, Path], corpus: Path
) -> None:
    """A validly signed attestation of image B copied into image A's .att tag names B's digest: rejected."""
    _attest(other_layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")
    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")
    other_m = _att_manifest(other_layout, _digest(other_layout))
    other_env = json.loads(_blob_path(other_layout, other_m["layers"][0]["digest"]).read_bytes())
    _tamper(layout, lambda env: env.update(other_env))
    r = _verify(layout, "--type", "slsaprovenance1", "--key", f"{att_keys['alice']}.pub")
    assert r.returncode == 1
    assert "does not name" in one_line_reason(r)


def test_unknown_type_wrong_key_missing_and_revoked(
    layout: OCILayout, att_keys: dict[str, Path], corpus: Path, tmp_path: Path
) -> None:
    r = lockgate("attest", f"oci:{layout.path}:{layout.tag}", "--predicate", str(_slsa1(corpus)), "--type", "bogus",
                 "--key", f"{att_keys['alice']}.key")  # fmt: skip
    assert r.returncode == 2 and "unknown predicate type" in one_line_reason(r)
    none = _verify(layout, "--type", "slsaprovenance1", "--key", f"{att_keys['alice']}.pub")
    assert none.returncode == 1 and "no attestations found" in one_line_reason(none)
    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")
    wrong = _verify(layout, "--type", "slsaprovenance1", "--key", f"{att_keys['mallory']}.pub")
    assert wrong.returncode == 1 and "no DSSE signature verifies" in one_line_reason(wrong)
    other_type = _verify(layout, "--type", "cyclonedx", "--key", f"{att_keys['alice']}.pub")
    assert other_type.returncode == 1 and "not https://cyclonedx.org/bom" in one_line_reason(other_type)
    rl = tmp_path / "revocations.json"
    rv = lockgate("key", "revoke", f"{att_keys['alice']}.pub", "--reason", "laptop stolen", "--list", str(rl))
    assert rv.returncode == 0, rv.stderr
    revoked = _verify(
        layout, "--type", "slsaprovenance1", "--key", f"{att_keys['alice']}.pub", "--revocations", str(rl)
    )
    assert revoked.returncode == 1 and "revoked" in one_line_reason(revoked)


def test_invalid_predicates_refused_on_write(layout: OCILayout, att_keys: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bom.json"
    bad.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": "one"}))
    r = lockgate(
        "attest",
        f"oci:{layout.path}:{layout.tag}",
        "--predicate",
        str(bad),
        "--type",
        "cyclonedx",
        "--key",
        f"{att_keys['alice']}.key",
    )
    assert r.returncode == 3 and "schema" in one_line_reason(r)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}))
    _attest(layout, att_keys["alice"], good, "cyclonedx")
    assert _verify(layout, "--type", "cyclonedx", "--key", f"{att_keys['alice']}.pub").returncode == 0


def test_custom_predicate_and_cel_and_rego(
    layout: OCILayout, att_keys: dict[str, Path], corpus: Path, tmp_path: Path
) -> None:
    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")
    key = ("--key", f"{att_keys['alice']}.pub", "--type", "slsaprovenance1")
    builder = json.loads(_slsa1(corpus).read_text())["runDetails"]["builder"]["id"]
    good = _verify(layout, *key, "--cel", f'predicate.runDetails.builder.id == "{builder}"')
    assert good.returncode == 0, good.stderr
    bad = _verify(layout, *key, "--cel", 'predicate.runDetails.builder.id == "https://other"')
    assert bad.returncode == 1 and "is false" in one_line_reason(bad)
    rego = tmp_path / "p.rego"
    rego.write_text(
        "package lockgate.attestation\nimport rego.v1\n"
        'deny contains msg if { not startswith(input.predicate.runDetails.builder.id, "https://trusted.example/")\n'
        '  msg := sprintf("untrusted builder %v", [input.predicate.runDetails.builder.id]) }\n'
    )
    denied = _verify(layout, *key, "--policy", str(rego))
    assert denied.returncode == 1 and "untrusted builder" in one_line_reason(denied)
    rego.write_text(
        "package lockgate.attestation\nimport rego.v1\n"
        f'deny contains "wrong builder" if input.predicate.runDetails.builder.id != "{builder}"\n'
    )
    assert _verify(layout, *key, "--policy", str(rego)).returncode == 0


def test_verify_policy_requires_attestations(
    layout: OCILayout, att_keys: dict[str, Path], corpus: Path, tmp_path: Path
) -> None:
    """``lockgate verify --policy`` (the trust evaluator) also enforces the scope's ``attestations:``."""
    ref = f"oci:{layout.path}:{layout.tag}"
    r = lockgate("sign", ref, "--key", f"{att_keys['alice']}.key")
    assert r.returncode == 0, r.stderr
    rego = tmp_path / "builder.rego"
    rego.write_text(
        "package lockgate.attestation\nimport rego.v1\n"
        'default allow := false\nallow if startswith(input.predicate.runDetails.builder.id, "https://github.com/")\n'
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "trust:\n"
        f'  - scope: "{layout.path.resolve()}"\n'
        f"    signers: {{keys: [{att_keys['alice']}.pub]}}\n"
        "    attestations:\n"
        "      - type: slsaprovenance1\n"
        f"        signers: {{keys: [{att_keys['bob']}.pub]}}\n"
        f"        rego: {rego.name}\n"
    )
    missing = lockgate("verify", ref, "--policy", str(policy))
    assert missing.returncode == 1 and "no attestations found" in one_line_reason(missing)
    _attest(layout, att_keys["alice"], _slsa1(corpus), "slsaprovenance1")  # wrong signer for the requirement
    wrong = lockgate("verify", ref, "--policy", str(policy))
    assert wrong.returncode == 1 and "0 of 1 signers" in one_line_reason(wrong)
    _attest(layout, att_keys["bob"], _slsa1(corpus), "slsaprovenance1")
    ok = lockgate("verify", ref, "--policy", str(policy))
    assert ok.returncode == 0, ok.stderr + ok.stdout
    assert lockgate("verify-attestation", ref, "--policy", str(policy)).returncode == 0
    rego.write_text(rego.read_text().replace("https://github.com/", "https://gitlab.com/"))
    denied = lockgate("verify", ref, "--policy", str(policy))
    assert denied.returncode == 1 and "allow is false" in one_line_reason(denied)
