"""Stream one layer blob: decompress, enforce limits, hash the diff_id, iterate tar entries.

Nothing is extracted: the blob flows ``open_blob`` (digest-verified) -> gzip/zstd/none
decompression -> a hashing, bomb-checking reader -> ``tarfile`` in stream mode (``r|``).
Every member name is normalised (:mod:`lockgate.fs.paths`); entries that cannot be handled
safely are skipped and recorded as coverage gaps, and a truncated, corrupt or oversized
layer ends that layer with a gap while the caller goes on with the rest of the image.

``tarfile``'s stream mode treats several kinds of truncation as a normal end of archive,
so :class:`LayerStream` checks the end itself (no member data may be missing and nothing
but zero padding may follow the last member). With ``threaded=True`` the decompression and
hashing run on a helper thread (they release the GIL) while tar parsing stays on the caller's;
it is off by default because on the shared 2-core test machine it was not a clear win (see
``bench/README.md``), whereas analysing different layers on two threads was.
"""

from __future__ import annotations

import gzip
import hashlib
import queue
import tarfile
import threading
import zlib
from collections.abc import Callable, Generator, Iterator
from typing import BinaryIO, cast

from lockgate.config import Limits
from lockgate.errors import InputError, LimitExceededError, NotFoundError
from lockgate.findings.model import CoverageGap
from lockgate.fs.model import FileEntry, FileType
from lockgate.fs.paths import UnsafePathError, Whiteout, classify, normalize, normalize_link_target, printable
from lockgate.oci.image import ImageSource
from lockgate.oci.model import ENCRYPTED_SUFFIX, Descriptor, layer_compression

RATIO_GRACE_BYTES = 64 * 1024 * 1024
"""Decompressed bytes allowed before the compression-ratio bomb check starts."""
_CHUNK = 1 << 16

ProgressFn = Callable[[int], None]
"""Called with the number of compressed bytes just read (possibly from a helper thread)."""


class LayerBrokenError(InputError):
    """The layer could not be read to its end; the gap is already recorded on the stream."""


_TYPES: dict[bytes, FileType] = {
    tarfile.REGTYPE: FileType.FILE,
    tarfile.AREGTYPE: FileType.FILE,
    tarfile.CONTTYPE: FileType.FILE,
    tarfile.GNUTYPE_SPARSE: FileType.FILE,
    tarfile.DIRTYPE: FileType.DIR,
    tarfile.SYMTYPE: FileType.SYMLINK,
    tarfile.LNKTYPE: FileType.HARDLINK,
    tarfile.CHRTYPE: FileType.CHAR,
    tarfile.BLKTYPE: FileType.BLOCK,
    tarfile.FIFOTYPE: FileType.FIFO,
}


MAX_METADATA_HEADER_BYTES = 1024 * 1024
"""Largest pax / GNU long-name header read into memory (real ones are well under 4 KiB)."""
_META_TYPES = frozenset(
    {tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK}
)


class _BoundedTarInfo(tarfile.TarInfo):
    """``tarfile`` reads pax and GNU long-name headers wholly into memory; bound them first."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _META_TYPES and self.size > MAX_METADATA_HEADER_BYTES:
            raise tarfile.ReadError(f"metadata header of {self.size} bytes (limit {MAX_METADATA_HEADER_BYTES})")
        result: tarfile.TarInfo = super()._proc_member(tarfile_)  # type: ignore[misc]
        return result


def _low_level_errors() -> tuple[type[BaseException], ...]:
    import zstandard

    return (EOFError, tarfile.TarError, zlib.error, OSError, zstandard.ZstdError, gzip.BadGzipFile)


_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def sniff_compression(head: bytes) -> str | None:
    """``gzip``/``zstd`` from a blob's first bytes (as containerd does), else None."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


