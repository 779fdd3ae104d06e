"""Renderers: every format is valid against its official schema and carries the findings."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from lockgate.findings.model import ScanReport
from lockgate.findings.render import renderer_for
from tests.findings.sample import sample_report


@pytest.fixture
def report() -> ScanReport:
    return sample_report(gaps=True)


def test_json_round_trips(report: ScanReport) -> None:
    doc = json.loads(renderer_for("json")(report))
    assert doc["schema_version"] == 1
    assert ScanReport.from_dict(doc) == report


def test_sarif_validates_against_official_schema(report: ScanReport, corpus: Path) -> None:
    schema = json.loads((corpus / "schemas/sarif-schema-2.1.0.json").read_text())
    doc = json.loads(renderer_for("sarif")(report))
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    assert {r["ruleId"] for r in run["results"][:2]} == {"CVE-2022-3715", "aws-access-key-id"}
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    secret = next(r for r in run["results"] if r["ruleId"] == "aws-access-key-id")
    assert secret["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert run["properties"]["coverageGaps"][0]["where"] == "usr/bin/huge"


def test_spdx_validates_against_official_schema(report: ScanReport, corpus: Path) -> None:
    schema = json.loads((corpus / "schemas/spdx-schema-2.3.json").read_text())
    doc = json.loads(renderer_for("spdx")(report))
    jsonschema.validate(doc, schema)
    purls = {r["referenceLocator"] for p in doc["packages"] for r in p.get("externalRefs", [])}
    assert purls == {p.purl for p in report.packages}
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids))
    assert {r["relatedSpdxElement"] for r in doc["relationships"]} <= set(ids)


def test_cyclonedx_validates_and_lists_vulnerabilities(report: ScanReport) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = renderer_for("cyclonedx")(report)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    assert doc["metadata"]["component"]["type"] == "container"
    purls = {c.get("purl") for c in doc["components"] if c["type"] == "library"}
    assert purls == {p.purl for p in report.packages}
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert set(vulns) == {"CVE-2019-10906", "CVE-2022-3715", "CVE-2099-0001"}
    assert vulns["CVE-2019-10906"]["affects"][0]["ref"] == "pkg:pypi/jinja2@2.10"
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps["pkg:pypi/jinja2@2.10"] == ["pkg:pypi/markupsafe@1.0"]


def test_junit_counts_failures(report: ScanReport) -> None:
    root = ET.fromstring(renderer_for("junit")(report))
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "4"
    assert suite.get("errors") == "1"


def test_html_escapes_content(report: ScanReport) -> None:
    html = renderer_for("html")(report)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "CVE-2022-3715" in html


def test_table_shows_worst_first_and_gaps(report: ScanReport) -> None:
    text = renderer_for("table")(report)
    assert text.index("CVE-2022-3715") < text.index("CVE-2019-10906")
    assert "coverage gaps: 1" in text
    assert "debian 12.5" in text
