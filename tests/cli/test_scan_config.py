"""``lockgate scan config``: exit codes, line-accurate findings through every output format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from tests.conftest import CORPUS

BAD_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: bad
  namespace: team-a
spec:
  containers:
    - name: app
      image: nginx:latest
      securityContext:
        privileged: true
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args], capture_output=True, text=True, check=False, cwd=cwd
    )


def test_privileged_pod_fails_with_line_of_the_field(tmp_path: Path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text(BAD_POD)
    r = run("scan", "config", str(pod), "-f", "json", "--fail-on", "CRITICAL")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    priv = [f for f in doc["findings"] if f["id"] == "PSS-privileged"]
    assert len(priv) == 1
    loc = priv[0]["location"]
    assert loc["start_line"] == BAD_POD.splitlines().index("        privileged: true") + 1
    assert loc["container"] == "app" and loc["namespace"] == "team-a" and loc["resource_kind"] == "Pod"
    assert "PSS-privileged" in r.stderr and "decision: deny" in r.stderr


def test_sarif_regions_and_baseline_level(tmp_path: Path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text(BAD_POD)
    r = run("scan", "config", str(pod), "-f", "sarif", "--pss-level", "baseline")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, json.loads((CORPUS / "schemas/sarif-schema-2.1.0.json").read_text()))
    rules = {res["ruleId"] for res in doc["runs"][0]["results"]}
    assert "PSS-privileged" in rules
    assert "PSS-runAsNonRoot" not in rules  # restricted-only check is off at baseline
    region = next(
        res["locations"][0]["physicalLocation"]["region"]
        for res in doc["runs"][0]["results"]
        if res["ruleId"] == "PSS-privileged"
    )
    assert region["startLine"] == 11


def test_policy_file_misconfig_section_and_default_policy(tmp_path: Path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text(BAD_POD)
    (tmp_path / "lockgate-policy.yaml").write_text(
        "misconfig: {pss: {level: baseline}, disable: [LG-K8S-004], fail_on: CRITICAL}\n"
    )
    r = run("scan", "config", "pod.yaml", "-f", "json", cwd=tmp_path)  # picks ./lockgate-policy.yaml
    assert r.returncode == 1
    ids = {f["id"] for f in json.loads(r.stdout)["findings"]}
    assert "LG-K8S-004" not in ids and "PSS-runAsNonRoot" not in ids and "PSS-privileged" in ids


def test_broken_yaml_is_a_gap_and_the_rest_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(BAD_POD)
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    r = run("scan", "config", str(tmp_path), "-f", "json")
    assert r.returncode == 1  # the gap fails the gate without --allow-incomplete
    doc = json.loads(r.stdout)
    assert any("broken.yaml" in g["where"] for g in doc["gaps"])
    assert any(f["id"] == "PSS-privileged" for f in doc["findings"])
    r = run("scan", "config", str(tmp_path), "-f", "json", "--allow-incomplete")
    assert r.returncode == 0
    assert "Traceback" not in r.stderr


def test_compliance_view(tmp_path: Path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text(BAD_POD)
    r = run("scan", "config", str(pod), "--compliance", "pss-restricted", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    status = {c["id"]: c["status"] for c in doc["controls"]}
    assert status["privileged"] == "FAIL" and status["hostPorts"] == "PASS"
    assert doc["summary"]["FAIL"] >= 4  # privileged, runAsNonRoot, capabilities, seccomp, escalation
    r = run("scan", "config", str(pod), "--compliance", "nope")
    assert r.returncode == 2 and "unknown compliance framework" in r.stderr
