"""The table renderer's direct path against Rich's own output.

Random reports (targets, OS, vulnerabilities and other findings, suppressed findings, coverage gaps
and warnings, with colons, brackets, backslashes, emoji codes, tabs, Unicode, empty cells and
over-long lines, at several widths) must render exactly as Rich renders them; the direct path must
be taken for the plain ones, tables included.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest

from lockgate.findings.model import CoverageGap, Finding, FindingKind, FixStatus, Location, ScanReport, Severity
from lockgate.findings.render import table
from lockgate.inventory.model import OSInfo, Package
from tests.findings.sample import sample_report

_PIECES = [*"abcXYZ019 .-_/@#()", "oci:", ":tag", "sha256:", "[", "]", "[x]", "[/]", "[END]", "[bold]", "\\", ":smile:"]
_PIECES += ["::", "—", "é", "\t", "\x07", "漢", "x" * 70, " ", "[#f00]", "[@click]", "[1]"]


def _text(rnd: random.Random, n: int, odd: float) -> str:
    text = "".join(rnd.choice(_PIECES) if rnd.random() < odd else rnd.choice("abcdefgh-./ ") for _ in range(n))
    return rnd.choice(["", " ", "  "]) + text + rnd.choice(["", " ", "   "]) if rnd.random() < 0.2 else text


def _finding(rnd: random.Random, odd: float, suppressed: bool) -> Finding:
    kind = rnd.choice(
        [FindingKind.VULNERABILITY, FindingKind.VULNERABILITY, FindingKind.SECRET, FindingKind.MISCONFIGURATION]
    )
    return Finding(
        kind=kind,
        id=rnd.choice(["CVE-2024-0001", "GHSA-xxxx-yyyy", _text(rnd, rnd.randint(1, 20), odd)]),
        severity=rnd.choice(list(Severity)),
        title=_text(rnd, rnd.choice([0, 10, 40, 90]), odd),
        package=Package("deb", _text(rnd, rnd.randint(1, 25), odd), "1.0") if rnd.random() < 0.9 else None,
        installed_version=_text(rnd, rnd.randint(0, 15), odd),
        fixed_versions=tuple(_text(rnd, 8, odd) for _ in range(rnd.choice([0, 1, 2]))),
        fix_status=rnd.choice(list(FixStatus)),
        location=Location(
            path=_text(rnd, rnd.randint(0, 30), odd),
            start_line=rnd.choice([0, 7]),
            resource_kind=rnd.choice(["", "Pod"]),
            resource_name=rnd.choice(["", "web"]),
        ),
        suppressed_by="vex" if suppressed else "",
    )


def _report(rnd: random.Random) -> ScanReport:
    odd = rnd.choice([0.0, 0.01, 0.15])
    findings = tuple(_finding(rnd, odd, suppressed=True) for _ in range(rnd.choice([0, 0, 2])))
    if rnd.random() < 0.6:
        findings += tuple(_finding(rnd, odd, suppressed=False) for _ in range(rnd.choice([1, 3, 12])))
    os = rnd.choice([None, OSInfo("debian", "12.5"), OSInfo("debian", "11.11", eol="2026-08-31", eosl=True)])
    return ScanReport(
        target=rnd.choice(
            ["oci:/srv/img", "docker.io/library/alpine:3.20", "/srv/app", _text(rnd, rnd.randint(1, 40), odd)]
        ),
        artifact_type="container_image",
        artifact_digest=rnd.choice(["", "sha256:" + "c" * 64]),
        os=os,
        packages=tuple(Package("deb", f"p{i}", "1") for i in range(rnd.randint(0, 3))),
        findings=findings,
        gaps=tuple(
            CoverageGap(_text(rnd, 12, odd), _text(rnd, 30, odd)) for _ in range(rnd.choice([0, 0, 1, 3, 21, 25]))
        ),
        warnings=tuple(_text(rnd, rnd.randint(0, 60), odd) for _ in range(rnd.choice([0, 1, 2]))),
    )


def _rich(report: ScanReport, monkeypatch: pytest.MonkeyPatch, **kw: object) -> str:
    with monkeypatch.context() as m:
        m.setattr(table, "_direct", lambda *_: None)
        return table.render_table(report, **kw)  # type: ignore[arg-type]


def _outcome(render: object, *args: object, **kw: object) -> str:
    try:
        return str(render(*args, **kw))  # type: ignore[operator]
    except Exception as exc:  # Rich rejects some text as markup ("[/]" closing nothing)
        return f"error: {type(exc).__name__}"


def test_reports_render_as_rich_renders_them(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(29)
    direct = {"no table": 0, "table": 0, "wrapped table": 0}  # reports written directly
    for _ in range(1200):
        report = _report(rnd)
        width = rnd.choice([160, 160, 250, 120, 100, 80, 60, 40, 25])
        got = _outcome(table.render_table, report, width=width)
        assert got == _outcome(_rich, report, monkeypatch, width=width), (report, width)
        items = table._items(report)
        if table._direct(items, width) is not None:
            tables = [i for i in items if isinstance(i, table._Table)]
            natural = [
                sum(len(max(c, key=len)) + 3 for c in zip(t.columns, *t.plain_rows, strict=True)) + 1 for t in tables
            ]
            direct["wrapped table" if any(n > width for n in natural) else "table" if tables else "no table"] += 1
    assert min(direct.values()) > 40, direct


def test_tables_are_wrapped_as_rich_wraps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Around the natural width (columns as wide as their widest cell) and far below it: Rich's column
    collapsing, word wrapping and folding of long words."""
    for title in ("x" * 90, "a b " * 19 + "cc", "a b " * 21, "word " * 8 + "averyveryverylongwordthatmustbefolded" * 2):
        finding = Finding(
            kind=FindingKind.VULNERABILITY,
            id="CVE-1",
            severity=Severity.LOW,
            title=title,
            package=Package("deb", "p", "1"),
        )
        report = ScanReport(target="t", artifact_type="container_image", findings=(finding, finding))
        items = table._items(report)
        vulns = items[2]
        assert isinstance(vulns, table._Table)
        widths = [max(map(len, column)) for column in zip(vulns.columns, *vulns.plain_rows, strict=True)]
        natural = sum(widths) + 3 * len(widths) + 1  # cells, their padding and the box's bars
        for width in (natural - 1, natural, natural + 1, 100, 90, 81):
            assert table.render_table(report, width=width) == _rich(report, monkeypatch, width=width), (title, width)
            assert table._direct(items, width) is not None


