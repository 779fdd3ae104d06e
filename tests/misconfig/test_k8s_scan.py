"""Kubernetes scanning end to end: exact positions, multi-document/List/JSON input, workloads, RBAC,
suppressions, bad input, and the facts the kubernetes/examples corpus README lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lockgate.config import Limits, Settings
from lockgate.findings.model import FindingKind, Severity
from lockgate.misconfig.model import MisconfigOptions
from lockgate.misconfig.scan import scan_config_paths
from tests.tools import requires

MANIFEST = """\
# leading comment
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: nginx:latest
          securityContext:
            privileged: true
            capabilities:
              add: ["SYS_ADMIN"]
          env:
            - name: DB_PASSWORD
              value: hunter2hunter2
            - name: API_KEY
              valueFrom:
                secretKeyRef: {name: api, key: key}
---
apiVersion: v1
kind: List
items:
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: god}
    rules:
      - apiGroups: [""]
        resources: ["secrets"]
        verbs: ["get", "list", "escalate"]
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: everyone-admin}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    subjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]
"""


def _pos(text: str, line_text: str, token: str) -> tuple[int, int]:
    """1-based line and column of ``token`` on the unique line containing ``line_text`` (the oracle)."""
    lines = text.splitlines()
    matches = [i for i, ln in enumerate(lines) if line_text in ln]
    assert len(matches) == 1, line_text
    return matches[0] + 1, lines[matches[0]].index(token) + 1


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    p = tmp_path / "app.yaml"
    p.write_text(MANIFEST)
    return p


def _by_id(report, rule_id):  # type: ignore[no-untyped-def]
    found = [f for f in report.findings if f.id == rule_id]
    assert found, f"{rule_id} not reported: {sorted({f.id for f in report.findings})}"
    return found


@pytest.mark.parametrize(
    ("rule_id", "line_text", "token"),
    [
        ("PSS-privileged", "privileged: true", "privileged"),
        ("PSS-hostNamespaces", "hostNetwork: true", "hostNetwork"),
        ("PSS-capabilities_restricted", 'add: ["SYS_ADMIN"]', '"SYS_ADMIN"'),
        ("LG-K8S-004", "image: nginx:latest", "image"),
        ("LG-K8S-011", "value: hunter2hunter2", "value"),
        ("LG-K8S-014", 'add: ["SYS_ADMIN"]', '"SYS_ADMIN"'),
        ("LG-K8S-025", "secretKeyRef: {name: api", "secretKeyRef"),
        ("LG-RBAC-002", 'verbs: ["get", "list", "escalate"]', '"escalate"'),
        ("LG-RBAC-003", 'resources: ["secrets"]', "resources"),
        ("LG-RBAC-004", "roleRef:", "name: cluster-admin"),
    ],
)
def test_line_and_column_of_offending_field(manifest: Path, rule_id: str, line_text: str, token: str) -> None:
    report = scan_config_paths([manifest], MisconfigOptions())
    line, col = _pos(MANIFEST, line_text, token)
    locs = [(f.location.start_line, f.location.column) for f in _by_id(report, rule_id)]
    assert (line, col) in locs, (rule_id, locs)


def test_resource_and_container_context(manifest: Path) -> None:
    report = scan_config_paths([manifest], MisconfigOptions())
    (f,) = _by_id(report, "PSS-privileged")
    assert f.kind is FindingKind.MISCONFIGURATION
    assert (f.location.resource_kind, f.location.resource_name, f.location.namespace, f.location.container) == (
        "Deployment",
        "web",
        "shop",
        "app",
    )
    assert f.location.path == str(manifest)
    assert f.severity is Severity.CRITICAL and f.remediation and f.references
    (rb,) = _by_id(report, "LG-RBAC-004")
    assert (rb.location.resource_kind, rb.location.resource_name) == ("ClusterRoleBinding", "everyone-admin")
    # the Namespace has no NetworkPolicy among the scanned files
    (np,) = _by_id(report, "LG-K8S-020")
    assert np.location.resource_name == "shop"
    assert report.artifact_type == "config" and not report.gaps


def test_json_manifest_positions(tmp_path: Path) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": {"privileged": True}}]},
    }
    text = json.dumps(doc, indent=2)
    p = tmp_path / "pod.json"
    p.write_text(text)
    report = scan_config_paths([p], MisconfigOptions())
    (f,) = _by_id(report, "PSS-privileged")
    assert (f.location.start_line, f.location.column) == _pos(text, '"privileged": true', '"privileged"')


def test_pss_level_and_version_change_results(manifest: Path, tmp_path: Path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n"
        "  containers: [{name: c, image: busybox}]\n"
    )
    latest = {f.id for f in scan_config_paths([pod], MisconfigOptions(pss_version="latest")).findings}
    v10 = {f.id for f in scan_config_paths([pod], MisconfigOptions(pss_version="v1.0")).findings}
    base = {f.id for f in scan_config_paths([pod], MisconfigOptions(pss_level="baseline")).findings}
    assert "PSS-allowPrivilegeEscalation" in latest and "PSS-seccompProfile_restricted" in latest
    assert "PSS-allowPrivilegeEscalation" not in v10 and "PSS-seccompProfile_restricted" not in v10
    assert not {i for i in base if i.startswith("PSS-")}


def test_disable_and_severity_override(manifest: Path) -> None:
    opts = MisconfigOptions(disable=("LG-K8S-004", "rbac"), severity_overrides=(("PSS-privileged", Severity.LOW),))
    report = scan_config_paths([manifest], opts)
    ids = {f.id for f in report.findings}
    assert "LG-K8S-004" not in ids and not {i for i in ids if i.startswith("LG-RBAC")}
    assert {f.severity for f in report.findings if f.id == "PSS-privileged"} == {Severity.LOW}


def test_inline_annotation_suppression(tmp_path: Path) -> None:
    p = tmp_path / "pod.yaml"
    p.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        "    lockgate.io/ignore: PSS-privileged, LG-K8S-016\n    lockgate.io/ignore-reason: node agent\n"
        "spec:\n  containers:\n  - name: c\n    image: busybox\n    securityContext: {privileged: true}\n"
    )
    report = scan_config_paths([p], MisconfigOptions())
    priv = _by_id(report, "PSS-privileged")
    assert all("node agent" in f.suppressed_by for f in priv)
    assert all(not f.suppressed_by for f in report.findings if f.id not in ("PSS-privileged", "LG-K8S-016"))


def test_ignore_file_with_expiry(manifest: Path, tmp_path: Path) -> None:
    ign = tmp_path / ".lockgateignore"
    ign.write_text("LG-K8S-004  # latest is fine here\nLG-RBAC-004 exp:2000-01-01\n")
    report = scan_config_paths([manifest], MisconfigOptions(ignore_file=str(ign)))
    assert all(f.suppressed_by for f in report.findings if f.id == "LG-K8S-004")
    assert all(not f.suppressed_by for f in report.findings if f.id == "LG-RBAC-004")  # expired entry


def test_bad_inputs_become_gaps_and_the_scan_continues(tmp_path: Path, manifest: Path) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    (d / "good.yaml").write_text(MANIFEST)
    (d / "broken.yaml").write_text("kind: Pod\n  bad: [indent\n")
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    (d / "laughs.yaml").write_text(laughs)
    (d / "junk.yaml").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    (d / "big.yaml").write_text("a: " + "x" * 5000 + "\n")
    (d / "unrelated.yaml").write_text("just: some\nconfig: true\n")
    (d / "deep.yaml").write_text("[" * 3000 + "]" * 3000)
    settings = Settings(limits=Limits(max_yaml_bytes=4096))
    report = scan_config_paths([d], MisconfigOptions(), settings)
    gaps = {Path(g.where).name: g.reason for g in report.gaps}
    assert set(gaps) == {"broken.yaml", "laughs.yaml", "junk.yaml", "big.yaml", "deep.yaml"}, gaps
    assert "alias" in gaps["laughs.yaml"] and "limit" in gaps["big.yaml"] and "binary" in gaps["junk.yaml"]
    assert all("\n" not in r for r in gaps.values())
    assert {f.location.path for f in report.findings} == {str(d / "good.yaml")}


def test_missing_path_is_a_gap(tmp_path: Path) -> None:
    report = scan_config_paths([tmp_path / "nope.yaml"], MisconfigOptions())
    assert [g.where for g in report.gaps] == [str(tmp_path / "nope.yaml")]


EXAMPLES = "k8s-manifests/kubernetes-examples"


def test_kubernetes_examples_readme_facts(corpus: Path) -> None:
    root = corpus / EXAMPLES
    report = scan_config_paths([root], MisconfigOptions(pss_level="baseline"))

    def files(rule: str) -> set[str]:
        return {str(Path(f.location.path).relative_to(root)) for f in report.findings if f.id == rule}

    priv = files("PSS-privileged")
    assert {
        "_archived/sysdig-cloud/sysdig-rc.yaml",
        "_archived/sysdig-cloud/sysdig-daemonset.yaml",
        "_archived/newrelic-infrastructure/newrelic-infra-daemonset.yaml",
        "_archived/elasticsearch/es-rc.yaml",
        "_archived/podsecuritypolicy/rbac/pod_priv.yaml",
    } <= priv
    host_ns = files("PSS-hostNamespaces")
    sock = files("LG-K8S-012")
    for f in (
        "_archived/sysdig-cloud/sysdig-rc.yaml",
        "_archived/newrelic-infrastructure/newrelic-infra-daemonset.yaml",
    ):
        assert f in host_ns and f in sock
    assert "_archived/storage/vitess/vttablet-pod-template.yaml" in files("PSS-hostPathVolumes")
    # only the Go-templated config file cannot be parsed as YAML
    assert [Path(g.where).name for g in report.gaps] == ["newrelic-config-template.yaml"]
    # every privileged finding points at a line that really says privileged: true
    for f in report.findings:
        if f.id == "PSS-privileged":
            line = Path(f.location.path).read_text().splitlines()[f.location.start_line - 1]
            assert "privileged" in line and "true" in line.lower(), (f.location, line)


@requires("kubectl")
def test_kustomize_directory_is_rendered(tmp_path: Path) -> None:
    d = tmp_path / "overlay"
    d.mkdir()
    (d / "kustomization.yaml").write_text("namePrefix: prod-\nnamespace: shop\nresources: [pod.yaml]\n")
    (d / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: c\n    image: x\n"
        "    securityContext: {privileged: true}\n"
    )
    (d / "Dockerfile").write_text("FROM scratch\nUSER root\n")
    report = scan_config_paths([d], MisconfigOptions())
    priv = [f for f in report.findings if f.id == "PSS-privileged"]
    assert [(f.location.resource_name, f.location.namespace, f.location.path) for f in priv] == [
        ("prod-web", "shop", f"kustomize:{d}")
    ]
    assert any(f.id == "LG-DF-002" for f in report.findings)  # other file types in the tree still scanned


EXPOSURE = """\
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: shop}
spec: {type: NodePort}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: shop}
spec:
  rules: [{host: a.example}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, namespace: shop}
