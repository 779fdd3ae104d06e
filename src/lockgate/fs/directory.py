"""Run the same analysers over a plain directory (``scan fs``, unpacked root file systems).

The walk never follows symlinks (they are reported as symlink entries): directories are
opened component by component with ``O_NOFOLLOW`` relative to the root's descriptor, files
are opened relative to their directory and checked to be the file that was listed, so a
tree that changes underneath cannot redirect a read outside it. Unreadable entries become gaps.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from msgspec.structs import replace

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


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_dir(root_fd: int, rel: str) -> int:
    """Open ``rel`` below ``root_fd`` one component at a time, refusing symlinks on the way."""
    fd = os.dup(root_fd)
    for name in rel.split("/") if rel else ():
        try:
            nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = nfd
    return fd


def _read_file(dir_fd: int, name: str, st: os.stat_result) -> bytes:
    """Content of regular file ``name`` in ``dir_fd``, only if it is still the file that was listed."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise OSError(f"{name} changed while it was being scanned")
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


def _const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _scan_dir(
    dir_fd: int,
    rel_dir: str,
    dispatcher: Dispatcher,
    results: dict[str, list[tuple[str, AnalysisResult]]],
    gaps: list[CoverageGap],
) -> list[str]:
    """Offer every entry of one directory to the analysers; return its subdirectories."""
    try:
        with os.scandir(dir_fd) as it:
            listing = sorted(it, key=lambda e: e.name)
    except OSError as e:
        gaps.append(CoverageGap(where=printable(rel_dir) or ".", reason=f"directory not readable: {e.strerror}"))
        return []
    subdirs = []
    for de in listing:
        rel = f"{rel_dir}/{de.name}" if rel_dir else de.name
        try:
            st = de.stat(follow_symlinks=False)
            ftype = _file_type(st.st_mode)
            if ftype is None:
                continue
            link = os.readlink(de.name, dir_fd=dir_fd) if ftype is FileType.SYMLINK else ""
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
        content: bytes | None = None
        if dispatcher.needs_content(entry, wanted):
            try:
                content = _read_file(dir_fd, de.name, st)
            except OSError as e:
                gaps.append(CoverageGap(where=printable(rel), reason=f"not readable: {e.strerror or e}"))
                continue
        for i, res in dispatcher.run(entry, wanted, _const(content) if content is not None else None):
            results[dispatcher.analyzers[i].name].append((entry.path, res))
    return subdirs


def analyze_directory(path: Path, analyzers: Sequence[Analyzer], *, settings: Settings) -> ImageAnalysis:
    """Analyse every entry under ``path`` (symlinks not followed); ``layers`` is empty."""
    root = os.fspath(path)
    if not path.is_dir():
        raise NotFoundError(f"directory {path} not found")
    dispatcher = Dispatcher(analyzers, settings.limits)
    results: dict[str, list[tuple[str, AnalysisResult]]] = {a.name: [] for a in dispatcher.analyzers}
    gaps: list[CoverageGap] = []
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            try:
                dir_fd = _open_dir(root_fd, rel_dir)
            except OSError as e:
                reason = "replaced by a symlink; not followed" if e.errno == errno.ELOOP else e.strerror
                gaps.append(CoverageGap(where=printable(rel_dir), reason=f"directory not readable: {reason}"))
                continue
            try:
                stack.extend(reversed(_scan_dir(dir_fd, rel_dir, dispatcher, results, gaps)))
            finally:
                os.close(dir_fd)
    finally:
        os.close(root_fd)
    record = LayerRecord(
        digest="",
        diff_id="",
        index=LayerIndex(),
        results={name: tuple(items) for name, items in results.items()},
        gaps=tuple(gaps),
    )
    return replace(merge([record], analyzers), layers=())
