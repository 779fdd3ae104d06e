"""The gate: thresholds, exceptions (with expiry and scope), VEX, licences, unknown severity, gaps."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from lockgate.findings.model import FindingKind, Severity
from lockgate.gate.decision import Outcome
from lockgate.gate.evaluate import apply_policy, decide
from lockgate.gate.policy import Policy, parse_policy
from lockgate.gate.vex import load_vex
from tests.findings.sample import DIGEST, sample_report

TODAY = date(2026, 11, 29)


def gate(policy_text: str, *, gaps: bool = False, allow_incomplete: bool = False, vex_dir: Path | None = None):
    policy = parse_policy(policy_text, file="p.yaml", base_dir=vex_dir)
    report, prior = apply_policy(sample_report(gaps=gaps), policy, today=TODAY)
    return report, decide(report, policy, allow_incomplete=allow_incomplete, prior=prior)


def test_empty_policy_allows_but_warns_about_unknown() -> None:
    _, d = gate("{}")
    assert d.outcome is Outcome.WARN
    assert "UNKNOWN severity" in d.reasons[0].message


def test_threshold_denies_with_evidence() -> None:
    _, d = gate("vulnerabilities: {fail_on: HIGH, unknown_severity: ignore}\n")
    assert d.outcome is Outcome.DENY
    denied = {r.finding for r in d.reasons if r.outcome is Outcome.DENY}
    assert denied == {"CVE-2019-10906", "CVE-2022-3715"}
    assert all(r.rule == "p.yaml:1" for r in d.reasons)


def test_threshold_critical_only() -> None:
    _, d = gate("vulnerabilities: {fail_on: CRITICAL, unknown_severity: ignore}\n")
    assert {r.finding for r in d.reasons} == {"CVE-2022-3715"}


def test_unknown_severity_fail_mode() -> None:
    _, d = gate("vulnerabilities: {unknown_severity: fail}\n")
    assert d.outcome is Outcome.DENY
    assert [r.finding for r in d.reasons] == ["CVE-2099-0001"]


def test_exception_by_alias_and_purl_suppresses() -> None:
    report, d = gate(
        "vulnerabilities: {fail_on: HIGH, unknown_severity: ignore}\n"
        "exceptions:\n"
        "  - {id: GHSA-462w-v97r-4m45, purl: 'pkg:pypi/jinja2', reason: not reachable, expires: 2027-01-31}\n"
        "  - {id: CVE-2022-3715, purl: 'pkg:npm/bash'}\n"
    )
    jinja = next(f for f in report.findings if f.id == "CVE-2019-10906")
    assert jinja.suppressed_by == "exception p.yaml:3: not reachable"
    bash = next(f for f in report.findings if f.id == "CVE-2022-3715")
    assert bash.suppressed_by == ""  # purl scope did not match
    assert {r.finding for r in d.reasons if r.outcome is Outcome.DENY} == {"CVE-2022-3715"}


def test_expired_exception_stops_suppressing_and_is_reported() -> None:
    report, d = gate(
        "vulnerabilities: {fail_on: HIGH, unknown_severity: ignore}\n"
        "exceptions: [{id: CVE-2019-10906, expires: 2026-11-28}]\n"
    )
    assert all(not f.suppressed_by for f in report.findings)
    expired = [r for r in d.reasons if "expired" in r.message]
    assert len(expired) == 1 and expired[0].rule == "p.yaml:2"
    assert "CVE-2019-10906" in {r.finding for r in d.reasons if r.outcome is Outcome.DENY}


def test_exception_valid_on_its_last_day() -> None:
    report, _ = gate("exceptions: [{id: CVE-2019-10906, expires: 2026-11-29}]\n")
    assert next(f for f in report.findings if f.id == "CVE-2019-10906").suppressed_by


def test_ignore_unfixed_drops_unfixed() -> None:
    report, _ = gate("vulnerabilities: {ignore_unfixed: true}\n")
    vulns = [f.id for f in report.findings if f.kind is FindingKind.VULNERABILITY]
    assert vulns == ["CVE-2019-10906"]


def test_gaps_deny_unless_allowed() -> None:
    _, d = gate("vulnerabilities: {unknown_severity: ignore}\n", gaps=True)
    assert d.outcome is Outcome.DENY and "coverage gap" in d.reasons[0].message
    _, d = gate("vulnerabilities: {unknown_severity: ignore}\n", gaps=True, allow_incomplete=True)
    assert d.outcome is Outcome.WARN


def test_license_deny_produces_finding() -> None:
    report, d = gate("licenses: {deny: [AGPL-3.0-only]}\nvulnerabilities: {unknown_severity: ignore}\n")
    lic = [f for f in report.findings if f.kind is FindingKind.LICENSE]
    assert [f.package.name for f in lic if f.package] == ["markupsafe"]
    assert d.outcome is Outcome.DENY
    assert lic[0].severity is Severity.HIGH


def test_license_allow_list_with_or_choice() -> None:
    from lockgate.gate.licenses import license_findings
    from lockgate.gate.policy import LicensePolicy
    from lockgate.inventory.model import Package

    pkgs = (
        Package("npm", "a", "1", licenses=("MIT OR GPL-3.0-only",)),
        Package("npm", "b", "1", licenses=("GPL-3.0-only",)),
        Package("npm", "c", "1", licenses=("(MIT AND Apache-2.0)",)),
        Package("npm", "d", "1", licenses=("GPL-2.0-only WITH Classpath-exception-2.0",)),
    )
    got = license_findings(pkgs, LicensePolicy(allow=("MIT", "Apache-2.0")))
    assert [f.package.name for f in got if f.package] == ["b", "d"]
    got = license_findings(pkgs, LicensePolicy(deny=("GPL-3.0-only",)))
    assert [f.package.name for f in got if f.package] == ["b"]


def _vex(tmp_path: Path, product: str, sub: str, status: str = "not_affected") -> Path:
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex-1",
        "author": "test",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2022-3715"},
                "products": [{"@id": product, "subcomponents": [{"@id": sub}]}],
                "status": status,
                "justification": "vulnerable_code_not_in_execute_path",
            }
        ],
    }
    p = tmp_path / "vex.json"
    p.write_text(json.dumps(doc))
    return p


def test_vex_needs_product_and_subcomponent(tmp_path: Path) -> None:
    image_purl = f"pkg:oci/demo@{DIGEST.replace(':', '%3A')}"
    base = "vulnerabilities: {fail_on: CRITICAL, unknown_severity: ignore, vex: [vex.json]}\n"
    _vex(tmp_path, image_purl, "pkg:deb/debian/bash")
    report, d = gate(base, vex_dir=tmp_path)
    assert next(f for f in report.findings if f.id == "CVE-2022-3715").suppressed_by.startswith("VEX not_affected")
    assert d.outcome is Outcome.ALLOW
    # Same statement for another image digest: no effect.
    _vex(tmp_path, "sha256:" + "c" * 64, "pkg:deb/debian/bash")
    _, d = gate(base, vex_dir=tmp_path)
    assert d.outcome is Outcome.DENY
    # Right image, wrong package: no effect.
    _vex(tmp_path, DIGEST, "pkg:deb/debian/zsh")
    _, d = gate(base, vex_dir=tmp_path)
    assert d.outcome is Outcome.DENY
    # Status "affected" never suppresses.
    _vex(tmp_path, DIGEST, "pkg:deb/debian/bash", status="affected")
    _, d = gate(base, vex_dir=tmp_path)
    assert d.outcome is Outcome.DENY


def test_vex_rejects_non_openvex(tmp_path: Path) -> None:
    import pytest

    from lockgate.errors import InputError

    p = tmp_path / "v.json"
    p.write_text('{"statements": []}')
    with pytest.raises(InputError, match="not an OpenVEX"):
        load_vex(p)


def test_empty_policy_object() -> None:
    assert Policy().vulnerabilities.fail_on is None
