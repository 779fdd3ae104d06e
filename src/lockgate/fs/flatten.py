"""Write an image's merged file system (whiteouts applied) into a directory, safely.

Every write goes through directory file descriptors opened with ``O_NOFOLLOW`` one path
component at a time, so no entry can write outside ``dest_dir`` whatever the tar says:
a symlink planted by an earlier entry is created as a symlink but never followed, and an
entry whose parent is a symlink or a file is skipped with a coverage gap. Device nodes
are never created; setuid/setgid bits on files are dropped unless asked for. (Python's
``tarfile.extractall`` filters check names, not the tree being written, hence this module.)
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from lockgate.config import Settings
from lockgate.errors import ConfigError, IntegrityError, UnavailableError
from lockgate.findings.model import CoverageGap
from lockgate.fs.layers import LayerBrokenError, LayerItem, LayerStream, ProgressFn
from lockgate.fs.model import FileType
from lockgate.fs.paths import Whiteout, parents, printable
from lockgate.oci.image import Image

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class FlattenResult:
    """What :func:`flatten` wrote and what it refused."""

    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    gaps: tuple[CoverageGap, ...] = ()
    layers: tuple[str, ...] = ()
    """diff_ids computed while streaming (the config's claim for unreadable layers)."""


_T = TypeVar("_T")
_MAX_ID = 0xFFFFFFFF  # (uid_t)-1 means "unchanged" to chown


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Refused(Exception):
    """An entry that cannot be written safely."""


@dataclass
class _Counts:
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    gaps: list[CoverageGap] = field(default_factory=list)


class _Tree:
    """A directory tree addressed only through file descriptors (``openat`` style).

    Directory descriptors are cached; dropping the cache defers closing them to the next
    :meth:`checkpoint`, so a descriptor handed out during one entry stays valid for it.
    """

    def __init__(self, root: Path) -> None:
        self.root_fd = os.open(root, _DIR_FLAGS)
        self._fds: dict[str, int] = {"": self.root_fd}
        self._stale: list[int] = []
        self._pinned: set[int] = set()

    def close(self) -> None:
        self.forget()
        self.checkpoint()
        os.close(self.root_fd)

    def forget(self) -> None:
        """Drop cached directory descriptors (after anything was removed, or when too many)."""
        for path, fd in self._fds.items():
            if not path:
                continue
            if fd in self._pinned:
                self._stale.append(fd)  # handed out for the current entry: close at the checkpoint
            else:
                os.close(fd)
        self._fds = {"": self.root_fd}

    def checkpoint(self) -> None:
        """Close descriptors dropped from the cache; call between entries."""
        for fd in self._stale:
            os.close(fd)
        self._stale.clear()
        self._pinned.clear()

    def dir_fd(self, path: str, create: bool) -> int:
        """Descriptor of directory ``path`` (cached; do not close), refusing symlinks and files."""
        fd = self._fds.get(path)
        if fd is not None:
            self._pinned.add(fd)
            return fd
        missing: list[str] = []
        known = path
        while known and known not in self._fds:
            known, _, name = known.rpartition("/")
            missing.append(name)
        fd = self._fds[known]
        for name in reversed(missing):
            known = f"{known}/{name}" if known else name
            try:
                nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(name, 0o755, dir_fd=fd)
                nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _Refused(f"{known!r} is a symlink or not a directory; not followed") from None
                raise
            if len(self._fds) > 64:
                self.forget()  # the parent is no longer needed; pinned ones stay open
            self._fds[known] = nfd
            fd = nfd
        self._pinned.add(fd)
        return fd

    def parent(self, path: str, create: bool = True) -> tuple[int, str]:
        head, _, name = path.rpartition("/")
        return self.dir_fd(head, create), name

    def lstat(self, pfd: int, name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def remove(self, pfd: int, name: str, st: os.stat_result | None = None) -> None:
        """Remove ``name`` in ``pfd`` (a whole tree for directories) without following symlinks."""
        st = st if st is not None else self.lstat(pfd, name)
        if st is None:
            return
        if stat.S_ISDIR(st.st_mode):
            import shutil

            self.forget()
            shutil.rmtree(name, dir_fd=pfd)
        else:
            os.unlink(name, dir_fd=pfd)


class _Flattener:
    def __init__(self, tree: _Tree, keep_special_bits: bool, preserve_owner: bool) -> None:
        self.tree = tree
        self.keep_special_bits = keep_special_bits
        self.preserve_owner = preserve_owner
        self.counts = _Counts()
        self.dir_meta: dict[str, tuple[int, int, int, int]] = {}
        self.touched: set[str] = set()

    # -- per entry ---------------------------------------------------------------------------
    def gap(self, item: LayerItem, reason: str) -> None:
        self.counts.gaps.append(
            CoverageGap(where=printable(item.entry.path), reason=f"not written: {reason}", layer=item.entry.layer)
        )

    def apply(self, item: LayerItem) -> None:
        entry = item.entry
        self.tree.checkpoint()
        try:
            if item.whiteout is Whiteout.DELETE:
                self._whiteout(entry.path)
            elif item.whiteout is Whiteout.OPAQUE:
                self._opaque(entry.path)
            else:
                self._write(item)
        except _Refused as e:
            self.gap(item, str(e))
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EMFILE, errno.ENFILE):
                raise UnavailableError(f"cannot write {printable(entry.path)!r}: {e.strerror}") from e
            self.gap(item, f"{e.strerror or e}")

    def _forget_meta(self, path: str) -> None:
        """Drop pending directory metadata for ``path`` and everything below it."""
        self.dir_meta.pop(path, None)
        prefix = path + "/"
        for p in [p for p in self.dir_meta if p.startswith(prefix)]:
            del self.dir_meta[p]

    def _mark(self, path: str) -> None:
        self.touched.add(path)
        for parent in parents(path):
            if parent in self.touched:
                break  # its ancestors are already there
            self.touched.add(parent)

    def _whiteout(self, path: str) -> None:
        if path in self.touched:
            return
        try:
            pfd, name = self.tree.parent(path, create=False)
        except (FileNotFoundError, _Refused):
            return  # nothing below to delete
        self.tree.remove(pfd, name)
        self._forget_meta(path)

    def _opaque(self, path: str) -> None:
        try:
            fd = self.tree.dir_fd(path, create=False) if path else self.tree.root_fd
        except (FileNotFoundError, _Refused):
            return
        self._prune(fd, path)

    def _prune(self, fd: int, path: str) -> None:
        """Remove everything under ``path`` that this layer did not write."""
        for name in os.listdir(fd):
            child = f"{path}/{name}" if path else name
            st = self.tree.lstat(fd, name)
            if st is None:
                continue
            if child in self.touched:
                if stat.S_ISDIR(st.st_mode):
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                    try:
                        self._prune(sub, child)
                    finally:
                        os.close(sub)
                continue
            self.tree.remove(fd, name, st)
            self._forget_meta(child)

    def _file_mode(self, mode: int) -> int:
        return mode & (0o7777 if self.keep_special_bits else 0o1777)

    def _owner(
        self, fd: int, uid: int, gid: int, path: str, *, name: str | None = None, dir_fd: int | None = None
    ) -> None:
        if not self.preserve_owner:
            return
        if not (0 <= uid < _MAX_ID and 0 <= gid < _MAX_ID):
            reason = f"owner {uid}:{gid} out of range; not applied"
            self.counts.gaps.append(CoverageGap(where=printable(path), reason=reason))
            return
        if name is None:
            os.fchown(fd, uid, gid)
        else:
            os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)

    def _clear(self, pfd: int, name: str, path: str) -> None:
        """Remove whatever is at ``path`` (an earlier layer's or a duplicate entry's)."""
        self.tree.remove(pfd, name)
        self._forget_meta(path)

    def _create(self, make: Callable[[], _T], pfd: int, name: str, path: str) -> _T:
        """Run ``make``; if the name is taken, clear it and run ``make`` again (one syscall when new)."""
        try:
            return make()
        except FileExistsError:
            self._clear(pfd, name, path)
            return make()

    def _write(self, item: LayerItem) -> None:
        e = item.entry
        path = e.path
        if e.type in (FileType.CHAR, FileType.BLOCK):
            major, minor = item.device
            raise _Refused(f"device node ({e.type.value} {major}:{minor}) is never created")
        pfd, name = self.tree.parent(path)
        if e.type is FileType.DIR:
            try:
                os.mkdir(name, 0o755, dir_fd=pfd)
                self.counts.dirs += 1
            except FileExistsError:
                st = self.tree.lstat(pfd, name)
                if st is None or not stat.S_ISDIR(st.st_mode):
                    self._create(lambda: os.mkdir(name, 0o755, dir_fd=pfd), pfd, name, path)
                    self.counts.dirs += 1
            self.dir_meta[path] = (e.mode, e.uid, e.gid, item.mtime)
            self._mark(path)
            return
        if e.type is FileType.HARDLINK:
            # Resolve the target (never through a symlink) before anything at ``path`` is removed.
            try:
                tpfd, tname = self.tree.parent(e.linkname, create=False)
            except FileNotFoundError:
                raise _Refused(f"hardlink target {e.linkname!r} does not exist") from None
            tst = self.tree.lstat(tpfd, tname)
            if tst is None:
                raise _Refused(f"hardlink target {e.linkname!r} does not exist")
            if stat.S_ISDIR(tst.st_mode):
                raise _Refused(f"hardlink target {e.linkname!r} is a directory")
        self._mark(path)
        if e.type is FileType.FILE:
            fd = self._create(lambda: os.open(name, _FILE_FLAGS, 0o600, dir_fd=pfd), pfd, name, path)
            try:
                item.copy_to(lambda chunk: _write_all(fd, chunk))
                self._owner(fd, e.uid, e.gid, path)
                os.fchmod(fd, self._file_mode(e.mode))
                os.utime(fd, (item.mtime, item.mtime))
            finally:
                os.close(fd)
            self.counts.files += 1
        elif e.type is FileType.SYMLINK:
            self._create(lambda: os.symlink(e.linkname, name, dir_fd=pfd), pfd, name, path)
            self._owner(-1, e.uid, e.gid, path, name=name, dir_fd=pfd)
            os.utime(name, (item.mtime, item.mtime), dir_fd=pfd, follow_symlinks=False)
            self.counts.symlinks += 1
        elif e.type is FileType.HARDLINK:
            self._create(
                lambda: os.link(tname, name, src_dir_fd=tpfd, dst_dir_fd=pfd, follow_symlinks=False), pfd, name, path
            )
            self.counts.hardlinks += 1
        elif e.type is FileType.FIFO:
            self._create(lambda: os.mkfifo(name, e.mode & 0o777, dir_fd=pfd), pfd, name, path)
            self._owner(-1, e.uid, e.gid, path, name=name, dir_fd=pfd)
            self.counts.files += 1

    # -- end --------------------------------------------------------------------------------
    def finish_dirs(self) -> None:
        """Apply directory modes, owners and times last (children may have been added since)."""
        self.tree.forget()
        for path in sorted(self.dir_meta, key=lambda p: p.count("/"), reverse=True):
            mode, uid, gid, mtime = self.dir_meta[path]
            self.tree.checkpoint()
            try:
                fd = self.tree.dir_fd(path, create=False)  # component by component, no symlinks
                self._owner(fd, uid, gid, path)
                os.fchmod(fd, mode & 0o7777)
                os.utime(fd, (mtime, mtime))
            except (OSError, _Refused) as e:
                reason = e.strerror if isinstance(e, OSError) else str(e)
                self.counts.gaps.append(
                    CoverageGap(where=printable(path), reason=f"directory metadata not set: {reason}")
                )


