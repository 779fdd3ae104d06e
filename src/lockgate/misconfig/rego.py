"""Custom rules in Rego (work in progress)."""

from __future__ import annotations

from collections.abc import Sequence

from lockgate.errors import ConfigError
from lockgate.findings.model import CoverageGap, Finding


def run_rego(paths: Sequence[str], objects: Sequence[object]) -> tuple[list[Finding], list[CoverageGap]]:
    """Findings from conftest-style ``deny``/``warn``/``violation`` rules over the scanned objects."""
    raise ConfigError("custom Rego rules are not available yet")
