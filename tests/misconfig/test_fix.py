"""``config fix``: re-scanning the hardened output shows the fixable findings gone, comments and
unrelated fields kept. Inputs: the kubernetes/examples corpus and the upstream PSS fail fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockgate.misconfig.fix import fix_manifest
from lockgate.misconfig.model import MisconfigOptions
from lockgate.misconfig.scan import scan_config_paths

FIXABLE = {
    "PSS-allowPrivilegeEscalation",
    "PSS-appArmorProfile",
    "PSS-capabilities_baseline",
    "PSS-capabilities_restricted",
    "PSS-hostNamespaces",
    "PSS-privileged",
    "PSS-procMount",
    "PSS-procMount_restricted",
    "PSS-runAsNonRoot",
    "PSS-runAsUser",
    "PSS-seLinuxOptions",
    "PSS-seccompProfile_restricted",
    "PSS-sysctls",
    "PSS-windowsHostProcess",
    "LG-K8S-001",
    "LG-K8S-002",
    "LG-K8S-003",
    "LG-K8S-007",
    "LG-K8S-014",
    "LG-K8S-015",
    "LG-K8S-024",
}


def _scalars(node: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    out: dict[tuple[Any, ...], Any] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(_scalars(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.update(_scalars(v, (*path, i)))
    else:
        out[path] = node
    return out


FIXED_KEYS = {
    "securityContext",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "automountServiceAccountToken",
    "resources",
}


def _check_one(src: Path, tmp: Path) -> None:
    text = src.read_text()
    fixed = fix_manifest(text, str(src))
    out = tmp / src.name
    out.write_text(fixed)
    before = scan_config_paths([src], MisconfigOptions())
    after = scan_config_paths([out], MisconfigOptions())
    assert not after.gaps
    left = {f.id for f in after.findings} & FIXABLE
    assert not left, (src, left)
    # non-fixable findings are untouched (same ids and counts)
    count = lambda r: sorted(f.id for f in r.findings if f.id not in FIXABLE)  # noqa: E731
    assert count(before) == count(after), src
    # comments survive
    comments = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("#")]
    assert all(c in fixed for c in comments), src
    # unrelated fields keep their values
    for a, b in zip(yaml.safe_load_all(text), yaml.safe_load_all(fixed), strict=True):
        sa, sb = _scalars(a), _scalars(b)
        for path, v in sa.items():
            if not FIXED_KEYS & {p for p in path if isinstance(p, str)}:
                assert sb.get(path) == v, (src, path)


def test_fix_kubernetes_examples(corpus: Path, tmp_path: Path) -> None:
    root = corpus / "k8s-manifests/kubernetes-examples"
    files = [p for p in sorted(root.rglob("*.yaml")) if p.name != "newrelic-config-template.yaml"]
    assert len(files) > 50
    for i, src in enumerate(files):
        d = tmp_path / str(i)
        d.mkdir()
        _check_one(src, d)


def test_fix_pss_fail_fixtures(corpus: Path, tmp_path: Path) -> None:
    manifest = json.loads((corpus / "pss/manifest.json").read_text())
    fixtures = [f for f in manifest["fixtures"] if f["version"] == "v1.37" and f["expected"] == "denied"]
    fixable_checks = {c.removeprefix("PSS-") for c in FIXABLE}
    for i, f in enumerate(fixtures):
        if f["check"] not in fixable_checks:
            continue
        d = tmp_path / str(i)
        d.mkdir()
        src = corpus / "pss" / f["path"]
        out = d / "pod.yaml"
        out.write_text(fix_manifest(src.read_text(), str(src)))
        after = {x.id for x in scan_config_paths([out], MisconfigOptions(pss_level=f["level"])).findings}
        assert not after & FIXABLE, (f["path"], after & FIXABLE)


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockgate", *args], capture_output=True, text=True, input=stdin)


POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p  # keep me\nspec:\n  containers:\n  - name: c\n    image: x\n"


def test_cli_modes(tmp_path: Path) -> None:
    src = tmp_path / "pod.yaml"
    src.write_text(POD)
    r = _cli("config", "fix", str(src))
    assert r.returncode == 0 and "allowPrivilegeEscalation: false" in r.stdout and "# keep me" in r.stdout
    assert src.read_text() == POD  # not in place unless asked
    r = _cli("config", "fix", "--patch", str(src))
    assert r.stdout.startswith("--- a/") and "+    securityContext:" in r.stdout
    out = tmp_path / "out.yaml"
    assert _cli("config", "fix", str(src), "-o", str(out)).returncode == 0
    assert "runAsNonRoot: true" in out.read_text()
    assert _cli("config", "fix", "--in-place", str(src)).returncode == 0
    assert src.read_text() == out.read_text()
    r = _cli("config", "fix", "-", stdin=POD)
    assert r.returncode == 0 and "readOnlyRootFilesystem: true" in r.stdout


LAUGHS = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 9)
)


@pytest.mark.parametrize(("text", "needle"), [("a: [1, 2\n", "invalid YAML"), (LAUGHS, "alias")])
def test_cli_bad_yaml(tmp_path: Path, text: str, needle: str) -> None:
    src = tmp_path / "bad.yaml"
    src.write_text(text)
    r = _cli("config", "fix", str(src))
    assert r.returncode == 3 and needle in r.stderr and "Traceback" not in r.stderr
    assert not r.stdout


def test_json_in_json_out(tmp_path: Path) -> None:
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"a": "b"}},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "c", "image": "x:1", "securityContext": {"privileged": True}}]}
            }
        },
    }
    src = tmp_path / "d.json"
    src.write_text(json.dumps(doc, indent=2))
    fixed = fix_manifest(src.read_text(), str(src))
    out = json.loads(fixed)
    assert out["metadata"] == doc["metadata"]
    c = out["spec"]["template"]["spec"]["containers"][0]
    assert c["securityContext"]["privileged"] is False and c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    (tmp_path / "o.json").write_text(fixed)
    after = {f.id for f in scan_config_paths([tmp_path / "o.json"], MisconfigOptions()).findings}
    assert not after & FIXABLE
