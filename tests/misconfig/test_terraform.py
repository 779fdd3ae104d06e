"""Terraform rules; ``trivy config`` (real binary) is the oracle for the resources both tools judge.

``data/insecure.tf`` is hand-written for these tests (AWS, GCP and Azure resources).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lockgate.misconfig.model import MisconfigOptions
from lockgate.misconfig.scan import scan_config_paths
from tests.tools import requires

DATA = Path(__file__).parent / "data"
# trivy check -> lockgate rules with the same meaning
TRIVY_MAP = {
    "AWS-0107": {"LG-TF-001", "LG-TF-002"},
    "AZU-0050": {"LG-TF-001", "LG-TF-002"},
    "GCP-0070": {"LG-TF-001", "LG-TF-002"},
    "AWS-0026": {"LG-TF-006"},
    "AWS-0180": {"LG-TF-007"},
}


@pytest.mark.slow
@requires("trivy")
def test_resources_agree_with_trivy(tmp_path: Path) -> None:
    work = tmp_path / "tf"
    work.mkdir()
    shutil.copy(DATA / "insecure.tf", work / "main.tf")
    out = tmp_path / "trivy.json"
    subprocess.run(
        ["trivy", "config", "--skip-check-update", "-q", "-f", "json", "-o", str(out), str(work)],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    theirs = {
        (m["ID"], m["CauseMetadata"]["Resource"])
        for r in json.loads(out.read_text()).get("Results", [])
        for m in r.get("Misconfigurations", [])
        if m["ID"] in TRIVY_MAP
    }
    assert theirs
    report = scan_config_paths([work], MisconfigOptions())
    ours = {(f.id, f.location.resource_name) for f in report.findings}
    for tid, res in theirs:
        assert any((lid, res) in ours for lid in TRIVY_MAP[tid]), (tid, res, ours)
    mapped = set().union(*TRIVY_MAP.values())
    for lid, res in ours:
        if lid in mapped:
            assert any(res == r and lid in TRIVY_MAP[t] for t, r in theirs), (lid, res)


def test_lines_resources_and_suppression() -> None:
    text = (DATA / "insecure.tf").read_text().splitlines()
    report = scan_config_paths([DATA / "insecure.tf"], MisconfigOptions())
    by = {(f.id, f.location.resource_name): f for f in report.findings}
    expect = {
        ("LG-TF-005", "aws_s3_bucket_acl.b"): 'acl    = "public-read"',
        ("LG-TF-003", "aws_iam_policy.p"): "policy = jsonencode",
        ("LG-TF-004", "aws_iam_policy.p"): "policy = jsonencode",
        ("LG-TF-003", "data.aws_iam_policy_document.d"): "statement {",
        ("LG-TF-007", "aws_db_instance.db"): "publicly_accessible = true",
        ("LG-TF-001", "azurerm_network_security_rule.r"): "source_address_prefix",
    }
    for key, snippet in expect.items():
        assert key in by, (key, sorted(by))
        assert snippet in text[by[key].location.start_line - 1], (key, by[key].location)
    assert "internal test db" in by[("LG-TF-007", "aws_db_instance.db")].suppressed_by
    # 443 open to the world is not a sensitive port; only the SSH ingress block is reported
    sg = [f for f in report.findings if f.location.resource_name == "aws_security_group.web"]
    assert [(f.id, f.location.start_line) for f in sg] == [("LG-TF-001", 3)]


def test_invalid_hcl_is_a_gap(tmp_path: Path) -> None:
    (tmp_path / "bad.tf").write_text('resource "x" "y" {\n  a = \n')
    (tmp_path / "ok.tf").write_text('resource "aws_ebs_volume" "v" {\n  size = 1\n}\n')
    report = scan_config_paths([tmp_path], MisconfigOptions())
    assert [Path(g.where).name for g in report.gaps] == ["bad.tf"]
    assert "invalid HCL" in report.gaps[0].reason
    assert [f.id for f in report.findings] == ["LG-TF-006"]