class _Prefixed:
    """A reader that first returns bytes already peeked from ``raw``."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                data, self._head = self._head + self._raw.read(), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            return data
        return self._raw.read(n)


class _Counting:
    """Counts compressed bytes (for the ratio check) and reports progress."""

    def __init__(self, raw: BinaryIO | _Prefixed, progress: ProgressFn | None) -> None:
        self._raw = raw
        self._progress = progress
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        if self._progress is not None and data:
            self._progress(len(data))
        return data

    def readable(self) -> bool:
        return True


class _Hashing:
    """Hashes decompressed bytes (the diff_id), enforces size and ratio limits, finds the end."""

    def __init__(self, inner: BinaryIO | _Counting, counted: _Counting, limits: Limits, what: str) -> None:
        self._inner = inner
        self._counted = counted
        self._limits = limits
        self._what = what
        self.hash = hashlib.sha256()
        self.total = 0
        self.nonzero_end = 0
        """Offset just past the last non-zero byte seen."""

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n if n and n > 0 else _CHUNK)
        if not data:
            return data
        self.hash.update(data)
        tail = data.rstrip(b"\0")
        if tail:
            self.nonzero_end = self.total + len(tail)
        self.total += len(data)
        lim = self._limits
        if self.total > lim.max_uncompressed_layer_bytes:
            raise LimitExceededError(f"{self._what} decompresses to more than {lim.max_uncompressed_layer_bytes} bytes")
        if self.total > RATIO_GRACE_BYTES and self.total > lim.max_compression_ratio * max(self._counted.count, 1):
            raise LimitExceededError(
                f"{self._what} expands more than {lim.max_compression_ratio}x (decompression bomb?)"
            )
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


class _Pipe:
    """Runs decompression, hashing and the limit checks on a helper thread.

    zlib, zstd and sha256 release the GIL, so on two cores they overlap with the tar
    parsing and analysers on the calling thread. Exceptions (limits, integrity, corrupt
    data) are handed over in order and raised from :meth:`read`.
    """

    _DEPTH = 8

    def __init__(self, source: _Hashing) -> None:
        self._source = source
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(self._DEPTH)
        self._stop = threading.Event()
        self._buf = memoryview(b"")
        self._done = False
        self._thread = threading.Thread(target=self._run, name="lockgate-layer-read", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._source.read(_CHUNK)
                self._put(data)
                if not data:
                    return
        except BaseException as e:  # handed to the reading thread, which raises it
            self._put(e)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def read(self, n: int = -1) -> bytes:
        if not self._buf:
            if self._done:
                return b""
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
                return b""
            self._buf = memoryview(item)
        if n is None or n < 0 or n >= len(self._buf):
            data, self._buf = bytes(self._buf), memoryview(b"")
            return data
        data, self._buf = bytes(self._buf[:n]), self._buf[n:]
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    def stop(self) -> None:
        """Stop the helper thread and wait for it (it may be inside a blocking read)."""
        self._stop.set()
        self._thread.join()


def _decompressor(raw: _Counting, compression: str) -> BinaryIO | _Counting:
    if compression == "gzip":
        return cast(BinaryIO, gzip.GzipFile(fileobj=cast(BinaryIO, raw), mode="rb"))
    if compression == "zstd":
        import zstandard

        reader: BinaryIO = zstandard.ZstdDecompressor().stream_reader(cast(BinaryIO, raw), read_across_frames=True)
        return reader
    return raw


class LayerItem:
    """One tar entry (or whiteout) of a layer; its content can be read until the next item."""

    __slots__ = ("_member", "_stream", "entry", "raw_name", "whiteout")

    def __init__(
        self, stream: LayerStream, member: tarfile.TarInfo, entry: FileEntry, whiteout: Whiteout, raw_name: str
    ) -> None:
        self._stream = stream
        self._member = member
        self.entry = entry
        """The normalised entry; for whiteouts ``path`` is the path being deleted or made opaque."""
        self.whiteout = whiteout
        self.raw_name = raw_name

    @property
    def mtime(self) -> int:
        """Modification time recorded in the archive (seconds), clamped to what file systems store."""
        try:
            return max(-(2**31), min(int(self._member.mtime), 2**34))
        except (TypeError, ValueError, OverflowError):
            return 0

    @property
    def device(self) -> tuple[int, int]:
        """(major, minor) of a device entry."""
        return self._member.devmajor, self._member.devminor

    def read(self, limit: int | None = None) -> bytes:
        """Content of a regular file (``b""`` for other types), at most ``limit`` bytes."""
        if self.entry.type is not FileType.FILE or self.whiteout is not Whiteout.NONE:
            return b""
        want = self.entry.size if limit is None else min(limit, self.entry.size)
        return self._stream._read_member(self._member, want)

    def copy_to(self, write: Callable[[bytes], object]) -> int:
        """Stream a regular file's content to ``write`` in chunks; returns bytes copied."""
        if self.entry.type is not FileType.FILE or self.whiteout is not Whiteout.NONE:
            return 0
        return self._stream._copy_member(self._member, write)


