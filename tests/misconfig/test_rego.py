"""Custom Rego rules (conftest style) through regopy over the scanned Kubernetes objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.errors import ConfigError
from lockgate.findings.model import Severity
from lockgate.misconfig.model import MisconfigOptions
from lockgate.misconfig.scan import scan_config_paths

V1 = """\
package main
import rego.v1

deny contains msg if {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg := sprintf("%s must run as non-root", [input.metadata.name])
}

warn contains {"msg": "no team label", "id": "ORG-001", "severity": "low"} if {
  not input.metadata.labels.team
}
"""

V0 = """\
package k8s.legacy

violation[msg] {
  input.kind == "Service"
  input.spec.type == "NodePort"
  msg := "NodePort services are not allowed"
}
"""

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: shop}
spec:
  template:
    spec:
      containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  type: NodePort
"""


def test_v1_and_v0_rules(tmp_path: Path) -> None:
    pol = tmp_path / "policy"
    pol.mkdir()
    (pol / "main.rego").write_text(V1)
    (pol / "legacy.rego").write_text(V0)
    (tmp_path / "app.yaml").write_text(MANIFEST)
    report = scan_config_paths([tmp_path / "app.yaml"], MisconfigOptions(rego_paths=(str(pol),)))
    rego = {(f.id, f.location.resource_name, f.severity, f.location.start_line) for f in report.findings}
    assert ("REGO-main.deny", "web", Severity.HIGH, 1) in rego
    assert ("ORG-001", "svc", Severity.LOW, 11) in rego
    assert ("ORG-001", "web", Severity.LOW, 1) not in rego
    assert ("REGO-k8s.legacy.violation", "svc", Severity.HIGH, 11) in rego
    msgs = {f.description for f in report.findings if f.id == "REGO-main.deny"}
    assert msgs == {"web must run as non-root"}


def test_invalid_rego_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.rego").write_text("package x\ndeny contains msg if {{{\n")
    (tmp_path / "app.yaml").write_text(MANIFEST)
    with pytest.raises(ConfigError, match="invalid Rego"):
        scan_config_paths([tmp_path / "app.yaml"], MisconfigOptions(rego_paths=(str(tmp_path / "bad.rego"),)))
    with pytest.raises(ConfigError, match="not found"):
        scan_config_paths([tmp_path / "app.yaml"], MisconfigOptions(rego_paths=(str(tmp_path / "nope"),)))


DOCKER_TF = """\
package docker
import rego.v1

deny contains msg if {
  some instr in input
  instr.Cmd == "from"
  some v in instr.Value
  endswith(v, ":latest")
  msg := sprintf("line %d: base image %s uses latest", [instr.StartLine, v])
}
"""

TF = """\
package tf
import rego.v1

deny contains {"msg": sprintf("bucket %s is public", [name]), "id": "ORG-TF-1"} if {
  some name, b in input.resource[_].aws_s3_bucket
  b.acl == "public-read"
}
"""


def test_rules_over_dockerfiles_and_terraform(tmp_path: Path) -> None:
    pol = tmp_path / "pol"
    pol.mkdir()
    (pol / "docker.rego").write_text(DOCKER_TF)
    (pol / "tf.rego").write_text(TF)
    src = tmp_path / "src"
    src.mkdir()
    (src / "Dockerfile").write_text("FROM alpine:3.20 AS b\nRUN true\nFROM nginx:latest\nUSER 1\n")
    (src / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "l"\n  acl = "public-read"\n}\n')
    report = scan_config_paths([src], MisconfigOptions(rego_paths=(str(pol),)))
    rego = {
        (f.id, Path(f.location.path).name, f.description)
        for f in report.findings
        if f.severity_source.startswith("rego")
    }
    assert rego == {
        ("REGO-docker.deny", "Dockerfile", "line 3: base image nginx:latest uses latest"),
        ("ORG-TF-1", "main.tf", "bucket logs is public"),
    }
