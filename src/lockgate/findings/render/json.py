"""JSON report: ``ScanReport.to_dict()`` with its ``schema_version`` (documented in README)."""

from __future__ import annotations

from lockgate.findings.model import ScanReport
from lockgate.findings.render._common import indented_json


def render_json(report: ScanReport) -> str:
    """The report as indented JSON (same bytes as ``json.dumps(report.to_dict(), indent=2)``)."""
    return indented_json(report.to_dict()) + "\n"
