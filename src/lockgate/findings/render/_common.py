"""Helpers shared by renderers: ordering, counting, tool identity, indented JSON."""

from __future__ import annotations

import json
from collections import Counter
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

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


def _key(k: Any) -> str:
    """A dict key as ``json`` writes it (non-string keys become strings)."""
    if isinstance(k, str):
        return _quote(k)
    return _quote(json.dumps(k))


def indented_json(value: Any) -> str:
    """Exactly ``json.dumps(value, indent=2)`` for JSON-ready values, in a quarter to half the time.

    ``json`` falls back to its pure-Python encoder whenever it indents; reports are written
    indented (as Trivy's are). Here ``json``'s C encoder writes the compact document and msgspec's
    formatter (C; msgspec is loaded already, the models are its Structs) indents it, which gives the
    same bytes. NaN and infinities, which are not JSON and which the formatter refuses, take a small
    Python writer instead.
    """
    try:
        compact = json.dumps(value, allow_nan=False)
    except ValueError:
        return _python_indented(value)
    import msgspec.json

    return msgspec.json.format(compact, indent=2)


def _python_indented(value: Any, pad: str = "\n") -> str:
    """``json.dumps(value, indent=2)`` written directly (a third to half of ``json``'s time)."""
    if isinstance(value, str):
        return _quote(value)
    inner = pad + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            _key(k) + ": " + (_quote(v) if type(v) is str else _python_indented(v, inner)) for k, v in value.items()
        ]
        return "{" + inner + ("," + inner).join(items) + pad + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join([_python_indented(v, inner) for v in value]) + pad + "]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value)  # floats (as json writes them), None
