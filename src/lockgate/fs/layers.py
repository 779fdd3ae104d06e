"""Stream one layer blob: decompress, enforce limits, hash the diff_id, iterate tar entries.

Nothing is extracted: the blob flows ``open_blob`` (digest-verified) -> gzip/zstd/none
decompression -> hashing and bomb checks -> a streaming tar header reader. Every member
name is normalised (:mod:`lockgate.fs.paths`); entries that cannot be handled safely are
skipped and recorded as coverage gaps, and a truncated, corrupt or oversized layer ends that
layer with a gap while the caller goes on with the rest of the image.

Speed matters here (a cold scan is mostly this module), hence:

- gzip is inflated with ISA-L (the ``isal`` package, a zlib-compatible binding of Intel's
  ISA-L: about 1.7x faster inflate than zlib on real layers) and falls back to the stdlib
  ``zlib`` when it is not installed. Both run in gzip mode (``wbits=31``), so each member's
  header, CRC-32 and length trailer are checked by the inflater; members may follow one
  another (multi-member gzip) and zero padding may follow the last one, as in ``gzip``.
  Each member header is handed to the inflater in one piece (ISA-L misreads headers with
  optional fields that arrive split, see :func:`_with_whole_header`).
- tar headers are parsed here (ustar, GNU long names/links, pax path/linkpath/size/uid/gid/
  mtime, global pax headers) straight from the decompressed chunks, about 10x cheaper than
  ``tarfile`` in stream mode. Sparse files are reported as unsupported entries, and the end
  of the archive is checked strictly: no member data may be missing and nothing but zero
  padding may follow the end-of-archive block.

With ``threaded=True`` decompression and hashing run on a helper thread (they release the
GIL) while tar parsing stays on the caller's; see ``bench/README.md`` for why it is off by
default.
"""

from __future__ import annotations

import hashlib
import queue
import struct
import threading
from collections.abc import Callable, Generator, Iterator
from typing import BinaryIO, Protocol, cast
from zlib import adler32 as _adler32

from lockgate.config import Limits
from lockgate.errors import InputError, LimitExceededError, NotFoundError
from lockgate.findings.model import CoverageGap
from lockgate.fs.model import FileEntry, FileType
from lockgate.fs.paths import UnsafePathError, Whiteout, classify, normalize, normalize_link_target, printable
from lockgate.oci.image import ImageSource
from lockgate.oci.model import ENCRYPTED_SUFFIX, Descriptor, layer_compression

RATIO_GRACE_BYTES = 64 * 1024 * 1024
"""Decompressed bytes allowed before the compression-ratio bomb check starts."""
MAX_METADATA_HEADER_BYTES = 1024 * 1024
"""Largest pax / GNU long-name header read into memory (real ones are well under 4 KiB)."""

_IN_CHUNK = 1 << 17
"""Compressed bytes read from the blob at a time."""
_OUT_CHUNK = 1 << 18
"""Most decompressed bytes produced per step (bounds memory while inflating a bomb)."""
_CHUNK = 1 << 16
"""Chunk size of :meth:`LayerItem.copy_to`."""
BLOCK = 512

ProgressFn = Callable[[int], None]
"""Called with the number of compressed bytes just read (possibly from a helper thread)."""


class LayerBrokenError(InputError):
    """The layer could not be read to its end; the gap is already recorded on the stream."""


class LayerCorruptError(InputError):
    """The layer's bytes are not a well-formed compressed tar (the message says where)."""


