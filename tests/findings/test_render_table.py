"""The table renderer's direct path for reports without a table, against Rich's own output.

Random reports with no active finding (targets, OS, suppressed findings, coverage gaps and
warnings with colons, brackets, backslashes, emoji codes, tabs, Unicode and over-long lines) must
render exactly as Rich renders them; the direct path must be taken for the plain ones.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from lockgate.findings.model import CoverageGap, Finding, FindingKind, ScanReport, Severity
from lockgate.findings.render import table
from lockgate.inventory.model import OSInfo, Package
from tests.findings.sample import sample_report

_PIECES = [*"abcXYZ019 .-_/@#()", "oci:", ":tag", "sha256:", "[", "]", "[x]", "[/]", "[END]", "[bold]", "\\", ":smile:"]
_PIECES += ["::", "—", "é", "\t", "\x07", "漢", "x" * 70, " ", "[#f00]", "[@click]", "[1]"]


def _text(rnd: random.Random, n: int, odd: float) -> str:
    return "".join(rnd.choice(_PIECES) if rnd.random() < odd else rnd.choice("abcdefgh-./ ") for _ in range(n))


def _report(rnd: random.Random) -> ScanReport:
    odd = rnd.choice([0.0, 0.01, 0.15])
    os = rnd.choice([None, OSInfo("debian", "12.5"), OSInfo("debian", "11.11", eol="2026-08-31", eosl=True)])
    suppressed = tuple(
        Finding(kind=FindingKind.VULNERABILITY, id=f"CVE-{i}", severity=Severity.HIGH, suppressed_by="vex")
        for i in range(rnd.choice([0, 0, 2]))
    )
    return ScanReport(
        target=rnd.choice(
            ["oci:/srv/img", "docker.io/library/alpine:3.20", "/srv/app", _text(rnd, rnd.randint(1, 40), odd)]
        ),
        artifact_type="container_image",
        artifact_digest=rnd.choice(["", "sha256:" + "c" * 64]),
        os=os,
        packages=tuple(Package("deb", f"p{i}", "1") for i in range(rnd.randint(0, 3))),
        findings=suppressed,
        gaps=tuple(
            CoverageGap(_text(rnd, 12, odd), _text(rnd, 30, odd)) for _ in range(rnd.choice([0, 0, 1, 3, 21, 25]))
        ),
        warnings=tuple(_text(rnd, rnd.randint(0, 60), odd) for _ in range(rnd.choice([0, 1, 2]))),
    )


def _rich(report: ScanReport, monkeypatch: pytest.MonkeyPatch, **kw: object) -> str:
    with monkeypatch.context() as m:
        m.setattr(table, "_plain", lambda *_: None)
        return table.render_table(report, **kw)  # type: ignore[arg-type]


def _outcome(render: object, *args: object, **kw: object) -> str:
    try:
        return str(render(*args, **kw))  # type: ignore[operator]
    except Exception as exc:  # Rich rejects some text as markup ("[/]" closing nothing)
        return f"error: {type(exc).__name__}"


def test_reports_without_tables_render_as_rich_renders_them(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(29)
    direct = 0
    for _ in range(1500):
        report = _report(rnd)
        width = rnd.choice([160, 160, 60])
        got = _outcome(table.render_table, report, width=width)
        assert got == _outcome(_rich, report, monkeypatch, width=width), report
        direct += table._plain(report, width) is not None
    assert 300 < direct < 1400  # both paths taken


def test_tables_and_colour_stay_with_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    report = sample_report(gaps=True)
    assert table._plain(report, 160) is None
    assert table.render_table(report) == _rich(report, monkeypatch)
    clean = ScanReport(target="oci:/srv/img", artifact_type="container_image", os=OSInfo("debian", "12.5"))
    assert table.render_table(clean) == "oci:/srv/img — debian 12.5\n" + (
        "packages: 0  findings: 0 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)\n"
    )
    assert table.render_table(clean, color=True) == _rich(clean, monkeypatch, color=True)


def test_a_clean_report_does_not_import_rich() -> None:
    code = (
        "import sys\n"
        "from lockgate.findings.model import ScanReport\n"
        "from lockgate.findings.render.table import render_table\n"
        "assert render_table(ScanReport(target='oci:/srv/img', artifact_type='container_image'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
