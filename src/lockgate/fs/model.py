"""File entries, the analyser protocol and analysis results."""

from __future__ import annotations

import enum
from typing import Any, Protocol, runtime_checkable

import msgspec

from lockgate.findings.model import CoverageGap, Finding
from lockgate.inventory.model import OSInfo, Package


class FileType(enum.StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"


class FileEntry(msgspec.Struct, frozen=True):
    """One entry of a layer or directory, normalised and safe.

    ``path`` is relative, POSIX, without a leading ``/`` or ``./`` and without ``..``
    components (entries that would escape are rejected before an analyser sees them).
    """

    path: str
    size: int = 0
    mode: int = 0o644
    """Permission bits including setuid/setgid/sticky (``st_mode & 0o7777``)."""
    uid: int = 0
    gid: int = 0
    type: FileType = FileType.FILE
    linkname: str = ""
    layer: str = ""
    """diff_id of the layer the entry is in; empty for plain directories."""

    @property
    def is_file(self) -> bool:
        return self.type is FileType.FILE

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class AnalysisResult(msgspec.Struct, frozen=True):
    """What one analyser found in one file."""

    packages: tuple[Package, ...] = ()
    os: OSInfo | None = None
    findings: tuple[Finding, ...] = ()
    gaps: tuple[CoverageGap, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.packages or self.os or self.findings or self.gaps)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.packages:
            d["packages"] = [p.to_dict() for p in self.packages]
        if self.os:
            d["os"] = self.os.to_dict()
        if self.findings:
            d["findings"] = [f.to_dict() for f in self.findings]
        if self.gaps:
            d["gaps"] = [g.to_dict() for g in self.gaps]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnalysisResult:
        return cls(
            packages=tuple(Package.from_dict(p) for p in d.get("packages", ())),
            os=OSInfo.from_dict(d["os"]) if d.get("os") else None,
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
            gaps=tuple(CoverageGap.from_dict(g) for g in d.get("gaps", ())),
        )


EMPTY = AnalysisResult()


class EntryHint(msgspec.Struct, frozen=True):
    """Which paths an analyser can want, so the dispatcher skips ``required`` for all others.

    A hint may match more entries than ``required`` accepts, never fewer: an entry is offered to
    ``required`` when its path is in ``paths`` or starts with one of ``path_prefixes``, or its
    file name is in ``names``, or (compared case-insensitively) ends with one of ``name_suffixes``
    or starts with one of ``name_prefixes``.
    """

    paths: frozenset[str] = frozenset()
    path_prefixes: tuple[str, ...] = ()
    names: frozenset[str] = frozenset()
    name_suffixes: tuple[str, ...] = ()
    name_prefixes: tuple[str, ...] = ()


@runtime_checkable
class Analyzer(Protocol):
    """A plug-in that looks at individual files.

    ``name`` and ``version`` form part of the layer-cache key: bump ``version`` whenever
    the analyser's output for the same input could change.
    """

    name: str
    version: int
    needs_content: bool
    """False for analysers that judge entries by metadata alone (setuid bits, shells)."""
    squash: bool
    """True: results follow whiteouts (packages). False: every layer's results are kept
    (secrets, malware: a file deleted later was still shipped)."""
    max_size: int | None
    """Largest file this analyser wants; ``None`` uses the global limit.

    An analyser whose output also depends on its configuration (custom rules, allow-lists)
    sets an optional ``cache_params: str`` attribute; it becomes part of the layer-cache key.
    An analyser that wants only files of certain names sets an optional ``entry_hint:
    EntryHint``; the dispatcher then calls ``required`` only for entries the hint matches.
    """

    def required(self, entry: FileEntry) -> bool:
        """Cheap test on the entry alone: does this analyser want the file?"""
        ...

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        """Analyse one file. Must not raise for bad content: return a gap instead."""
        ...