_TYPES: dict[bytes, FileType] = {
    b"0": FileType.FILE,
    b"\0": FileType.FILE,
    b"7": FileType.FILE,
    b"5": FileType.DIR,
    b"2": FileType.SYMLINK,
    b"1": FileType.HARDLINK,
    b"3": FileType.CHAR,
    b"4": FileType.BLOCK,
    b"6": FileType.FIFO,
}
_SPARSE = b"S"
_LONGNAME, _LONGLINK = b"L", b"K"
_PAX, _PAX_SOLARIS, _PAX_GLOBAL = b"x", b"X", b"g"
_META_TYPES = frozenset({_LONGNAME, _LONGLINK, _PAX, _PAX_SOLARIS, _PAX_GLOBAL})
_NO_DATA_TYPES = frozenset({b"1", b"2", b"3", b"4", b"5", b"6"})
"""Types whose size field is ignored (as ``tarfile`` does); every other type is followed by data."""
_GNU_MAGIC = b"ustar  \0"
_ZERO_BLOCK = bytes(BLOCK)
_HEADER = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s")
"""name mode uid gid size mtime chksum type linkname magic+version uname gname devmajor devminor prefix."""
_SIGNED = struct.Struct("148b8x356b")


def _text(field: bytes) -> str:
    """A NUL-terminated name field as text (undecodable bytes kept as surrogates, like ``tarfile``)."""
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(field: bytes) -> int:
    """An octal (or GNU base-256) numeric header field."""
    try:
        return int(field.rstrip(b"\0 ") or b"0", 8)  # the usual "0000644\0" in one step
    except ValueError:
        return _number_exact(field)


def _number_exact(field: bytes) -> int:
    if field[:1] in (b"\x80", b"\xff"):
        n = int.from_bytes(field[1:], "big")
        return n - 256 ** (len(field) - 1) if field[0] == 0xFF else n
    digits = field.split(b"\0", 1)[0].strip()
    if not digits:
        return 0
    try:
        return int(digits, 8)
    except ValueError:
        raise LayerCorruptError(f"invalid number {digits[:20]!r} in tar header") from None


def _pax_records(data: bytes) -> dict[str, str]:
    """``"%d %s=%s\\n"`` records of a pax header; parsing stops at padding, as in ``tarfile``."""
    out: dict[str, str] = {}
    pos, end = 0, len(data)
    while pos < end:
        space = data.find(b" ", pos, pos + 24)
        if space <= pos or not data[pos:space].isdigit():
            break
        length = int(data[pos:space])
        stop = pos + length
        equals = data.find(b"=", space + 1, stop)
        if length == 0 or stop > end or equals <= space + 1:
            raise LayerCorruptError("invalid pax header record")
        key = data[space + 1 : equals].decode("utf-8", "surrogateescape")
        out[key] = data[equals + 1 : stop - 1].decode("utf-8", "surrogateescape")
        pos = stop
    return out


def _pax_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0  # as tarfile: an unparsable number counts as 0


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


