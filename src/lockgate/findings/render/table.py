"""Human-readable tables (Rich): OS and summary, then findings grouped by kind, worst first.

The report is written directly when Rich would print every line unchanged (plain characters of
one cell each, nothing Rich reads as markup or emoji code, no line to wrap) and every table fits the
width as drawn (columns as wide as their widest cell), which spares a scan Rich's ~40 ms import and
its layout. Anything else goes to Rich; tests hold both paths to Rich's output.
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


class _Table:
    """A findings table: title, column names, rows (cells as Rich markup and as the plain text it prints)."""

    def __init__(self, title: str, columns: tuple[str, ...]) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[tuple[str, ...]] = []
        self.plain_rows: list[tuple[str, ...]] = []

    def add(self, cells: tuple[str, ...], plain: tuple[str, ...]) -> None:
        self.rows.append(cells)
        self.plain_rows.append(plain)

    def direct(self, width: int) -> list[str] | None:
        """The table's lines as Rich draws them (heavy head box, columns as wide as their widest
        cell), when every cell prints as is and nothing needs wrapping; else ``None``."""
        if not all(_printed_as_is(c, width) for row in self.plain_rows for c in row):
            return None
        widths = [max(len(c) for c in column) for column in zip(self.columns, *self.plain_rows, strict=True)]
        if sum(widths) + 3 * len(widths) + 1 > width:
            return None
        bars = ["━" * (w + 2) for w in widths]
        lines = [
            "┏" + "┳".join(bars) + "┓",
            "┃" + "┃".join(f" {c.ljust(w)} " for c, w in zip(self.columns, widths, strict=True)) + "┃",
            "┡" + "╇".join(bars) + "┩",
        ]
        lines += [
            "│" + "│".join(f" {c.ljust(w)} " for c, w in zip(r, widths, strict=True)) + "│" for r in self.plain_rows
        ]
        lines.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
        return [self.title.ljust(len(lines[0])), *lines]


# What render_table prints: a line (as Rich markup and as the plain text it prints) or a table.
_Item = tuple[str, str] | _Table


def _items(report: ScanReport) -> list[_Item]:
    active = [f for f in sorted_findings(report) if not f.suppressed_by]
    head, summary = _head(report), _summary(report, active)
    items: list[_Item] = [(head, head), (summary, summary)]
    vulns = [f for f in active if f.kind is FindingKind.VULNERABILITY]
    if vulns:
        table = _Table("Vulnerabilities", ("Package", "Vulnerability", "Severity", "Installed", "Fixed", "Title"))
        for f in vulns:
            cells = (
                f.package.name if f.package else "",
                f.id,
                f.severity.name,
                f.installed_version,
                ", ".join(f.fixed_versions) or f.fix_status.value,
                f.title[:80],
            )
            table.add((*cells[:2], f"[{_STYLE[f.severity]}]{f.severity.name}[/]", *cells[3:]), cells)
        items.append(table)
    others = [f for f in active if f.kind is not FindingKind.VULNERABILITY]
    if others:
        table = _Table("Other findings", ("Kind", "ID", "Severity", "Location", "Title"))
        for f in others:
            loc = f.location.path
            if f.location.start_line:
                loc += f":{f.location.start_line}"
            if f.location.resource_kind:
                loc += f" {f.location.resource_kind}/{f.location.resource_name}"
            other_cells = (f.kind.value, f.id, f.severity.name, loc, f.title[:80])
            table.add((*other_cells[:2], f"[{_STYLE[f.severity]}]{f.severity.name}[/]", *other_cells[3:]), other_cells)
        items.append(table)
    suppressed = sum(1 for f in report.findings if f.suppressed_by)
    if suppressed:
        line = f"suppressed: {suppressed} (exceptions or VEX; see --format json)"
        items.append((line, line))
    if report.gaps:
        items.append((f"[bold yellow]coverage gaps: {len(report.gaps)}[/]", f"coverage gaps: {len(report.gaps)}"))
        for g in report.gaps[:20]:
            line = f"  - {g.where}: {g.reason}"
            items.append((line, line))
        if len(report.gaps) > 20:
            line = f"  ... and {len(report.gaps) - 20} more (see --format json)"
            items.append((line, line))
    items += [(f"[yellow]warning:[/] {w}", f"warning: {w}") for w in report.warnings]
    return items


def _direct(items: list[_Item], width: int) -> str | None:
    """The text Rich prints for these items, written directly, or ``None`` where Rich would change any."""
    out: list[str] = []
    for item in items:
        if isinstance(item, _Table):
            lines = item.direct(width)
            if lines is None:
                return None
            out += lines
        elif _printed_as_is(item[1], width):
            out.append(item[1])
        else:
            return None
    return "\n".join(out) + "\n"


def render_table(report: ScanReport, *, color: bool = False, width: int = 160) -> str:
    items = _items(report)
    direct = None if color else _direct(items, width)
    if direct is not None:
        return direct
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False)
    for item in items:
        if isinstance(item, _Table):
            table = Table(title=item.title, title_justify="left")
            for col in item.columns:
                table.add_column(col, overflow="fold")
            for row in item.rows:
                table.add_row(*row)
            con.print(table)
        else:
            con.print(item[0])
    return buf.getvalue()
