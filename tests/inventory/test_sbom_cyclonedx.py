"""CycloneDX SBOMs of real inventories: the hand-written emitter against cyclonedx-python-lib (the oracle).

A debootstrapped Debian image (88 packages with the licences of their copyright files: SPDX
ids, expressions and free-form names), a pip-built virtualenv and an npm ``node_modules``
tree (scoped packages, whose purls need packageurl's normalisation), and the scan tests'
vulnerable Alpine image scanned with a real advisory DB (vulnerabilities, CVSS, aliases).
Each document must equal the library's (serial number, timestamp and vulnerability
bom-refs aside) and validate against the official CycloneDX 1.6 schema.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lockgate.config import Settings
from lockgate.findings.model import ScanReport
from lockgate.findings.render.cyclonedx import render_cyclonedx
from lockgate.scan.options import Scanner, ScanOptions
from lockgate.scan.service import scan_directory, scan_image
from tests.findings.cyclonedx_oracle import comparable, render_with_library
from tests.inventory.test_lang_oracles import NPM_DEPS, NPM_DEV_DEPS, PY_PACKAGES, _build_node, _build_venv, _cached
from tests.scan.conftest import ScanEnv, lockgate, scan_env  # noqa: F401  (the vulnerable image fixture)

PKG_ONLY = ScanOptions(scanners=frozenset({Scanner.PKG}))


def _check(report: ScanReport) -> dict[str, Any]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = render_cyclonedx(report)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = comparable(text)
    assert doc == comparable(render_with_library(report))
    return doc


def test_debian_image_sbom_equals_the_librarys(debian_image: Any, tmp_path: Path) -> None:
    report = scan_image(debian_image.oci_ref, PKG_ONLY, Settings(cache_dir=tmp_path / "cache"))
    assert len(report.packages) > 50
    doc = _check(report)
    licences = [lic for c in doc["components"] for lic in c.get("licenses", [])]
    assert {"id", "name"} <= {k for lic in licences for k in lic.get("license", {})}
    assert doc["metadata"]["component"]["version"] == report.artifact_digest


def test_virtualenv_sbom_equals_the_librarys(tmp_path: Path) -> None:
    venv = _cached("lang-pyvenv", " ".join(PY_PACKAGES) + sys.version, _build_venv) / "venv"
    report = scan_directory(venv, PKG_ONLY, Settings(cache_dir=tmp_path / "cache"))
    doc = _check(report)
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert "pkg:pypi/six@1.16.0" in deps["pkg:pypi/python-dateutil@2.9.0.post0"]


def test_node_modules_sbom_equals_the_librarys(tmp_path: Path) -> None:
    app = _cached("lang-node", json.dumps([NPM_DEPS, NPM_DEV_DEPS]), _build_node) / "app"
    report = scan_directory(app, PKG_ONLY, Settings(cache_dir=tmp_path / "cache"))
    doc = _check(report)
    assert "pkg:npm/%40sindresorhus/is@4.6.0" in {c.get("purl") for c in doc["components"]}


def test_vulnerability_scan_equals_the_librarys(scan_env: ScanEnv) -> None:  # noqa: F811
    args = ("scan", "image", scan_env.image, "--db", str(scan_env.db), "--db-max-age", "36500d", "--scanners", "vuln")
    r = lockgate(*args, "-f", "json")
    assert r.returncode == 0, r.stderr
    report = ScanReport.from_dict(json.loads(r.stdout))
    assert len(report.findings) > 20 and any(f.aliases for f in report.findings)
    doc = _check(report)
    assert len(doc["vulnerabilities"]) == len(report.findings)
    # The CLI writes the same document.
    cli = lockgate(*args, "-f", "cyclonedx")
    assert cli.returncode == 0, cli.stderr
    assert comparable(cli.stdout) == doc
