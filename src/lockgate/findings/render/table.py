"""Human-readable tables (Rich): OS and summary, then findings grouped by kind, worst first."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from lockgate.findings.model import FindingKind, ScanReport, Severity
from lockgate.findings.render._common import severity_counts, sorted_findings

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.UNKNOWN: "dim",
}


def render_table(report: ScanReport, *, color: bool = False, width: int = 160) -> str:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    head = f"{report.target}"
    if report.artifact_digest:
        head += f" ({report.artifact_digest[:19]})"
    if report.os:
        head += f" — {report.os.family} {report.os.version}"
        if report.os.eosl:
            head += f" [END OF LIFE since {report.os.eol}]"
    con.print(head)
    active = [f for f in sorted_findings(report) if not f.suppressed_by]
    counts = severity_counts(active)
    con.print(
        f"packages: {len(report.packages)}  findings: {len(active)} ("
        + ", ".join(f"{k}: {v}" for k, v in counts.items())
        + ")"
    )
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
