"""Human-readable tables (Rich): OS and summary, then findings grouped by kind, worst first.

The report is written directly when Rich would print every line unchanged (plain characters of
one cell each, nothing Rich reads as markup or emoji code, no line to wrap) and every table cell is
such plain text: the tables are laid out as Rich lays them out (its column collapsing, word wrapping
and folding, reproduced for plain text). That spares a scan Rich's ~40 ms import and its layout
(~150 ms for 127 findings). Anything else goes to Rich; tests hold both paths to Rich's output on
random reports.
"""

from __future__ import annotations

import io
from itertools import pairwise

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
    """A findings table: title, column names, rows of plain-text cells and a style per styled cell."""

    def __init__(self, title: str, columns: tuple[str, ...]) -> None:
        self.title = title
        self.columns = columns
        self.plain_rows: list[tuple[str, ...]] = []
        self.styles: list[dict[int, str]] = []

    def add(self, plain: tuple[str, ...], styles: dict[int, str]) -> None:
        self.plain_rows.append(plain)
        self.styles.append(styles)

    def direct(self, width: int) -> list[str] | None:
        """The table's lines as Rich draws them (heavy head box, padding 1, cells wrapped or folded
        to Rich's column widths), when every cell is plain text; else ``None``."""
        if not all(_plain_text(c) for row in self.plain_rows for c in row):
            return None
        widths = _column_widths([[*column] for column in zip(self.columns, *self.plain_rows, strict=True)], width)
        if widths is None:
            return None
        table_width = sum(widths) + len(widths) + 1
        if len(self.title) > table_width:
            return None
        bars = ["━" * w for w in widths]
        lines = [self.title.ljust(table_width), "┏" + "┳".join(bars) + "┓"]
        lines += _row_lines(self.columns, widths, "┃", header=True)
        lines.append("┡" + "╇".join(bars) + "┩")
        for row in self.plain_rows:
            lines += _row_lines(row, widths, "│")
        lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
        return lines


def _plain_text(text: str) -> bool:
    """Whether Rich prints ``text`` as it is (see :func:`_printed_as_is`), wrapping aside."""
    return _printed_as_is(text, len(text))


def _column_widths(columns: list[list[str]], width: int) -> list[int] | None:
    """Rich's ``Table._calculate_column_widths`` for these cells (every column wrappable, padding
    included, borders not), ``None`` where a column would be too narrow to hold a character."""
    available = width - len(columns) - 1
    maxima = [max(map(len, cells)) + 2 for cells in columns]
    widths = [min(m, available) or 1 for m in maxima]
    if sum(widths) > available:
        widths = _collapse(widths, available)
        if sum(widths) > available:
            widths = _ratio_reduce(sum(widths) - available, [1] * len(widths), widths, widths)
        widths = [min(m, w) for m, w in zip(maxima, widths, strict=True)]
    return widths if min(widths) >= 3 else None


def _collapse(widths: list[int], max_width: int) -> list[int]:
    """Rich's ``Table._collapse_widths``: narrow the widest columns towards the next widest."""
    total = sum(widths)
    excess = total - max_width
    while total and excess > 0:
        widest = max(widths)
        second = max(w if w != widest else 0 for w in widths)
        ratios = [1 if w == widest else 0 for w in widths]
        if not widest - second:
            break
        widths = _ratio_reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        total = sum(widths)
        excess = total - max_width
    return widths


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """Rich's ``_ratio.ratio_reduce``."""
    ratios = [ratio if maximum else 0 for ratio, maximum in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result: list[int] = []
    for ratio, maximum, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _wrap(text: str, width: int) -> list[str]:
    """Rich's ``Text.wrap`` with overflow "fold" and left justification, for plain one-cell characters:
    words (with the white space after them) fill lines; a word longer than a line is cut into lines."""
    breaks: list[int] = []
    offset = 0
    position = 0
    length = len(text)
    while True:  # words as rich._wrap.words finds them: white space, non-space, white space
        start = position
        while position < length and text[position] == " ":
            position += 1
        if position == length:
            break
        while position < length and text[position] != " ":
            position += 1
        while position < length and text[position] == " ":
            position += 1
        word = text[start:position]
        word_length = len(word.rstrip())
        if width - offset >= word_length:
            offset += len(word)
        elif word_length > width:
            chunks = [word[i : i + width] for i in range(0, len(word), width)]
            for chunk in chunks[:-1]:
                if start:
                    breaks.append(start)
                start += len(chunk)
            if start:
                breaks.append(start)
            offset = len(chunks[-1])
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    bounds = [0, *breaks, length]
    return [text[a:b][:width].ljust(width) for a, b in pairwise(bounds)]


def _row_lines(cells: tuple[str, ...], widths: list[int], bar: str, *, header: bool = False) -> list[str]:
    """One table row: each cell wrapped to its column, padded by a space each side; cells aligned to
    the top (to the bottom in the header row, as Rich aligns them)."""
    wrapped = [_wrap(cell, w - 2) for cell, w in zip(cells, widths, strict=True)]
    height = max(map(len, wrapped))
    for lines, w in zip(wrapped, widths, strict=True):
        blank = [" " * (w - 2)] * (height - len(lines))
        if header:
            lines[:0] = blank
        else:
            lines.extend(blank)
    return [bar + bar.join(f" {line} " for line in row) + bar for row in zip(*wrapped, strict=True)]


# What render_table prints: a line (its text and the styled (start, end, style) spans) or a table.
# Report text (titles, paths, reasons) comes from scanned input: Rich gets it as Text, never as markup.
_Item = tuple[str, tuple[tuple[int, int, str], ...]] | _Table


def _items(report: ScanReport) -> list[_Item]:
    active = [f for f in sorted_findings(report) if not f.suppressed_by]
    head, summary = _head(report), _summary(report, active)
    items: list[_Item] = [(head, ()), (summary, ())]
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
            table.add(cells, {2: _STYLE[f.severity]})
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
            table.add(other_cells, {2: _STYLE[f.severity]})
        items.append(table)
    suppressed = sum(1 for f in report.findings if f.suppressed_by)
    if suppressed:
        line = f"suppressed: {suppressed} (exceptions or VEX; see --format json)"
        items.append((line, ()))
    if report.gaps:
        line = f"coverage gaps: {len(report.gaps)}"
        items.append((line, ((0, len(line), "bold yellow"),)))
        for g in report.gaps[:20]:
            items.append((f"  - {g.where}: {g.reason}", ()))
        if len(report.gaps) > 20:
            items.append((f"  ... and {len(report.gaps) - 20} more (see --format json)", ()))
    items += [(f"warning: {w}", ((0, len("warning:"), "yellow"),)) for w in report.warnings]
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
        elif _printed_as_is(item[0], width):
            out.append(item[0])
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
    from rich.text import Span, Text

    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False, emoji=False)
    for item in items:
        if isinstance(item, _Table):
            table = Table(title=item.title, title_justify="left")
            for col in item.columns:
                table.add_column(col, overflow="fold")
            for row, styles in zip(item.plain_rows, item.styles, strict=True):
                table.add_row(*(Text(cell, style=styles.get(i, "")) for i, cell in enumerate(row)))
            con.print(table)
        else:
            con.print(Text(item[0], spans=[Span(*span) for span in item[1]]))
    return buf.getvalue()
