"""Kubernetes checks against kubescape regolibrary's own rule tests (expected findings per case).

Oracle: ``corpus/k8s-manifests/kubescape-regolibrary/index.json`` — which objects each kubescape
rule flags, and the failing/fix paths (which name the offending containers).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lockgate.misconfig.model import MisconfigOptions
from lockgate.misconfig.scan import scan_config_paths

# kubescape rule -> lockgate rule ids with the same meaning.
MAP = {
    "host-ipc-privileges": {"PSS-hostNamespaces"},
    "host-pid-privileges": {"PSS-hostNamespaces"},
    "host-network-access": {"PSS-hostNamespaces"},
    "host-pid-ipc-privileges": {"PSS-hostNamespaces"},
    # kubescape counts SYS_ADMIN as privileged; lockgate reports it as an insecure capability.
    "rule-privileged-container": {"PSS-privileged", "LG-K8S-014"},
    "rule-allow-privilege-escalation": {"PSS-allowPrivilegeEscalation"},
    "non-root-containers": {"PSS-runAsNonRoot", "LG-K8S-024"},  # kubescape also flags runAsGroup 0
    "immutable-container-filesystem": {"LG-K8S-003"},
    "insecure-capabilities": {"LG-K8S-014"},
    "drop-capability-netraw": {"LG-K8S-015"},
    "alert-any-hostpath": {"PSS-hostPathVolumes", "PSS-restrictedVolumes"},  # restricted replaces the former
    "alert-rw-hostpath": {"LG-K8S-013"},
    "containers-mounting-docker-socket": {"LG-K8S-012"},
    "container-hostPort": {"PSS-hostPorts"},
    "set-seccomp-profile": {"PSS-seccompProfile_restricted"},
    "set-sysctls-params": {"PSS-sysctls"},
    "set-hostprocess-true": {"PSS-windowsHostProcess"},
    "set-procmount-default": {"PSS-procMount", "PSS-procMount_restricted"},
    "linux-hardening": {"PSS-seccompProfile_restricted"},
    "naked-pods": {"LG-K8S-016"},
}

# Cases where kubescape's rule means something else than the Pod Security Standard (written reasons).
DIVERGENT = {
    # kubescape wants exactly RuntimeDefault; PSS restricted (and lockgate) also accept Localhost profiles.
    ("set-seccomp-profile-RuntimeDefault", "pod"),
    ("set-seccomp-profile-RuntimeDefault", "workloads"),
    ("set-seccomp-profile-RuntimeDefault", "cronjob"),
    # kubescape asks for procMount to be set explicitly when the cluster enables ProcMountType; an unset
    # procMount is Default, which PSS allows.
    ("set-procmount-default", "workload"),
    # kubescape's set-seLinuxOptions fails when seLinuxOptions is *absent* (hardening wish); PSS forbids
    # only unsafe values, which lockgate reports.
    ("set-seLinuxOptions", "pod"),
    ("set-seLinuxOptions", "workloads"),
    ("set-seLinuxOptions", "cronjob"),
}

ROOT_NAME = "k8s-manifests/kubescape-regolibrary"
_CONTAINER = re.compile(r"(initContainers|containers|ephemeralContainers)\[(\d+)\]")


def _cases(corpus: Path) -> list[dict[str, Any]]:
    return list(json.loads((corpus / ROOT_NAME / "index.json").read_text()))


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj["kind"]
    if kind == "Pod":
        return dict(obj["spec"])
    if kind == "CronJob":
        return dict(obj["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(obj["spec"]["template"]["spec"])


def _expected_containers(case: dict[str, Any], root: Path) -> dict[tuple[str, str], set[str]]:
    """Container names named by kubescape's failed/fix paths, per (kind, name)."""
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for inp in case["inputs"]:
        text = (root / inp).read_text()
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and "kind" in doc:
                objects[(doc["kind"], doc.get("metadata", {}).get("name", ""))] = doc
    out: dict[tuple[str, str], set[str]] = {}
    for alert in case["alerts"]:
        paths = [*(alert.get("failedPaths") or []), *[f["path"] for f in alert.get("fixPaths") or []]]
        for kind, name in alert["objects"]:
            obj = objects.get((kind, name))
            if obj is None:
                continue
            for p in paths:
                m = _CONTAINER.search(p)
                if m:
                    spec = _pod_spec(obj)
                    out.setdefault((kind, name), set()).add(spec[m.group(1)][int(m.group(2))]["name"])
    return out


def test_mapping_covers_every_rule(corpus: Path) -> None:
    rules = {c["rule"] for c in _cases(corpus)}
    assert rules == set(MAP) | {r for r, _ in DIVERGENT}


@pytest.mark.parametrize("level", ["restricted"])
def test_flagged_objects_and_containers_match(corpus: Path, level: str) -> None:
    root = corpus / ROOT_NAME
    mismatches = []
    checked = 0
    for case in _cases(corpus):
        if (case["rule"], case["case"]) in DIVERGENT or case["rule"] not in MAP:
            continue
        ids = MAP[case["rule"]]
        report = scan_config_paths([root / i for i in case["inputs"]], MisconfigOptions(pss_level=level))
        assert not report.gaps, report.gaps
        found = [f for f in report.findings if f.id in ids]
        got = {(f.location.resource_kind, f.location.resource_name) for f in found}
        expected = {tuple(o) for a in case["alerts"] for o in a["objects"]}
        if got != expected:
            mismatches.append((case["rule"], case["case"], "objects", expected, got))
            continue
        for obj, names in _expected_containers(case, root).items():
            mine = {
                n
                for f in found
                if (f.location.resource_kind, f.location.resource_name) == obj
                for n in f.location.container.split(",")
            }
            if "" in mine:
                continue  # a pod-level field is the cause (e.g. pod runAsNonRoot: false), not one container
            if not names <= mine:
                mismatches.append((case["rule"], case["case"], "containers", obj, names, mine))
        checked += 1
    assert not mismatches, mismatches
    assert checked == len(_cases(corpus)) - len(DIVERGENT)
    assert not mismatches, mismatches


def test_baseline_level_still_reports_baseline_checks(corpus: Path) -> None:
    root = corpus / ROOT_NAME / "host-network-access/test/pod/input"
    report = scan_config_paths([root], MisconfigOptions(pss_level="baseline"))
    ids = {f.id for f in report.findings}
    assert "PSS-hostNamespaces" in ids
    assert "PSS-runAsNonRoot" not in ids  # restricted-only check
