"""Policy file parsing: every section, unknown keys and bad values name the file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lockgate.errors import ConfigError, LimitExceededError
from lockgate.findings.model import Severity
from lockgate.gate.policy import UnknownSeverity, load_ignore_file, load_policy, parse_policy

FULL = """\
vulnerabilities: {fail_on: HIGH, ignore_unfixed: true, unknown_severity: fail, vex: [vex/openvex.json]}
exceptions:
  - {id: CVE-2024-1234, purl: "pkg:pypi/jinja2", reason: "not reachable", expires: 2027-01-31}
  - CVE-2020-0001
licenses:        {deny: [AGPL-3.0-only], allow: []}
misconfig:       {pss: {level: restricted, version: latest}, disable: [KSV-001], severity_overrides: {KSV-002: LOW}}
secrets:         {fail_on: HIGH}
malware:         {fail_on: LOW}
trust:           [{scope: "registry.example.com/prod/*", signers: {keys: [keys/release.pub], threshold: 1}}]
"""


def test_full_policy_parses(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(FULL)
    p = load_policy(tmp_path / "p.yaml")
    assert p.vulnerabilities.fail_on is Severity.HIGH
    assert p.vulnerabilities.ignore_unfixed is True
    assert p.vulnerabilities.unknown_severity is UnknownSeverity.FAIL
    assert p.vulnerabilities.vex == (tmp_path / "vex/openvex.json",)
    first, second = p.exceptions
    assert first.id == "CVE-2024-1234" and first.purl == "pkg:pypi/jinja2"
    assert first.expires == date(2027, 1, 31)
    assert first.source.line == 3 and second.source.line == 4
    assert second.id == "CVE-2020-0001" and second.expires is None
    assert p.licenses.deny == ("AGPL-3.0-only",)
    assert p.misconfig.disable == ("KSV-001",)
    assert p.misconfig.severity_overrides == (("KSV-002", Severity.LOW),)
    assert p.secrets.fail_on is Severity.HIGH and p.malware.fail_on is Severity.LOW
    assert p.trust[0]["scope"] == "registry.example.com/prod/*"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("vulnerabilites: {fail_on: HIGH}\n", "p.yaml:1: vulnerabilites: unknown key"),
        ("vulnerabilities:\n  fail_on: SEVERE\n", "p.yaml:2: vulnerabilities.fail_on: unknown severity"),
        ("vulnerabilities: {unknown_severity: maybe}\n", "expected fail, warn or ignore"),
        ("exceptions:\n  - {reason: x}\n", "p.yaml:2: exceptions.0: exception needs an 'id'"),
        ("exceptions:\n  - {id: X, expires: tomorrow}\n", "invalid date"),
        ("licenses: {deny: AGPL}\n", "expected a list of strings"),
        ("misconfig: {pss: {level: strict}}\n", "expected privileged, baseline or restricted"),
        ("vulnerabilities: [1, 2\n", "invalid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_bad_policies_fail_with_location(tmp_path: Path, text: str, fragment: str) -> None:
    (tmp_path / "p.yaml").write_text(text)
    with pytest.raises(ConfigError) as e:
        load_policy(tmp_path / "p.yaml")
    assert fragment in str(e.value)


def test_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    with pytest.raises(LimitExceededError):
        parse_policy(bomb)


def test_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        load_policy(tmp_path / "nope.yaml")


def test_lockgateignore_plain_lines(tmp_path: Path) -> None:
    f = tmp_path / ".lockgateignore"
    f.write_text("# accepted risks\nCVE-2023-1 # not reachable\n\nGHSA-xxxx purl=pkg:npm/lodash exp:2026-01-01\n")
    a, b = load_ignore_file(f)
    assert (a.id, a.reason, a.source.line) == ("CVE-2023-1", "not reachable", 2)
    assert (b.id, b.purl, b.expires) == ("GHSA-xxxx", "pkg:npm/lodash", date(2026, 1, 1))


def test_lockgateignore_bad_token(tmp_path: Path) -> None:
    f = tmp_path / ".lockgateignore"
    f.write_text("CVE-1 color=red\n")
    with pytest.raises(ConfigError, match=r"\.lockgateignore:1"):
        load_ignore_file(f)