spec:
  tls: [{hosts: [a.example], secretName: a}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}}
---
apiVersion: v1
kind: Namespace
metadata: {name: open}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: a, image: "ghcr.io/org/a:1.0"}
      - name: b
        image: "registry.internal/b:2@sha256:1111111111111111111111111111111111111111111111111111111111111111"
"""


def test_exposure_namespaces_and_registry_allow_list(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_text(EXPOSURE)
    report = scan_config_paths([p], MisconfigOptions(allowed_registries=("registry.internal",)))
    got = {(f.id, f.location.resource_name, f.location.container) for f in report.findings}
    assert ("LG-K8S-017", "lb", "") in got and ("LG-K8S-018", "np", "") in got
    assert ("LG-K8S-008", "lb", "") in got and not any(i == "LG-K8S-008" and n != "lb" for i, n, _ in got)
    assert ("LG-K8S-019", "plain", "") in got and not any(n == "secure" for _, n, _ in got)
    assert ("LG-K8S-020", "open", "") in got and ("LG-K8S-021", "open", "") in got
    assert not any(n == "shop" for _, n, _ in got)  # labelled and covered by a NetworkPolicy
    assert ("LG-K8S-006", "j", "a") in got and ("LG-K8S-006", "j", "b") not in got
    assert ("LG-K8S-005", "j", "a") in got and ("LG-K8S-005", "j", "b") not in got
    # Jobs are not long-running: no probe findings
    assert not any(i in ("LG-K8S-009", "LG-K8S-010") for i, _, _ in got)


def test_json_list_with_tabs_falls_back_to_json(tmp_path: Path) -> None:
    """YAML 1.1 rejects tab indentation; such JSON is still scanned (without positions)."""
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
             "spec": {"hostPID": True, "containers": [{"name": "c", "image": "x"}]}},
        ],
    }  # fmt: skip
    p = tmp_path / "list.json"
    p.write_text(json.dumps(doc, indent="\t"))
    report = scan_config_paths([p], MisconfigOptions())
    assert not report.gaps
    hits = [f for f in report.findings if f.id == "PSS-hostNamespaces"]
    assert [(f.location.resource_kind, f.location.resource_name) for f in hits] == [("Pod", "a")]


HELM_OUTPUT = """\
---
# Source: web/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: release-web
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-web
  labels:
    helm.sh/chart: web-0.1.0
