"""Language-package extractors: Python, Node.js, Go, Java, Ruby, Rust, PHP and .NET.

Each ecosystem module defines its file formats and one :class:`~lockgate.fs.model.Analyzer`;
:func:`language_analyzers` lists them for the inventory registry, :func:`extract` parses a
single file as a named format (tests, tools, ``scan`` of one lock file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockgate.fs.model import AnalysisResult, Analyzer
    from lockgate.inventory.lang._common import Format

_MODULES = ("python", "node", "golang", "java", "ruby", "rust", "php", "dotnet", "binary")


def language_analyzers() -> list[Analyzer]:
    """One analyser per ecosystem (plus one for executables: Go build info, cargo-auditable)."""
    import importlib

    out: list[Analyzer] = []
    for mod in _MODULES:
        out.append(importlib.import_module(f"lockgate.inventory.lang.{mod}").analyzer())
    return out


def formats() -> dict[str, Format]:
    """Every file format by id (``package-lock.json``, ``go-binary`` ...)."""
    import importlib

    out: dict[str, Format] = {}
    for mod in _MODULES:
        for fmt in importlib.import_module(f"lockgate.inventory.lang.{mod}").FORMATS:
            out[fmt.id] = fmt
    return out


def extract(format_id: str, content: bytes, path: str = "", layer: str = "") -> AnalysisResult:
    """Parse ``content`` as the format ``format_id``; never raises for bad content (gaps instead)."""
    from lockgate.errors import ConfigError
    from lockgate.inventory.lang._common import run_format

    fmt = formats().get(format_id)
    if fmt is None:
        raise ConfigError(f"unknown language file format {format_id!r}")
    return run_format(fmt, content, path or format_id, layer)
