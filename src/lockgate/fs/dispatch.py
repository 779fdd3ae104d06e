"""Offer one file entry to a set of analysers, reading its content at most once.

Shared by the image walker and the directory walker so both apply the same rules:
content is read only when some analyser needs it, capped by the analyser's
``max_size`` (or the global ``max_file_bytes``); a file over an analyser's cap becomes a
coverage gap naming the file and layer; an analyser that raises becomes a gap too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lockgate.config import Limits
from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, Analyzer, FileEntry, FileType


def _gap(entry: FileEntry, reason: str) -> AnalysisResult:
    where = entry.path if not entry.layer else f"{entry.path} (layer {entry.layer})"
    return AnalysisResult(gaps=(CoverageGap(where=where, reason=reason, layer=entry.layer),))


class Dispatcher:
    """Routes entries to the analysers that want them."""

    def __init__(self, analyzers: Sequence[Analyzer], limits: Limits) -> None:
        self.analyzers = list(analyzers)
        self._caps = [a.max_size if a.max_size is not None else limits.max_file_bytes for a in self.analyzers]
        self._limits = limits
        self._failed: dict[int, str] = {}

    def wanted(self, entry: FileEntry) -> list[int]:
        """Indexes of the analysers whose ``required`` accepts ``entry`` (or failed on it)."""
        out = []
        self._failed = {}
        for i, a in enumerate(self.analyzers):
            try:
                if a.required(entry):
                    out.append(i)
            except Exception as e:  # an analyser bug must not end the scan: it becomes a gap in run()
                self._failed[i] = f"analyser {a.name} failed: {type(e).__name__}: {e}"
                out.append(i)
        return out

    def needs_content(self, entry: FileEntry, wanted: Sequence[int]) -> bool:
        """True when some of ``wanted`` will read ``entry``'s bytes (it fits their cap)."""
        return entry.type is FileType.FILE and any(
            self.analyzers[i].needs_content and entry.size <= self._caps[i] and i not in self._failed for i in wanted
        )

    def run(
        self, entry: FileEntry, wanted: Sequence[int], read: Callable[[], bytes] | None
    ) -> list[tuple[int, AnalysisResult]]:
        """Call ``analyze`` of each wanted analyser; ``read`` returns the whole content.

        ``read`` is None when the content is unavailable (then analysers needing it get a gap).
        """
        content: bytes | None = None
        out: list[tuple[int, AnalysisResult]] = []
        for i in wanted:
            a = self.analyzers[i]
            if i in self._failed:
                out.append((i, _gap(entry, self._failed[i])))
                continue
            if a.needs_content and entry.type is FileType.FILE:
                if entry.size > self._caps[i]:
                    out.append(
                        (i, _gap(entry, f"file is {entry.size} bytes, over the {self._caps[i]}-byte limit of {a.name}"))
                    )
                    continue
                if read is None:
                    out.append((i, _gap(entry, f"content not available to {a.name}")))
                    continue
                if content is None:
                    content = read()
                data = content
            else:
                data = b""
            try:
                res = a.analyze(entry, data)
            except Exception as e:  # analysers must not raise; if one does, record it, never crash
                res = _gap(entry, f"analyser {a.name} failed: {type(e).__name__}: {e}")
            if res:
                out.append((i, res))
        return out
