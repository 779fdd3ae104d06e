"""Run the same analysers over a plain directory (``scan fs``, unpacked root file systems).

The walk never follows symlinks (they are reported as symlink entries), opens files with
``O_NOFOLLOW`` and checks the opened file is the one that was listed, so a tree that
changes underneath cannot redirect a read outside it. Unreadable entries become gaps.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from lockgate.config import Settings
from lockgate.errors import NotFoundError
from lockgate.findings.model import CoverageGap
from lockgate.fs.analysis import ImageAnalysis, LayerIndex, LayerRecord, merge
from lockgate.fs.dispatch import Dispatcher
from lockgate.fs.model import AnalysisResult, Analyzer, FileEntry, FileType
from lockgate.fs.paths import printable

_TYPES = (
    (stat.S_ISREG, FileType.FILE),
    (stat.S_ISDIR, FileType.DIR),
    (stat.S_ISLNK, FileType.SYMLINK),
    (stat.S_ISCHR, FileType.CHAR),
    (stat.S_ISBLK, FileType.BLOCK),
    (stat.S_ISFIFO, FileType.FIFO),
)


def _file_type(mode: int) -> FileType | None:
    for test, ftype in _TYPES:
        if test(mode):
            return ftype
    return None  # sockets and other oddities are not content


def _reader(full: str, st: os.stat_result) -> Callable[[], bytes]:
    def read() -> bytes:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                raise OSError(f"{full} changed while it was being scanned")
            chunks, left = [], st.st_size
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    return read


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def analyze_directory(path: Path, analyzers: Sequence[Analyzer], *, settings: Settings) -> ImageAnalysis:
    """Analyse every entry under ``path`` (symlinks not followed); ``layers`` is empty."""
    root = os.fspath(path)
    if not path.is_dir():
        raise NotFoundError(f"directory {path} not found")
    dispatcher = Dispatcher(analyzers, settings.limits)
    results: dict[str, list[tuple[str, AnalysisResult]]] = {a.name: [] for a in dispatcher.analyzers}
    gaps: list[CoverageGap] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        full_dir = f"{root}/{rel_dir}" if rel_dir else root
        try:
            with os.scandir(full_dir) as it:
                listing = sorted(it, key=lambda e: e.name)
        except OSError as e:
            gaps.append(CoverageGap(where=printable(rel_dir) or ".", reason=f"directory not readable: {e.strerror}"))
            continue
        subdirs = []
        for de in listing:
            rel = f"{rel_dir}/{de.name}" if rel_dir else de.name
            try:
                st = de.stat(follow_symlinks=False)
                ftype = _file_type(st.st_mode)
                if ftype is None:
                    continue
                link = str(Path(de.path).readlink()) if ftype is FileType.SYMLINK else ""
            except OSError as e:
                gaps.append(CoverageGap(where=printable(rel), reason=f"not readable: {e.strerror}"))
                continue
            if ftype is FileType.DIR:
                subdirs.append(rel)
            entry = FileEntry(
                path=printable(rel),
                size=st.st_size if ftype is FileType.FILE else 0,
                mode=stat.S_IMODE(st.st_mode),
                uid=st.st_uid,
                gid=st.st_gid,
                type=ftype,
                linkname=printable(link),
            )
            wanted = dispatcher.wanted(entry)
            if not wanted:
                continue
            read = _reader(de.path, st)
            content: bytes | None = None
            if dispatcher.needs_content(entry, wanted):
                try:
                    content = read()
                except OSError as e:
                    gaps.append(CoverageGap(where=printable(rel), reason=f"not readable: {e.strerror or e}"))
                    continue
            for i, res in dispatcher.run(entry, wanted, _const(content) if content is not None else None):
                results[dispatcher.analyzers[i].name].append((entry.path, res))
        stack.extend(reversed(subdirs))
    record = LayerRecord(
        digest="",
        diff_id="",
        index=LayerIndex(),
        results={name: tuple(items) for name, items in results.items()},
        gaps=tuple(gaps),
    )
    return dataclasses.replace(merge([record], analyzers), layers=())
