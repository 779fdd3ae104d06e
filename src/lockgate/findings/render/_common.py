"""Helpers shared by renderers: ordering, counting, tool identity."""

from __future__ import annotations

from collections import Counter

from lockgate import __version__
from lockgate.findings.model import Finding, ScanReport, Severity

TOOL_NAME = "lockgate"
TOOL_VERSION = __version__
TOOL_URI = "https://github.com/lockgate/lockgate"


def sorted_findings(report: ScanReport) -> list[Finding]:
    """Most severe first, then by kind, package/path and id (stable for golden files)."""
    return sorted(
        report.findings,
        key=lambda f: (
            -int(f.severity),
            f.kind.value,
            f.package.name if f.package else f.location.path,
            f.id,
        ),
    )


def severity_counts(findings: list[Finding] | tuple[Finding, ...]) -> dict[str, int]:
    """Counts per severity name, all five keys present, most severe first."""
    c = Counter(f.severity for f in findings if not f.suppressed_by)
    return {s.name: c.get(s, 0) for s in sorted(Severity, reverse=True)}
