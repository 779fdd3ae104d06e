"""Renderers: one function per format, each ``(ScanReport) -> str``.

The library returns text; the CLI decides where it goes. Picking a renderer is an
explicit table (no registration side effects).
"""

from __future__ import annotations

from collections.abc import Callable

from lockgate.errors import ConfigError
from lockgate.findings.model import ScanReport

Renderer = Callable[[ScanReport], str]


def renderer_for(fmt: str) -> Renderer:
    """The renderer for a format name (``table``, ``json``, ``sarif``, ``cyclonedx``, ``spdx``, ``junit``, ``html``)."""
    if fmt == "json":
        from lockgate.findings.render.json import render_json

        return render_json
    if fmt == "table":
        from lockgate.findings.render.table import render_table

        return render_table
    if fmt == "sarif":
        from lockgate.findings.render.sarif import render_sarif

        return render_sarif
    if fmt == "cyclonedx":
        from lockgate.findings.render.cyclonedx import render_cyclonedx

        return render_cyclonedx
    if fmt == "spdx":
        from lockgate.findings.render.spdx import render_spdx

        return render_spdx
    if fmt == "junit":
        from lockgate.findings.render.junit import render_junit

        return render_junit
    if fmt == "html":
        from lockgate.findings.render.html import render_html

        return render_html
    raise ConfigError(f"unknown output format {fmt!r}")