def flatten(
    image: Image,
    dest_dir: Path,
    *,
    settings: Settings,
    keep_special_bits: bool = False,
    preserve_owner: bool | None = None,
    progress: ProgressFn | None = None,
) -> FlattenResult:
    """Write the merged file system of ``image`` into ``dest_dir`` (created; must be empty).

    ``keep_special_bits`` keeps setuid/setgid bits on files; ``preserve_owner`` (default:
    when running as root) applies the archive's numeric owners. Entries that cannot be
    written safely are skipped and listed in ``FlattenResult.gaps``; a layer that cannot be
    read to its end is a gap too and the next layer is still applied.
    """
    if dest_dir.is_symlink() or (dest_dir.exists() and not dest_dir.is_dir()):
        raise ConfigError(f"{dest_dir} exists and is not a directory")
    if dest_dir.exists() and any(dest_dir.iterdir()):
        raise ConfigError(f"{dest_dir} is not empty")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create {dest_dir}: {e.strerror}") from None
    owner = (os.geteuid() == 0) if preserve_owner is None else preserve_owner
    tree = _Tree(dest_dir)
    f = _Flattener(tree, keep_special_bits, owner)
    layers: list[str] = []
    claims = image.config.diff_ids
    try:
        for pos, desc in enumerate(image.layers):
            claim = claims[pos] if pos < len(claims) else ""
            stream = LayerStream(image.source, desc, limits=settings.limits, label=claim, progress=progress)
            f.touched = set()
            try:
                with stream as items:
                    for item in items:
                        f.apply(item)
            except LayerBrokenError:
                pass
            f.counts.gaps.extend(stream.gaps)
            if stream.complete and stream.diff_id is not None:
                if claim and claim != stream.diff_id:
                    raise IntegrityError(
                        f"image config claims diff_id {claim} for layer {desc.digest}, "
                        f"but its content is {stream.diff_id}"
                    )
                layers.append(stream.diff_id)
            else:
                layers.append(claim or desc.digest)
        f.finish_dirs()
    finally:
        tree.close()
    c = f.counts
    return FlattenResult(
        files=c.files,
        dirs=c.dirs,
        symlinks=c.symlinks,
        hardlinks=c.hardlinks,
        gaps=tuple(c.gaps),
        layers=tuple(layers),
    )
