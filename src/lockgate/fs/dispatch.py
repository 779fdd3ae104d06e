"""Offer one file entry to a set of analysers, reading its content at most once.

Shared by the image walker and the directory walker so both apply the same rules:
content is read only when some analyser needs it, capped by the analyser's
``max_size`` (or the global ``max_file_bytes``); a file over an analyser's cap becomes a
coverage gap naming the file and layer; an analyser that raises becomes a gap too.

Analysers with an ``entry_hint`` (:class:`~lockgate.fs.model.EntryHint`) are looked up in
tables by path and file name, so most entries are offered only to the analysers without one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lockgate.config import Limits
from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, Analyzer, EntryHint, FileEntry, FileType


def _gap(entry: FileEntry, reason: str) -> AnalysisResult:
    where = entry.path if not entry.layer else f"{entry.path} (layer {entry.layer})"
    return AnalysisResult(gaps=(CoverageGap(where=where, reason=reason, layer=entry.layer),))


class _Tables:
    """Analyser indexes by exact path, path prefix, file name, and file-name suffix/prefix."""

    def __init__(self, analyzers: Sequence[Analyzer]) -> None:
        self.always: list[int] = []
        self.by_path: dict[str, list[int]] = {}
        self.by_name: dict[str, list[int]] = {}
        self.path_prefixes: list[tuple[tuple[str, ...], int]] = []
        self.name_suffixes: list[tuple[tuple[str, ...], int]] = []
        self.name_prefixes: list[tuple[tuple[str, ...], int]] = []
        for i, a in enumerate(analyzers):
            hint = getattr(a, "entry_hint", None)
            if not isinstance(hint, EntryHint):
                self.always.append(i)
                continue
            for p in hint.paths:
                self.by_path.setdefault(p, []).append(i)
            for n in hint.names:
                self.by_name.setdefault(n, []).append(i)
            if hint.path_prefixes:
                self.path_prefixes.append((hint.path_prefixes, i))
            if hint.name_suffixes:
                self.name_suffixes.append((tuple(x.lower() for x in hint.name_suffixes), i))
            if hint.name_prefixes:
                self.name_prefixes.append((tuple(x.lower() for x in hint.name_prefixes), i))
        self.any_path_prefix = tuple(x for group, _ in self.path_prefixes for x in group)
        self.any_name_suffix = tuple(x for group, _ in self.name_suffixes for x in group)
        self.any_name_prefix = tuple(x for group, _ in self.name_prefixes for x in group)

    def candidates(self, path: str) -> list[int]:
        """Analysers (ascending) whose ``required`` must be asked about ``path``."""
        name = path[path.rfind("/") + 1 :]
        extra = [*self.by_path.get(path, ()), *self.by_name.get(name, ())]
        if self.any_path_prefix and path.startswith(self.any_path_prefix):
            extra += [i for group, i in self.path_prefixes if path.startswith(group)]
        if self.any_name_suffix or self.any_name_prefix:
            low = name.lower()
            if self.any_name_suffix and low.endswith(self.any_name_suffix):
                extra += [i for group, i in self.name_suffixes if low.endswith(group)]
            if self.any_name_prefix and low.startswith(self.any_name_prefix):
                extra += [i for group, i in self.name_prefixes if low.startswith(group)]
        if not extra:
            return self.always
        return sorted({*self.always, *extra})


class Dispatcher:
    """Routes entries to the analysers that want them."""

    def __init__(self, analyzers: Sequence[Analyzer], limits: Limits) -> None:
        self.analyzers = list(analyzers)
        self._caps = [a.max_size if a.max_size is not None else limits.max_file_bytes for a in self.analyzers]
        self._limits = limits
        self._failed: dict[int, str] = {}
        self._tables = _Tables(self.analyzers)
        self._required = [a.required for a in self.analyzers]

    def wanted(self, entry: FileEntry) -> list[int]:
        """Indexes of the analysers whose ``required`` accepts ``entry`` (or failed on it)."""
        out = []
        if self._failed:
            self._failed = {}
        required = self._required
        for i in self._tables.candidates(entry.path):
            try:
                if required[i](entry):
                    out.append(i)
            except Exception as e:  # an analyser bug must not end the scan: it becomes a gap in run()
                a = self.analyzers[i]
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
