"""Pod Security Standards against the upstream pod-security-admission conformance fixtures (all 4,537).

Oracle: ``corpus/pss/manifest.json`` — expected allowed/denied per fixture at its level and
version, and the substring upstream's denial message must contain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockgate.misconfig.kubernetes.loader import load_objects
from lockgate.misconfig.kubernetes.pss import evaluate_pod, parse_version

# Restricted checks that replace a baseline check from a version on (upstream OverrideCheckIDs,
# read from policy/check_*.go): a baseline fixture evaluated at restricted fails the replacement.
UPSTREAM_OVERRIDES = {
    "hostPathVolumes": ("restrictedVolumes", 0),
    "capabilities_baseline": ("capabilities_restricted", 22),
    "seccompProfile_baseline": ("seccompProfile_restricted", 19),
    "procMount": ("procMount_restricted", 35),
}


def _fixtures(corpus_dir: Path) -> list[dict[str, Any]]:
    return list(json.loads((corpus_dir / "manifest.json").read_text())["fixtures"])


def _expected_checks(f: dict[str, Any]) -> set[str]:
    check = f["check"]
    out = {check}
    if f["level"] == "restricted" and check in UPSTREAM_OVERRIDES:
        repl, since = UPSTREAM_OVERRIDES[check]
        if int(f["version"].split(".")[1]) >= since:
            out.add(repl)
    return out


def test_every_fixture_matches_upstream_outcome(corpus: Path) -> None:
    root = corpus / "pss"
    fixtures = _fixtures(root)
    assert len(fixtures) == 4537
    failures = []
    for f in fixtures:
        objs = load_objects((root / f["path"]).read_text(), f["path"])
        assert len(objs) == 1 and objs[0].kind == "Pod"
        tpl = objs[0].pod_template()
        assert tpl is not None
        meta, spec, _ = tpl
        violations = evaluate_pod(meta, spec, f["level"], f["version"])
        if f["expected"] == "allowed":
            if violations:
                failures.append((f["path"], [v.message for v in violations]))
            continue
        if not any(f["expected_error_substring"] in v.message for v in violations):
            failures.append((f["path"], "missing substring", [v.message for v in violations]))
        if f["check"] and not _expected_checks(f) & {v.check for v in violations}:
            failures.append((f["path"], "missing check", f["check"], [v.check for v in violations]))
    assert not failures, failures[:20]


def test_fixtures_wrapped_in_workloads_give_the_same_verdict(corpus: Path) -> None:
    """Upstream also wraps pods into controllers; the pod template must get the same verdict."""
    root = corpus / "pss"
    fixtures = [f for f in _fixtures(root) if f["version"] in ("v1.0", "v1.25", "v1.37")]
    assert fixtures
    for f in fixtures:
        pod = yaml.safe_load((root / f["path"]).read_text())
        template = {"metadata": pod.get("metadata", {}), "spec": pod["spec"]}
        wrapped = [
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": template}},
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "c"},
                "spec": {"jobTemplate": {"spec": {"template": template}}},
            },
        ]
        for doc in wrapped:
            (obj,) = load_objects(yaml.safe_dump(doc), "w.yaml")
            tpl = obj.pod_template()
            assert tpl is not None
            denied = bool(evaluate_pod(tpl[0], tpl[1], f["level"], f["version"]))
            assert denied == (f["expected"] == "denied"), (f["path"], doc["kind"])


@pytest.mark.parametrize(("text", "minor"), [("v1.0", 0), ("v1.25", 25), ("latest", 37), ("v1.99", 37)])
def test_version_parsing(text: str, minor: int) -> None:
    assert parse_version(text) == minor


@pytest.mark.parametrize("text", ["1.25", "v2.0", "v1.x", "v1.025"])
def test_bad_versions_are_config_errors(text: str) -> None:
    from lockgate.errors import ConfigError

    with pytest.raises(ConfigError):
        parse_version(text)


# The field each check must point at; the fixture text is the oracle (line and column of that key).
FIELD_OF_CHECK = {
    "privileged": ("privileged:",),
    "hostPorts": ("hostPort:",),
    "hostPathVolumes": ("hostPath:",),
    "procMount": ("procMount:",),
    "windowsHostProcess": ("hostProcess:",),
    "runAsUser": ("runAsUser:",),
    "hostNamespaces": ("hostNetwork:", "hostPID:", "hostIPC:"),
}


def test_findings_point_at_the_offending_field(corpus: Path) -> None:
    from lockgate.misconfig.model import MisconfigOptions
    from lockgate.misconfig.scan import scan_config_paths

    root = corpus / "pss"
    checked = 0
    for f in _fixtures(root):
        if (
            f["expected"] != "denied"
            or f["check"] not in FIELD_OF_CHECK
            or f["version"] not in ("v1.0", "v1.19", "v1.25", "v1.35", "v1.37")
        ):
            continue
        path = root / f["path"]
        lines = path.read_text().splitlines()
        report = scan_config_paths([path], MisconfigOptions(pss_level=f["level"], pss_version=f["version"]))
        want = f"PSS-{f['check']}"
        hits = [x for x in report.findings if x.id == want or want in x.aliases]  # aliases: replaced at restricted
        assert hits, f["path"]
        for h in hits:
            text = lines[h.location.start_line - 1][h.location.column - 1 :]
            assert text.startswith(FIELD_OF_CHECK[f["check"]]), (f["path"], h.location, text)
            checked += 1
    assert checked > 150