# -- decompression -----------------------------------------------------------------------------
class _Inflate(Protocol):
    """What zlib's and ISA-L's decompress objects have in common (and all this module uses)."""

    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    @property
    def unconsumed_tail(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes: ...


def _inflater() -> tuple[Callable[[int], _Inflate], tuple[type[Exception], ...]]:
    """ISA-L's decompressobj when available, else zlib's; plus the errors they raise."""
    import zlib

    try:
        from isal import isal_zlib
    except ImportError:  # isal is a dependency; zlib keeps an install without it working
        return zlib.decompressobj, (zlib.error,)
    isal_error = cast(type[Exception], isal_zlib.error)  # the stub calls the class an instance
    return cast(Callable[[int], _Inflate], isal_zlib.decompressobj), (isal_error, zlib.error)


_MAX_GZIP_HEADER = 1 << 20
"""Longest gzip member header accepted (extra field, name and comment; real ones are tiny)."""


def _gzip_header_size(buf: bytes) -> int:
    """Length of the gzip member header at the start of ``buf``; -1 while it is incomplete.

    0 when ``buf`` does not start like a gzip member (the inflater then reports what is wrong).
    """
    if len(buf) >= 2 and buf[:2] != _GZIP_MAGIC:
        return 0
    if len(buf) < 10:
        return -1
    flags, pos = buf[3], 10
    if flags & 4:  # FEXTRA: two length bytes, then the field
        if len(buf) < 12:
            return -1
        pos = 12 + (buf[10] | buf[11] << 8)
    for flag in (8, 16):  # FNAME, FCOMMENT: NUL-terminated
        if flags & flag:
            end = buf.find(b"\0", pos)
            if end < 0:
                return -1
            pos = end + 1
    if flags & 2:  # FHCRC
        pos += 2
    return pos if len(buf) >= pos else -1


def _with_whole_header(read: Callable[[int], bytes], data: bytes) -> bytes:
    """``data`` extended until it holds a whole gzip member header.

    ISA-L (python-isal 1.9) fails with "Invalid deflate block" or "Incorrect checksum" when a
    header with optional fields (extra, comment, header CRC) arrives split over two calls, so
    each member's header is handed over in one piece.
    """
    while _gzip_header_size(data) < 0:
        if len(data) > _MAX_GZIP_HEADER:
            raise LayerCorruptError(f"gzip member header longer than {_MAX_GZIP_HEADER} bytes")
        more = read(_IN_CHUNK)
        if not more:
            raise LayerCorruptError("gzip stream ends inside a member header (truncated)")
        data += more
    return data


def _gunzip(read: Callable[[int], bytes], first: bytes) -> Iterator[bytes]:
    """Inflate one or more gzip members (optionally followed by zero padding)."""
    new, errors = _inflater()
    data = first
    while True:  # one member per round
        data = _with_whole_header(read, data)
        d = new(31)
        while not d.eof:
            ended = False
            if not data:
                data = read(_IN_CHUNK)
                ended = not data
            try:
                out = d.decompress(data, _OUT_CHUNK)
            except errors as e:
                raise LayerCorruptError(f"gzip data is corrupt: {e}") from None
            if ended and not out and not d.eof:
                raise LayerCorruptError("gzip stream ends before its end marker (truncated)")
            data = d.unconsumed_tail
            if out:
                yield out
        data = d.unused_data.lstrip(b"\0")
        while not data:
            more = read(_IN_CHUNK)
            if not more:
                return
            data = more.lstrip(b"\0")


def _unzstd(read: Callable[[int], bytes], first: bytes) -> Iterator[bytes]:
    import zstandard

    class _Reader:
        def __init__(self) -> None:
            self.head = first

        def read(self, n: int = -1) -> bytes:
            if self.head:
                data, self.head = self.head, b""
                return data
            return read(n if n > 0 else _IN_CHUNK)

    reader = zstandard.ZstdDecompressor().stream_reader(cast(BinaryIO, _Reader()), read_across_frames=True)
    while chunk := reader.read(_OUT_CHUNK):
        yield chunk


def _plain(read: Callable[[int], bytes], first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while chunk := read(_OUT_CHUNK):
        yield chunk


_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def sniff_compression(head: bytes) -> str | None:
    """``gzip``/``zstd`` from a blob's first bytes (as containerd does), else None."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


def _low_level_errors() -> tuple[type[BaseException], ...]:
    """Errors of the blob and the decompressors that mean "this layer cannot be read"."""
    import zstandard

    return (EOFError, OSError, zstandard.ZstdError)


class _Decoded:
    """The decompressed bytes of a blob, chunk by chunk: hashed (diff_id), counted, bomb-checked."""

    def __init__(self, raw: BinaryIO, limits: Limits, what: str, progress: ProgressFn | None) -> None:
        self._raw = raw
        self._limits = limits
        self._what = what
        self._progress = progress
        self.compressed = 0
        self.total = 0
        self.hash = hashlib.sha256()
        head = b""
        while len(head) < 4 and (more := self._read(4 - len(head))):  # a stream may return less
            head += more
        compression = sniff_compression(head)  # the bytes decide, as in containerd
        decode = _gunzip if compression == "gzip" else _unzstd if compression == "zstd" else _plain
        self._chunks = decode(self._read, head)

    def _read(self, n: int) -> bytes:
        data = self._raw.read(n)
        if data:
            self.compressed += len(data)
            if self._progress is not None:
                self._progress(len(data))
        return data

    def next(self) -> bytes:
        """The next chunk; ``b""`` at the end."""
        data = next(self._chunks, b"")
        if data:
            self.hash.update(data)
            self.total += len(data)
            lim = self._limits
            if self.total > lim.max_uncompressed_layer_bytes:
                raise LimitExceededError(
                    f"{self._what} decompresses to more than {lim.max_uncompressed_layer_bytes} bytes"
                )
            if self.total > RATIO_GRACE_BYTES and self.total > lim.max_compression_ratio * max(self.compressed, 1):
                raise LimitExceededError(
                    f"{self._what} expands more than {lim.max_compression_ratio}x (decompression bomb?)"
                )
        return data


class _Pipe:
    """Runs :class:`_Decoded` on a helper thread; chunks and exceptions are handed over in order.

    zlib/ISA-L, zstd and sha256 release the GIL, so on two cores they overlap with the tar
    parsing and analysers on the calling thread.
    """

    _DEPTH = 8

    def __init__(self, source: _Decoded) -> None:
        self._source = source
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(self._DEPTH)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="lockgate-layer-read", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._source.next()
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

    def next(self) -> bytes:
        if self._done:
            return b""
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if not item:
            self._done = True
        return item

    def stop(self) -> None:
        """Stop the helper thread and wait for it (it may be inside a blocking read)."""
        self._stop.set()
        self._thread.join()


# -- tar ---------------------------------------------------------------------------------------
class _Header:
    """One tar member as read from its header blocks (after long-name and pax overrides)."""

    __slots__ = ("devmajor", "devminor", "gid", "linkname", "mode", "mtime", "name", "size", "sparse", "type", "uid")

    def __init__(
        self,
        name: str,
        linkname: str,
        type_: bytes,
        size: int,
        mode: int,
        uid: int,
        gid: int,
        mtime: float,
        devmajor: int,
        devminor: int,
        sparse: bool,
    ) -> None:
        self.name = name
        self.linkname = linkname
        self.type = type_
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.devmajor = devmajor
        self.devminor = devminor
        self.sparse = sparse


class _Cursor:
    """A read position in a stream of decompressed chunks (no seeking back)."""

    __slots__ = ("base", "buf", "next_chunk", "pos")

    def __init__(self, next_chunk: Callable[[], bytes]) -> None:
        self.next_chunk = next_chunk
        self.buf = b""
        self.pos = 0
        self.base = 0
        """Stream offset of ``buf[0]``."""

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def fill(self, n: int) -> bool:
        """Make ``n`` bytes available at ``pos``; False when the stream ends first."""
        buf, pos = self.buf, self.pos
        avail = len(buf) - pos
        if avail >= n:
            return True
        parts = [buf[pos:]] if avail else []
        self.base += pos
        while avail < n:
            chunk = self.next_chunk()
            if not chunk:
                self.buf, self.pos = b"".join(parts), 0
                return False
            parts.append(chunk)
            avail += len(chunk)
        self.buf, self.pos = b"".join(parts) if len(parts) > 1 else parts[0], 0
        return True

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the stream)."""
        self.fill(n)
        data = self.buf[self.pos : self.pos + n]
        self.pos += len(data)
        return data

    def skip(self, n: int) -> bool:
        """Move ``n`` bytes on; False when the stream ends first."""
        avail = len(self.buf) - self.pos
        while n > avail:
            n -= avail
            self.base += len(self.buf)
            self.buf, self.pos = self.next_chunk(), 0
            avail = len(self.buf)
            if not avail:
                return n == 0
        self.pos += n
        return True

    def copy(self, n: int, write: Callable[[bytes], object]) -> int:
        """Pass up to ``n`` bytes to ``write`` chunk by chunk; returns how many there were."""
        done = 0
        while done < n:
            if self.pos >= len(self.buf) and not self.fill(1):
                break
            k = min(n - done, len(self.buf) - self.pos, _CHUNK)
            write(self.buf[self.pos : self.pos + k])
            self.pos += k
            done += k
        return done


def _check_sum(block: bytes, stored: bytes) -> None:
    """The header checksum: the sum of its bytes with the checksum field read as eight spaces.

    Adler-32's low half is 1 + the byte sum mod 65521, exact for runs under 257 bytes, and
    about five times faster than ``sum()`` over the block.
    """
    expected = _number(stored)
    unsigned = (_adler32(block[:148]) & 0xFFFF) + (_adler32(block[156:400]) & 0xFFFF) + (_adler32(block[400:]) & 0xFFFF)
    if expected != unsigned + 253 and expected != sum(_SIGNED.unpack(block)) + 256:
        raise LayerCorruptError("bad tar header checksum")


class LayerItem:
    """One tar entry (or whiteout) of a layer; its content can be read until the next item."""

    __slots__ = ("_header", "_stream", "entry", "raw_name", "whiteout")

    def __init__(
        self, stream: LayerStream, header: _Header, entry: FileEntry, whiteout: Whiteout, raw_name: str
    ) -> None:
        self._stream = stream
        self._header = header
        self.entry = entry
        """The normalised entry; for whiteouts ``path`` is the path being deleted or made opaque."""
        self.whiteout = whiteout
        self.raw_name = raw_name

    @property
    def mtime(self) -> int:
        """Modification time recorded in the archive (seconds), clamped to what file systems store."""
        try:
            return max(-(2**31), min(int(self._header.mtime), 2**34))
        except (TypeError, ValueError, OverflowError):
            return 0

    @property
    def device(self) -> tuple[int, int]:
        """(major, minor) of a device entry."""
        return self._header.devmajor, self._header.devminor

    def read(self, limit: int | None = None) -> bytes:
        """Content of a regular file (``b""`` for other types), at most ``limit`` bytes."""
        if self.entry.type is not FileType.FILE or self.whiteout is not Whiteout.NONE:
            return b""
        want = self.entry.size if limit is None else min(limit, self.entry.size)
        return self._stream._read_member(self._header, want)

    def copy_to(self, write: Callable[[bytes], object]) -> int:
        """Stream a regular file's content to ``write`` in chunks; returns bytes copied."""
        if self.entry.type is not FileType.FILE or self.whiteout is not Whiteout.NONE:
            return 0
        return self._stream._copy_member(self._header, write)


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
        self.threaded = threaded
        self._broken = False
        self._raw: BinaryIO | None = None
        self._gen: Generator[LayerItem, None, None] | None = None
        self._pipe: _Pipe | None = None
        self._cursor = _Cursor(lambda: b"")
        self._member: _Header | None = None
        """The member whose data the cursor is in."""
        self._got = b""
        """Content of ``_member`` read so far."""
        self._left = 0
        """Bytes of the current member's data (with padding) not yet consumed."""
        self._last = ""
        """Name of the current member (for messages)."""
        self._global: dict[str, str] = {}
        """Values of pax global headers seen so far."""

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
        elif isinstance(exc, LayerCorruptError):
            reason = f"layer is truncated or corrupt ({exc}); rest of the layer not read"
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
            while raw.read(_IN_CHUNK):
                pass
        except (OSError, ValueError):
            pass  # not an integrity failure; the layer gap stands

    # -- content ----------------------------------------------------------------------------
    def _check_current(self, member: _Header) -> None:
        if member is not self._member or self._broken:
            raise ValueError(f"{printable(member.name)!r}: entry content must be read before the next entry")

    def _read_member(self, member: _Header, want: int) -> bytes:
        self._check_current(member)
        got = self._got
        if want <= len(got):
            return got[:want]
        try:
            more = self._cursor.take(want - len(got))
        except (LimitExceededError, LayerCorruptError) as e:
            raise self._fail(e) from None
        except _low_level_errors() as e:
            raise self._fail(e) from None
        self._left -= len(more)
        data = self._got = got + more if got else more
        if len(data) < want:
            raise self._fail(EOFError(f"{member.name!r} has {len(data)} of {want} bytes"))
        return data

    def _copy_member(self, member: _Header, write: Callable[[bytes], object]) -> int:
        self._check_current(member)
        got = self._got
        if got:
            write(got)
        try:
            done = len(got) + self._cursor.copy(member.size - len(got), write)
        except (LimitExceededError, LayerCorruptError) as e:
            raise self._fail(e) from None
        except _low_level_errors() as e:
            raise self._fail(e) from None
        self._left -= done - len(got)
        self._got = b""
        if done < member.size:
            raise self._fail(EOFError(f"{member.name!r} has {done} of {member.size} bytes"))
        self._member = None  # its content was streamed, not kept: it cannot be read again
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
            yield from self._iterate(raw)
        finally:
            self._member = None
            if self._pipe is not None:
                self._pipe.stop()
            raw.close()

    def _iterate(self, raw: BinaryIO) -> Iterator[LayerItem]:
        errors: tuple[type[BaseException], ...] = (LimitExceededError, LayerCorruptError, *_low_level_errors())
        try:
            decoded = _Decoded(raw, self._limits, self.what, self._progress)
        except errors as e:
            self._fail(e)
            return
        if self.threaded:
            self._pipe = _Pipe(decoded)
            self._cursor = _Cursor(self._pipe.next)
        else:
            self._cursor = _Cursor(decoded.next)
        while True:
            try:
                if self._left and not self._cursor.skip(self._left):
                    raise LayerCorruptError(f"unexpected end of data in entry {printable(self._last)!r}")
                self._member, self._got, self._left = None, b"", 0
                header = self._header()
            except errors as e:
                self._fail(e)
                return
            if header is None or isinstance(header, int):
                break
            self.entries += 1
            if self.entries > self._limits.max_tar_entries:
                self._layer_gap(f"layer has more than {self._limits.max_tar_entries} entries; rest not read")
                return
            self._last = header.name
            item = self._item(header)
            if item is not None:
                self._member = header
                yield item
                if self._broken:
                    return
        try:
            clean = header is not None and self._only_padding_left()
            if header is None and self._cursor.base + len(self._cursor.buf) == 0:
                raise LayerCorruptError("empty tar: no entries and no end-of-archive block")
        except errors as e:
            self._fail(e)
            return
        if not clean:
            self._verify_rest()
            self._layer_gap("layer tar is truncated or has data after its last entry; it may be incomplete")
            return
        self.complete = True
        self.diff_id = "sha256:" + decoded.hash.hexdigest()

    def _only_padding_left(self) -> bool:
        """Read the stream to its end; True when it holds nothing but zero bytes."""
        cur = self._cursor
        rest = cur.buf[cur.pos :]
        if rest.count(0) != len(rest):
            return False
        while chunk := cur.next_chunk():
            if chunk.count(0) != len(chunk):
                return False
        return True

    def _header(self) -> _Header | int | None:
        """The next member, or where the archive ends: the offset of its end-of-archive block
        (or of its end, when it stops on a block boundary without one, as ``tarfile`` accepts);
        None when the data ends inside a header (or before any).
        """
        cur = self._cursor
        name: str | None = None
        link: str | None = None
        pax: dict[str, str] = {}
        glob = self._global
        while True:
            start = cur.offset
            if not cur.fill(BLOCK):
                if len(cur.buf) - cur.pos == 0 and start > 0 and name is None and link is None and not pax:
                    return start  # ended on a block boundary: as complete as tarfile considered it
                return None
            block = cur.buf[cur.pos : cur.pos + BLOCK]
            cur.pos += BLOCK
            if block == _ZERO_BLOCK:
                if name is not None or link is not None or pax:
                    raise LayerCorruptError(f"tar metadata header is not followed by a member (offset {start})")
                return start
            f = _HEADER.unpack_from(block)
            _check_sum(block, f[6])
            type_ = f[7]
            size = _number(f[4])
            if size < 0:
                raise LayerCorruptError(f"negative size in the tar header at offset {start}")
            if type_ in _META_TYPES:
                if size > MAX_METADATA_HEADER_BYTES:
                    raise LimitExceededError(
                        f"{self.what}: metadata header of {size} bytes (limit {MAX_METADATA_HEADER_BYTES}); "
                        "rest of the layer not read"
                    )
                data = cur.take(_padded(size))
                if len(data) < _padded(size):
                    raise LayerCorruptError(f"tar metadata header at offset {start} is cut short")
                data = data[:size]
                if type_ == _LONGNAME:
                    name = _text(data) if name is None else name  # the first override wins, as in tarfile
                elif type_ == _LONGLINK:
                    link = _text(data) if link is None else link
                elif type_ == _PAX_GLOBAL:
                    glob.update(_pax_records(data))
                else:
                    records = _pax_records(data)
                    if "path" in records:
                        path = records.pop("path").rstrip("/")
                        name = path if name is None else name
                    if "linkpath" in records:
                        target = records.pop("linkpath")
                        link = target if link is None else link
                    for k, v in records.items():
                        pax.setdefault(k, v)
                continue
            return self._member_header(f, block, type_, size, name, link, {**glob, **pax} if glob else pax)

    def _member_header(
        self,
        f: tuple[bytes, ...],
        block: bytes,
        type_: bytes,
        size: int,
        long_name: str | None,
        long_link: str | None,
        pax: dict[str, str],
    ) -> _Header:
        raw_name = f[0]
        if type_ == b"\0" and raw_name.split(b"\0", 1)[0].endswith(b"/"):
            type_ = b"5"
        name = _text(raw_name)
        if type_ == b"5":
            name = name.rstrip("/")
        prefix = f[14]
        if prefix[0] and type_ != _SPARSE and f[9] != _GNU_MAGIC:
            name = _text(prefix) + "/" + name
        if long_name is not None:
            name = long_name.removesuffix("/") if type_ == b"5" else long_name
        sparse = type_ == _SPARSE
        if sparse:  # skip the extension blocks holding more of the sparse map
            extended = block[482]
            while extended:
                ext = self._cursor.take(BLOCK)
                if len(ext) < BLOCK:
                    raise LayerCorruptError("sparse header extension is cut short")
                extended = ext[504]
        linkname = _text(f[8]) if long_link is None else long_link
        uid, gid = _number(f[2]), _number(f[3])
        mtime: float = _number(f[5])
        if pax:
            if "path" in pax and long_name is None:  # from a global header
                name = pax["path"].rstrip("/")
            if "linkpath" in pax and long_link is None:
                linkname = pax["linkpath"]
            if "size" in pax:
                size = _pax_int(pax["size"])
                if size < 0:
                    raise LayerCorruptError(f"negative size in the pax header of {name!r}")
            if "uid" in pax:
                uid = _pax_int(pax["uid"])
            if "gid" in pax:
                gid = _pax_int(pax["gid"])
            if "mtime" in pax:
                try:
                    mtime = float(pax["mtime"])
                except ValueError:
                    mtime = 0.0
            if any(k.startswith("GNU.sparse.") for k in pax):
                sparse = True
                name = pax.get("GNU.sparse.name", name)
        self._left = 0 if type_ in _NO_DATA_TYPES else _padded(size)
        return _Header(
            name=name,
            linkname=linkname,
            type_=type_,
            size=size,
            mode=_number(f[1]),
            uid=uid,
            gid=gid,
            mtime=mtime,
            devmajor=_number(f[12]),
            devminor=_number(f[13]),
            sparse=sparse,
        )

    def _item(self, m: _Header) -> LayerItem | None:
        name = m.name
        ftype = _TYPES.get(m.type)
        if m.sparse:
            self._entry_gap(name, "sparse file (not supported in image layers)")
            return None
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