spec:
  template:
    spec:
      hostIPC: true
      containers:
        - name: web
          image: "nginx:1.16.0"
"""


def test_helm_template_output_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(HELM_OUTPUT.encode())))
    report = scan_config_paths(["-"], MisconfigOptions())
    (f,) = [f for f in report.findings if f.id == "PSS-hostNamespaces"]
    line, col = _pos(HELM_OUTPUT, "hostIPC: true", "hostIPC")
    assert (f.location.path, f.location.start_line, f.location.column) == ("-", line, col)
    assert f.location.resource_name == "release-web"


def test_windows_pods_skip_linux_only_rules(tmp_path: Path) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec:\n  os: {name: windows}\n"
        "  securityContext: {runAsNonRoot: true}\n  containers: [{name: c, image: x}]\n"
    )
    (tmp_path / "w.yaml").write_text(pod)
    ids = {f.id for f in scan_config_paths([tmp_path / "w.yaml"], MisconfigOptions()).findings}
    assert not ids & {"LG-K8S-003", "LG-K8S-015", "PSS-seccompProfile_restricted", "PSS-capabilities_restricted"}
    assert "LG-K8S-002" in ids  # resource limits apply to every OS
    linux = scan_config_paths([tmp_path / "w.yaml"], MisconfigOptions(pss_version="v1.24"))
    assert "PSS-seccompProfile_restricted" in {f.id for f in linux.findings}  # before v1.25 windows is not exempt


def test_helm_chart_templates_are_skipped_with_a_warning(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image: {tag: latest}\n")
    (chart / "templates" / "deployment.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n{{- if .Values.x }}\n")
    report = scan_config_paths([tmp_path], MisconfigOptions())
    assert not report.gaps and not report.findings
    assert any("helm template" in w for w in report.warnings)
