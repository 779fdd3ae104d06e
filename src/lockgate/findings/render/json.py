"""JSON report: ``ScanReport.to_dict()`` with its ``schema_version`` (documented in README)."""

from __future__ import annotations

import json

from lockgate.findings.model import ScanReport


def render_json(report: ScanReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n"