def test_real_reports_and_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    report = sample_report(gaps=True)
    assert table.render_table(report) == _rich(report, monkeypatch)
    assert table.render_table(report, width=60) == _rich(report, monkeypatch, width=60)
    clean = ScanReport(target="oci:/srv/img", artifact_type="container_image", os=OSInfo("debian", "12.5"))
    assert table.render_table(clean) == "oci:/srv/img — debian 12.5\n" + (
        "packages: 0  findings: 0 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)\n"
    )
    assert table.render_table(report, color=True) == _rich(report, monkeypatch, color=True)


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


@pytest.mark.parametrize("color", [False, True])
def test_scanned_text_is_printed_literally_never_read_as_markup(color: bool) -> None:
    """Titles, paths, gap reasons and warnings come from scanned input: markup-like text ("[/]",
    "[bold]") and emoji codes (":smile:") are printed as they are, with or without colour."""
    odd = "[/] [bold]x[/bold] :smile: [link=http://x]y[/link] \\[z]"
    finding = Finding(
        kind=FindingKind.VULNERABILITY,
        id="CVE-1",
        severity=Severity.HIGH,
        title=odd,
        package=Package("deb", "p[/]", "1"),
    )
    report = ScanReport(
        target="t",
        artifact_type="container_image",
        findings=(finding,),
        gaps=(CoverageGap(where=odd, reason=odd),),
        warnings=(odd,),
    )
    out = table.render_table(report, color=color, width=250)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert plain.count(odd) == 4  # the title cell, the gap line (where and reason), the warning
    assert "p[/]" in plain and "😄" not in plain
