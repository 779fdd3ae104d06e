"""Compliance views: controls pass/fail from real scan results."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.errors import ConfigError
from lockgate.misconfig.compliance import evaluate
from lockgate.misconfig.kubernetes.pss import CHECKS
from lockgate.misconfig.model import MisconfigOptions
from lockgate.misconfig.scan import scan_config_paths

PRIV = """\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: team}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: c
    image: reg.example/app:1@sha256:0000000000000000000000000000000000000000000000000000000000000000
    securityContext:
      privileged: true
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
"""


def test_pss_views_follow_findings(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PRIV)
    report = scan_config_paths([tmp_path / "p.yaml"], MisconfigOptions())
    base = evaluate(report, "pss-baseline")
    assert {c.id for c in base.controls} == {c.id for c in CHECKS if c.level == "baseline"}
    assert [c.id for c in base.controls if c.status == "FAIL"] == ["privileged"]
    restricted = evaluate(report, "pss-restricted")
    assert len(restricted.controls) == len(CHECKS)
    assert [c.id for c in restricted.controls if c.status == "FAIL"] == ["privileged"]
    d = restricted.to_dict()
    assert d["summary"]["FAIL"] == 1 and d["summary"]["PASS"] == len(CHECKS) - 1
    assert "privileged" in restricted.render_table()


def test_nsa_and_docker_views(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PRIV)
    (tmp_path / "Dockerfile").write_text("FROM debian\nADD app /app\nHEALTHCHECK NONE\nUSER 1000\n")
    report = scan_config_paths([tmp_path], MisconfigOptions())
    nsa = {c.id: c for c in evaluate(report, "k8s-nsa").controls}
    assert nsa["privileged"].status == "FAIL" and nsa["seccomp"].status == "PASS"
    cis = {c.id: c for c in evaluate(report, "docker-cis").controls}
    assert cis["4.1"].status == "PASS" and cis["4.2"].status == "FAIL" and cis["4.9"].status == "FAIL"
    assert cis["4.6"].status == "PASS" and cis["4.5"].status == "MANUAL"


def test_suppressed_findings_do_not_fail_controls(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PRIV.replace("metadata: {name: p, namespace: team}",
                                                  "metadata: {name: p, namespace: team, annotations: "
                                                  "{lockgate.io/ignore: PSS-privileged}}"))  # fmt: skip
    report = scan_config_paths([tmp_path / "p.yaml"], MisconfigOptions())
    assert all(c.status == "PASS" for c in evaluate(report, "pss-baseline").controls)


def test_unknown_framework() -> None:
    from lockgate.findings.model import ScanReport

    with pytest.raises(ConfigError, match="unknown compliance framework"):
        evaluate(ScanReport(target="x", artifact_type="config"), "pci")


def test_baseline_view_of_a_restricted_scan_sees_replaced_checks(tmp_path: Path) -> None:
    """At restricted, restrictedVolumes replaces hostPathVolumes (upstream override); the baseline view
    must still fail hostPathVolumes for a hostPath volume, and not for an NFS volume."""
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x}]\n"
        "  volumes:\n  - {name: h, hostPath: {path: /etc}}\n  - {name: n, nfs: {server: s, path: /}}\n"
    )
    (tmp_path / "p.yaml").write_text(pod)
    report = scan_config_paths([tmp_path / "p.yaml"], MisconfigOptions(pss_level="restricted"))
    assert {f.id for f in report.findings} >= {"PSS-restrictedVolumes"}
    assert "PSS-hostPathVolumes" not in {f.id for f in report.findings}
    base = {c.id: c for c in evaluate(report, "pss-baseline").controls}
    assert base["hostPathVolumes"].status == "FAIL" and base["hostPathVolumes"].findings == 1