class LayerStream:
    """Iterate the entries of one layer blob, once, safely.

    After iteration, ``complete`` says whether the whole layer was read, ``diff_id`` holds
    the sha256 of the uncompressed tar (only when complete) and ``gaps`` lists everything
    skipped. Integrity errors from the source (digest or size mismatch) propagate.
    """

    def __init__(
        self,
        source: ImageSource,
        desc: Descriptor,
        *,
        limits: Limits,
        label: str = "",
        progress: ProgressFn | None = None,
        threaded: bool = False,
    ) -> None:
        self._source = source
        self._desc = desc
        self._limits = limits
        self.label = label or desc.digest
        self._progress = progress
        self.gaps: list[CoverageGap] = []
        self.complete = False
        self.diff_id: str | None = None
        self.entries = 0
        self._tar: tarfile.TarFile | None = None
        self._broken = False
        self._raw: BinaryIO | None = None
        self._gen: Generator[LayerItem, None, None] | None = None
        self._pipe: _Pipe | None = None
        self.threaded = threaded

    @property
    def what(self) -> str:
        return f"layer {self._desc.digest}"

    # -- failure handling -------------------------------------------------------------------
    def _layer_gap(self, reason: str) -> None:
        self._broken = True
        self.gaps.append(CoverageGap(where=self._desc.digest, reason=reason, layer=self.label))

    def _entry_gap(self, name: str, reason: str) -> None:
        self.gaps.append(CoverageGap(where=printable(name), reason=f"{reason}; entry skipped", layer=self.label))

    def _fail(self, exc: BaseException) -> LayerBrokenError:
        self._verify_rest()
        if isinstance(exc, LimitExceededError):
            reason = str(exc)
        else:
            reason = f"layer is truncated or corrupt ({type(exc).__name__}: {exc}); rest of the layer not read"
        self._layer_gap(reason)
        return LayerBrokenError(reason)

    def _verify_rest(self) -> None:
        """Read the rest of the blob so a tampered blob is an integrity error, not a mere gap."""
        if self._pipe is not None:
            self._pipe.stop()  # the helper thread must not read the blob concurrently
        raw, self._raw = self._raw, None
        if raw is None:
            return
        try:
            while raw.read(_CHUNK):
                pass
        except (OSError, ValueError):
            pass  # not an integrity failure; the layer gap stands

    # -- content ----------------------------------------------------------------------------
    def _read_member(self, member: tarfile.TarInfo, want: int) -> bytes:
        assert self._tar is not None
        try:
            f = self._tar.extractfile(member)
            if f is None:
                return b""
            data = f.read(want)
        except LimitExceededError as e:
            raise self._fail(e) from None
        except _low_level_errors() as e:
            raise self._fail(e) from None
        if len(data) < want:
            raise self._fail(EOFError(f"{member.name!r} has {len(data)} of {want} bytes"))
        return data

    def _copy_member(self, member: tarfile.TarInfo, write: Callable[[bytes], object]) -> int:
        assert self._tar is not None
        done = 0
        try:
            f = self._tar.extractfile(member)
            if f is None:
                return 0
            while chunk := f.read(_CHUNK):
                write(chunk)
                done += len(chunk)
        except LimitExceededError as e:
            raise self._fail(e) from None
        except _low_level_errors() as e:
            raise self._fail(e) from None
        if done < member.size:
            raise self._fail(EOFError(f"{member.name!r} has {done} of {member.size} bytes"))
        return done

    # -- iteration --------------------------------------------------------------------------
    def __enter__(self) -> Iterator[LayerItem]:
        """Iterate inside ``with``: leaving the block closes the blob even after an early exit."""
        self._gen = self._items()
        return self._gen

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop iterating and close the blob (safe to call more than once)."""
        if self._gen is not None:
            self._gen.close()
            self._gen = None

    def __iter__(self) -> Iterator[LayerItem]:
        return self._items()

    def _items(self) -> Generator[LayerItem, None, None]:
        mt = self._desc.media_type
        if mt.endswith(ENCRYPTED_SUFFIX):
            self._layer_gap("layer is encrypted; decrypt the image first (--decryption-key)")
            return
        try:
            layer_compression(mt)  # refuses media types that are not layers at all
        except InputError as e:
            self._layer_gap(str(e))
            return
        if self._desc.size > self._limits.max_layer_bytes:
            self._layer_gap(f"layer is {self._desc.size} bytes (limit {self._limits.max_layer_bytes})")
            return
        try:
            raw = self._source.open_blob(self._desc)
        except NotFoundError as e:
            self._layer_gap(f"layer blob not available: {e}")
            return
        self._raw = raw
        try:
            head = raw.read(4)
            compression = sniff_compression(head) or "none"  # the bytes decide, as in containerd
            yield from self._iterate(_Prefixed(head, raw), compression)
        finally:
            if self._pipe is not None:
                self._pipe.stop()
            raw.close()

    def _iterate(self, raw: BinaryIO | _Prefixed, compression: str) -> Iterator[LayerItem]:
        errors = _low_level_errors()
        counted = _Counting(raw, self._progress)
        hashing = _Hashing(_decompressor(counted, compression), counted, self._limits, self.what)
        reader: _Hashing | _Pipe = hashing
        if self.threaded:
            reader = self._pipe = _Pipe(hashing)
        try:
            tar = tarfile.open(fileobj=reader, mode="r|", bufsize=_CHUNK, tarinfo=_BoundedTarInfo)  # type: ignore[call-overload]  # noqa: SIM115
        except LimitExceededError as e:
            self._fail(e)
            return
        except errors as e:
            self._fail(e)
            return
        self._tar = tar
        while not self._broken:
            try:
                member = tar.next()
            except LimitExceededError as e:
                self._fail(e)
                return
            except errors as e:
                self._fail(e)
                return
            if member is None:
                break
            tar.members.clear()  # stream mode would otherwise keep every header in memory
            self.entries += 1
            if self.entries > self._limits.max_tar_entries:
                self._layer_gap(f"layer has more than {self._limits.max_tar_entries} entries; rest not read")
                return
            item = self._item(member)
            if item is not None:
                yield item
        if self._broken:
            return
        try:
            reader.drain()
        except LimitExceededError as e:
            self._fail(e)
            return
        except errors as e:
            self._fail(e)
            return
        end = tar.offset
        if hashing.total < end or 0 < hashing.total - end < tarfile.BLOCKSIZE or hashing.nonzero_end > end:
            self._layer_gap("layer tar is truncated or has data after its last entry; it may be incomplete")
            return
        self.complete = True
        self.diff_id = "sha256:" + hashing.hash.hexdigest()

    def _item(self, m: tarfile.TarInfo) -> LayerItem | None:
        name = m.name
        ftype = _TYPES.get(m.type)
        if ftype is None:
            self._entry_gap(name, f"unsupported tar entry type {m.type!r}")
            return None
        if ftype is FileType.FILE and m.size > self._limits.max_uncompressed_layer_bytes:
            self._layer_gap(f"entry {name!r} claims {m.size} bytes; rest of the layer not read")
            return None
        try:
            path = normalize(name)
            kind, target = classify(path) if path else (Whiteout.NONE, path)
        except UnsafePathError as e:
            self._entry_gap(name, str(e))
            return None
        if not path or kind is Whiteout.META:
            return None  # the root directory itself, or AUFS bookkeeping
        linkname = m.linkname
        if ftype is FileType.HARDLINK:
            try:
                linkname = normalize_link_target(m.linkname)
            except UnsafePathError as e:
                self._entry_gap(name, f"hardlink target escapes the root: {e}")
                return None
            if linkname == path:
                self._entry_gap(name, "hardlink to itself")
                return None
        entry = FileEntry(
            path=target,
            size=m.size if ftype is FileType.FILE else 0,
            mode=m.mode & 0o7777,
            uid=m.uid,
            gid=m.gid,
            type=ftype,
            linkname=linkname,
            layer=self.label,
        )
        return LayerItem(self, m, entry, kind, name)
