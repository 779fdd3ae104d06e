"""Language-package extractors: Python, Node.js, Go, Java, Ruby, Rust, PHP and .NET.

Format ids (for :func:`extract`): ``python-metadata`` (dist-info/egg-info), ``python-archive``
(.whl/.egg), ``poetry.lock``, ``Pipfile.lock``, ``uv.lock``, ``requirements.txt``;
``package.json`` (installed), ``package-lock.json``, ``yarn.lock``, ``pnpm-lock.yaml``;
``go.mod``, ``go.sum``, ``binary`` (Go build info, cargo-auditable); ``jar``,
``gradle.lockfile``; ``gemspec``, ``Gemfile.lock``; ``Cargo.lock``; ``composer.lock``,
``installed.json``; ``deps.json``, ``packages.lock.json``.

Ecosystems are OSV's names; versions as OSV writes them (Go and Composer without the
leading ``v``; purls keep the ecosystem's own spelling). ``Package.dependencies`` holds
purls where the file pins the target, else names. Dependency groups are in
``metadata["dep_groups"]`` (``dev``, ``optional``, ``bundled``, comma-separated).

:func:`language_analyzers` gives the walker three analysers; :func:`extract` parses one file
as a named format and never raises for bad content (coverage gaps instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockgate.fs.model import AnalysisResult, Analyzer
    from lockgate.inventory.lang._common import Format

_MODULES = ("python", "node", "golang", "java", "gradle", "ruby", "rust", "php", "dotnet", "binary")


_FILE_MODULES = ("python", "node", "golang", "gradle", "ruby", "rust", "php", "dotnet")


def language_analyzers() -> list[Analyzer]:
    """The language analysers for the walker: three, not one per format or ecosystem.

    ``required`` runs for every entry of every layer, so all manifest and lock-file formats
    share one analyser (``lang-files``: one set lookup rejects almost every path); Java
    archives (``lang-java``) and executables (``lang-binary``) are judged differently.
    Each ecosystem module still has its own ``analyzer()`` for callers that want one.
    """
    from lockgate.inventory.lang.binary import BinaryAnalyzer
    from lockgate.inventory.lang.java import JavaAnalyzer

    return [files_analyzer(), JavaAnalyzer(), BinaryAnalyzer()]


def files_analyzer() -> Analyzer:
    """``lang-files``: every manifest and lock-file format of every ecosystem in one analyser."""
    import importlib

    from lockgate.inventory.lang._common import LangAnalyzer

    file_formats = [f for m in _FILE_MODULES for f in importlib.import_module(f"lockgate.inventory.lang.{m}").FORMATS]
    return LangAnalyzer("lang-files", 1, file_formats, max_size=64 * 1024 * 1024)


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
