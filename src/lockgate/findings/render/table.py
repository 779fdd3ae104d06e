"""Human-readable tables (Rich): OS and summary, then findings grouped by kind, worst first.

A report with no active finding has no table: its few lines are written directly when Rich would
print them unchanged (plain characters of one cell each, nothing Rich reads as markup or emoji
code, no line to wrap), which spares a clean scan Rich's ~40 ms import. Tests hold both paths to
Rich's output.
"""

from __future__ import annotations

import io

from lockgate.findings.model import Finding, FindingKind, ScanReport, Severity
from lockgate.findings.render._common import severity_counts, sorted_findings

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.UNKNOWN: "dim",
}

_TAG_START = frozenset("abcdefghijklmnopqrstuvwxyz#/@")  # a "[" before one of these opens Rich markup


def _head(report: ScanReport) -> str:
    head = f"{report.target}"
    if report.artifact_digest:
        head += f" ({report.artifact_digest[:19]})"
    if report.os:
        head += f" — {report.os.family} {report.os.version}"
        if report.os.eosl:
            head += f" [END OF LIFE since {report.os.eol}]"
    return head


def _summary(report: ScanReport, active: list[Finding]) -> str:
    counts = severity_counts(active)
    return (
        f"packages: {len(report.packages)}  findings: {len(active)} ("
        + ", ".join(f"{k}: {v}" for k, v in counts.items())
        + ")"
    )


def _printed_as_is(line: str, width: int) -> bool:
    """Whether Rich's ``Console.print`` (no colour, no highlighting) writes ``line`` unchanged."""
    if len(line) > width or "\\" in line or not line.replace("—", "-").isascii() or not line.isprintable():
        return False
    if any(token.count(":") > 1 for token in line.split()):  # might be an emoji code (":smile:")
        return False
    start = line.find("[")
    while start != -1:
        if line[start + 1 : start + 2] in _TAG_START:
            return False
        start = line.find("[", start + 1)
    return True


def _plain(report: ScanReport, width: int) -> str | None:
    """The report as Rich prints it when it has no table and every line is printed as is, else ``None``."""
    if any(not f.suppressed_by for f in report.findings):
        return None
    lines = [_head(report), _summary(report, [])]
    suppressed = sum(1 for f in report.findings if f.suppressed_by)
    if suppressed:
        lines.append(f"suppressed: {suppressed} (exceptions or VEX; see --format json)")
    if report.gaps:
        lines.append(f"coverage gaps: {len(report.gaps)}")
        lines += [f"  - {g.where}: {g.reason}" for g in report.gaps[:20]]
        if len(report.gaps) > 20:
            lines.append(f"  ... and {len(report.gaps) - 20} more (see --format json)")
    lines += [f"warning: {w}" for w in report.warnings]
    if not all(_printed_as_is(line, width) for line in lines):
        return None
    return "\n".join(lines) + "\n"


def render_table(report: ScanReport, *, color: bool = False, width: int = 160) -> str:
    plain = None if color else _plain(report, width)
    if plain is not None:
        return plain
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    con.print(_head(report))
    active = [f for f in sorted_findings(report) if not f.suppressed_by]
    con.print(_summary(report, active))
    vulns = [f for f in active if f.kind is FindingKind.VULNERABILITY]
    if vulns:
        t = Table(title="Vulnerabilities", title_justify="left")
        for col in ("Package", "Vulnerability", "Severity", "Installed", "Fixed", "Title"):
            t.add_column(col, overflow="fold")
        for f in vulns:
            t.add_row(
                f.package.name if f.package else "",
                f.id,
                f"[{_STYLE[f.severity]}]{f.severity.name}[/]",
                f.installed_version,
                ", ".join(f.fixed_versions) or f.fix_status.value,
                f.title[:80],
            )
        con.print(t)
    others = [f for f in active if f.kind is not FindingKind.VULNERABILITY]
    if others:
        t = Table(title="Other findings", title_justify="left")
        for col in ("Kind", "ID", "Severity", "Location", "Title"):
            t.add_column(col, overflow="fold")
        for f in others:
            loc = f.location.path
            if f.location.start_line:
                loc += f":{f.location.start_line}"
            if f.location.resource_kind:
                loc += f" {f.location.resource_kind}/{f.location.resource_name}"
            t.add_row(f.kind.value, f.id, f"[{_STYLE[f.severity]}]{f.severity.name}[/]", loc, f.title[:80])
        con.print(t)
    suppressed = [f for f in report.findings if f.suppressed_by]
    if suppressed:
        con.print(f"suppressed: {len(suppressed)} (exceptions or VEX; see --format json)")
    if report.gaps:
        con.print(f"[bold yellow]coverage gaps: {len(report.gaps)}[/]")
        for g in report.gaps[:20]:
            con.print(f"  - {g.where}: {g.reason}")
        if len(report.gaps) > 20:
            con.print(f"  ... and {len(report.gaps) - 20} more (see --format json)")
    for w in report.warnings:
        con.print(f"[yellow]warning:[/] {w}")
    return buf.getvalue()
