"""Helpers for inventory tests: load a corpus ``expected.json`` and run an analyser on raw bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lockgate.fs.model import AnalysisResult, Analyzer, FileEntry


def load_expected(corpus: Path, fmt: str) -> dict[str, Any]:
    """The ``fixtures`` mapping of ``pkgdb/<fmt>/expected.json``."""
    data = json.loads((corpus / "pkgdb" / fmt / "expected.json").read_text())
    fixtures: dict[str, Any] = data["fixtures"]
    return fixtures


def run_analyzer(analyzer: Analyzer, path: str, content: bytes) -> AnalysisResult:
    """Call an analyser the way the walker does, asserting it claims the path."""
    entry = FileEntry(path=path, size=len(content), layer="sha256:" + "0" * 64)
    assert analyzer.required(entry), f"{analyzer.name} does not claim {path}"
    return analyzer.analyze(entry, content)
