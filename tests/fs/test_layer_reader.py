"""The layer reader (``lockgate.fs.layers``) against ``tarfile`` and GNU tar as oracles.

lockgate parses tar headers itself and inflates gzip with ISA-L, so every archive here is read
both ways and must give the same entries, contents and diff_id: archives written by ``tarfile``
in its three formats, by GNU tar (sparse files, long names), and the real Debian image layer.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

from lockgate.config import Limits
from lockgate.fs.layers import LayerStream, sniff_compression
from lockgate.fs.model import FileType
from lockgate.fs.paths import normalize, normalize_link_target
from lockgate.oci.model import Descriptor, sha256_digest
from tests.fixtures.images import BuiltImage, TarBuilder, compress

from .helpers import open_image

_TARFILE_TYPES = {
    tarfile.REGTYPE: FileType.FILE,
    tarfile.AREGTYPE: FileType.FILE,
    tarfile.CONTTYPE: FileType.FILE,
    tarfile.DIRTYPE: FileType.DIR,
    tarfile.SYMTYPE: FileType.SYMLINK,
    tarfile.LNKTYPE: FileType.HARDLINK,
    tarfile.CHRTYPE: FileType.CHAR,
    tarfile.BLKTYPE: FileType.BLOCK,
    tarfile.FIFOTYPE: FileType.FIFO,
}

Row = tuple[str, FileType, int, int, int, int, str, int, tuple[int, int], bytes]


class _Trickle(io.BytesIO):
    """A blob that arrives at most ``step`` bytes per read (as a slow network would deliver it)."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def read(self, n: int | None = -1) -> bytes:
        return super().read(self.step if n is None or n < 0 else min(n, self.step))


class _MemorySource:
    """Serves one blob (the reader is what is tested; the layout source has its own tests)."""

    reference = "memory"

    def __init__(self, blob: bytes, step: int = 0) -> None:
        self.blob = blob
        self.step = step

    def open_blob(self, desc: object) -> io.BytesIO:
        return _Trickle(self.blob, self.step) if self.step else io.BytesIO(self.blob)


def stream_of(blob: bytes, limits: Limits | None = None, threaded: bool = False, step: int = 0) -> LayerStream:
    desc = Descriptor(media_type="application/vnd.oci.image.layer.v1.tar", digest=sha256_digest(blob), size=len(blob))
    src = _MemorySource(blob, step)
    return LayerStream(src, desc, limits=limits or Limits(), threaded=threaded)  # type: ignore[arg-type]


def ours(blob: bytes, threaded: bool = False, step: int = 0) -> tuple[list[Row], LayerStream]:
    rows: list[Row] = []
    stream = stream_of(blob, threaded=threaded, step=step)
    with stream as items:
        for it in items:
            e = it.entry
            rows.append((e.path, e.type, e.size, e.mode, e.uid, e.gid, e.linkname, it.mtime, it.device, it.read()))
    return rows, stream


def oracle(tar: bytes) -> list[Row]:
    """What ``tarfile`` reads, normalised the way the layer reader presents entries."""
    rows: list[Row] = []
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as t:
        for m in t:
            path = normalize(m.name)
            if not path or m.type == tarfile.GNUTYPE_SPARSE or m.sparse is not None:
                continue  # the reader reports sparse files as gaps
            ftype = _TARFILE_TYPES[m.type]
            link = normalize_link_target(m.linkname) if ftype is FileType.HARDLINK else m.linkname
            f = t.extractfile(m) if ftype is FileType.FILE else None
            content = f.read() if f is not None else b""
            rows.append(
                (
                    path,
                    ftype,
                    m.size if ftype is FileType.FILE else 0,
                    m.mode & 0o7777,
                    m.uid,
                    m.gid,
                    link,
                    max(-(2**31), min(int(m.mtime), 2**34)),
                    (m.devmajor, m.devminor),
                    content,
                )
            )
    return rows


def assert_same(tar: bytes, compression: str = "gzip") -> list[Row]:
    rows, stream = ours(compress(tar, compression))
    assert stream.gaps == [] and stream.complete
    assert stream.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert rows == oracle(tar)
    return rows


def reasons(stream: LayerStream) -> str:
    return " | ".join(f"{g.where}: {g.reason}" for g in stream.gaps)


def varied(fmt: int) -> bytes:
    """Every entry type, long and non-ASCII names, long link targets, odd owners and times."""
    ustar = fmt == tarfile.USTAR_FORMAT  # names up to 155+100 characters, links up to 100, 7-digit owners
    long_dir = "/".join(["directory-with-a-long-name"] * (5 if ustar else 9))
    b = TarBuilder(fmt=fmt)
    b.dir("etc").file("etc/os-release", b"ID=debian\n", mode=0o644, uid=1000, gid=1000, mtime=1_234_567_890)
    b.file(f"{long_dir}/file-{'x' * 60}", os.urandom(5000), mode=0o4755)
    b.dir(long_dir + "/sub")
    b.symlink("short-link", "etc/os-release").symlink(f"{long_dir}/link", "../" * 30 + "t" * (9 if ustar else 120))
    b.hardlink(f"{long_dir}/hard-{'y' * 80}", "etc/os-release" if ustar else f"{long_dir}/file-{'x' * 60}")
    b.device("dev/null", char=True, major=1, minor=3).device("dev/sda", char=False, major=8, minor=0).fifo("run/fifo")
    b.file("empty").file("exact-block", b"B" * 512).file("sticky", b"s", mode=0o1777)
    if not ustar:
        b.file("caf\u00e9/\u00fcnicode-\u4e2d\u6587.txt", b"utf8 name")
        b.file("big-owner", b"x", uid=3_000_000, gid=2**21)
    return b.bytes()


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_same_entries_as_tarfile(fmt: int, compression: str) -> None:
    rows = assert_same(varied(fmt), compression)
    kinds = {r[1] for r in rows}
    assert kinds == set(FileType)  # every type really was exercised
    assert any(len(r[0]) > 100 for r in rows) and any(len(r[6]) >= 99 for r in rows)
    if fmt != tarfile.USTAR_FORMAT:
        assert any(len(r[0]) > 255 for r in rows) and any(len(r[6]) > 100 for r in rows)
        assert ("big-owner", 3_000_000, 2**21) in {(r[0], r[4], r[5]) for r in rows}


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_same_entries_when_the_blob_trickles_in(compression: str) -> None:
    """Headers, names and contents split over many tiny reads are put together the same way."""
    tar = varied(tarfile.PAX_FORMAT)
    for step in (1, 7, 509):
        rows, stream = ours(compress(tar, compression), step=step)
        assert stream.complete and stream.gaps == []
        assert rows == oracle(tar)


def test_pax_overrides_and_global_headers() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"uid": "4242"}) as t:
        ti = tarfile.TarInfo("plain")
        ti.size = 3
        t.addfile(ti, io.BytesIO(b"abc"))
        ti = tarfile.TarInfo("own")
        ti.size, ti.pax_headers = 2, {"uid": "7", "gid": "8", "mtime": "1700000000.75", "path": "renamed/by-pax"}
        t.addfile(ti, io.BytesIO(b"hi"))
        ti = tarfile.TarInfo("lnk")
        ti.type, ti.pax_headers = tarfile.SYMTYPE, {"linkpath": "target/from/pax"}
        t.addfile(ti)
    tar = buf.getvalue()
    assert tar[156:157] == tarfile.XGLTYPE  # a global header comes first
    rows = assert_same(tar)
    assert [(r[0], r[4], r[5], r[6]) for r in rows] == [
        ("plain", 4242, 0, ""),
        ("renamed/by-pax", 7, 8, ""),
        ("lnk", 4242, 0, "target/from/pax"),
    ]
    assert rows[1][7] == 1_700_000_000


def test_pax_size_override_moves_to_the_next_header() -> None:
    """A pax ``size`` record replaces the header's size (how > 8 GiB files are stored)."""
    ti = tarfile.TarInfo("data")
    ti.size = 1000
    ti.pax_headers = {"size": "1000"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.addfile(ti, io.BytesIO(b"d" * 1000))
        t.addfile(tarfile.TarInfo("after"), io.BytesIO(b""))
    raw = bytearray(buf.getvalue())
    header = raw.index(b"data\0")
    assert header % 512 == 0 and header > 0  # the member's own header, after its pax header
    raw[header + 124 : header + 136] = b"00000000000\0"  # the ustar size says 0: only pax knows
    chk = sum(raw[header : header + 148]) + 256 + sum(raw[header + 156 : header + 512])
    raw[header + 148 : header + 156] = b"%06o\0 " % chk
    rows = assert_same(bytes(raw), "none")
    assert [(r[0], r[2]) for r in rows] == [("data", 1000), ("after", 0)]


def test_ustar_prefix_field_names() -> None:
    name = "p" * 120 + "/" + "n" * 90  # fits only as prefix + name
    tar = TarBuilder(fmt=tarfile.USTAR_FORMAT).file(name, b"prefix").bytes()
    assert tar[345:350] == b"ppppp" and tar[:5] == b"nnnnn"
    assert assert_same(tar)[0][0] == name


def test_gnu_tar_archive_with_sparse_files_and_long_names(tmp_path: Path) -> None:
    """Sparse files (GNU and pax formats) are reported, not misread; everything around them is read."""
    src = tmp_path / "src"
    (src / ("deep-" + "d" * 90) / ("e" * 90)).mkdir(parents=True)
    (src / ("deep-" + "d" * 90) / ("e" * 90) / ("f" * 99)).write_bytes(b"long")
    with open(src / "holes", "wb") as f:
        f.seek(4 * 1024 * 1024)
        f.write(b"end of a sparse file")
    (src / "after").write_bytes(b"after the sparse file")
    for fmt in ("gnu", "posix"):
        out = tmp_path / f"{fmt}.tar"
        subprocess.run(
            ["tar", f"--format={fmt}", "--sparse", "-cf", str(out), "-C", str(src), "--sort=name", "."], check=True
        )
        tar = out.read_bytes()
        assert len(tar) < 1024 * 1024  # really stored sparse
        rows, stream = ours(gzip.compress(tar))
        assert stream.complete and stream.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
        assert "holes" in reasons(stream) and "sparse file" in reasons(stream)
        assert rows == oracle(tar)
        assert ("after", b"after the sparse file") in {(r[0], r[9]) for r in rows}


def test_real_debian_layer_matches_tarfile(debian_image: BuiltImage) -> None:
    img, src = open_image(debian_image.oci_ref)
    desc = img.layers[0]
    with src.open_blob(desc) as f:
        blob = f.read()
    tar = gzip.decompress(blob)
    rows, stream = ours(blob)
    assert stream.complete and stream.gaps == []
    assert stream.diff_id == img.config.diff_ids[0]
    assert len(rows) > 5000
    assert rows == oracle(tar)


def test_threaded_reader_gives_the_same_result() -> None:
    blob = compress(varied(tarfile.PAX_FORMAT), "gzip")
    plain, s1 = ours(blob)
    threaded, s2 = ours(blob, threaded=True)
    assert plain == threaded and s1.diff_id == s2.diff_id and s2.complete


# -- gzip ------------------------------------------------------------------------------------
def test_multi_member_gzip_with_zero_padding() -> None:
    tar = varied(tarfile.PAX_FORMAT)
    cut = len(tar) // 3
    blob = gzip.compress(tar[:cut]) + gzip.compress(tar[cut:]) + b"\0" * 700
    rows, stream = ours(blob)
    assert stream.complete and stream.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert rows == oracle(tar)


def gzip_member(
    data: bytes, *, extra: bytes = b"", name: bytes = b"", comment: bytes = b"", hcrc: bool = False
) -> bytes:
    """One gzip member written by hand (RFC 1952), with the optional header fields asked for."""
    flags = (4 if extra else 0) | (8 if name else 0) | (16 if comment else 0) | (2 if hcrc else 0)
    header = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\x02\x03"
    if extra:
        header += len(extra).to_bytes(2, "little") + extra
    if name:
        header += name + b"\0"
    if comment:
        header += comment + b"\0"
    if hcrc:
        header += (zlib.crc32(header) & 0xFFFF).to_bytes(2, "little")
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return header + body + zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")


@pytest.mark.parametrize(
    "fields",
    [
        {"name": b"layer.tar"},
        {"extra": b"SG\x04\x00abcd", "name": b"layer.tar"},  # eStargz-style extra field
        {"comment": b"made by hand", "name": b"x"},
        {"hcrc": True},
        {"extra": b"XY\x02\x00zz", "name": b"n", "comment": b"c", "hcrc": True},
    ],
)
def test_gzip_headers_with_optional_fields_split_anywhere(fields: dict[str, object]) -> None:
    """Every member header is handed to the inflater whole (ISA-L 1.9 misreads split ones)."""
    tar = TarBuilder().file("etc/os-release", b"ID=debian\n").file("data", os.urandom(3000)).bytes()
    cut = 1024
    blob = gzip_member(tar[:cut], **fields) + gzip_member(tar[cut:], **fields)  # type: ignore[arg-type]
    assert gzip.decompress(blob) == tar
    for step in range(1, 41):
        rows, stream = ours(blob, step=step)
        assert stream.complete and stream.gaps == [], (step, reasons(stream))
        assert stream.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
        assert [r[0] for r in rows] == ["etc/os-release", "data"]


def test_gzip_header_cut_short_is_a_gap() -> None:
    blob = gzip_member(b"x" * 100, name=b"a-name-that-never-ends")
    _, stream = ours(blob[:20])
    assert "gzip stream ends inside a member header (truncated)" in reasons(stream)


@pytest.mark.parametrize("where", ["crc", "length"])
def test_gzip_trailer_is_checked(where: str) -> None:
    tar = TarBuilder().file("a", os.urandom(3000)).bytes()
    blob = bytearray(gzip.compress(tar))
    blob[-8 if where == "crc" else -3] ^= 0x01
    _, stream = ours(bytes(blob))
    assert not stream.complete and stream.diff_id is None
    assert "layer is truncated or corrupt (gzip data is corrupt" in reasons(stream)


def test_garbage_after_the_gzip_stream_is_a_gap() -> None:
    tar = TarBuilder().file("a", b"x").bytes()
    _, stream = ours(gzip.compress(tar) + b"trailing garbage")
    assert not stream.complete and "gzip data is corrupt" in reasons(stream)


def test_truncated_gzip_says_so() -> None:
    blob = gzip.compress(TarBuilder().file("a", os.urandom(50_000)).bytes())
    _, stream = ours(blob[: len(blob) - 20])
    assert "gzip stream ends before its end marker (truncated)" in reasons(stream)
    assert not stream.complete


def test_zlib_fallback_without_isal(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = gzip.compress(varied(tarfile.GNU_FORMAT))
    with_isal, s1 = ours(blob)
    monkeypatch.setitem(sys.modules, "isal", None)  # "import isal" now raises ImportError
    without, s2 = ours(blob)
    assert with_isal == without and s1.diff_id == s2.diff_id and s2.complete
    from lockgate.fs.layers import _inflater

    assert _inflater()[0].__module__ == "zlib"


def test_isal_is_used_when_installed() -> None:
    from lockgate.fs.layers import _inflater

    new, _ = _inflater()
    assert type(new(31)).__module__.startswith("isal")


def test_compression_is_sniffed() -> None:
    assert sniff_compression(gzip.compress(b"x")) == "gzip"
    assert sniff_compression(compress(b"x", "zstd")) == "zstd"
    assert sniff_compression(b"ustar") is None


# -- the end of the archive --------------------------------------------------------------------
def test_empty_layer_of_zero_blocks_is_complete() -> None:
    """Docker's empty layer (1024 zero bytes) is a valid, complete, empty tar."""
    rows, stream = ours(gzip.compress(b"\0" * 1024))
    assert rows == [] and stream.complete and stream.gaps == []
    assert stream.diff_id == "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


def test_zero_byte_layer_is_a_gap() -> None:
    _, stream = ours(gzip.compress(b""))
    assert not stream.complete and "empty tar" in reasons(stream)


@pytest.mark.parametrize(
    ("tail", "complete"),
    [
        (b"", True),  # no end-of-archive block, but the data ends on a block boundary (as tarfile)
        (b"\0" * 512, True),  # a single zero block
        (b"\0" * 10240, True),  # record padding
        (b"\0" * 100, False),  # a partial block
        (b"\0" * 1024 + b"junk", False),  # data after the end-of-archive blocks
    ],
)
def test_what_may_follow_the_last_member(tail: bytes, complete: bool) -> None:
    tar = TarBuilder().file("a", b"content").bytes()
    body = tar[: tar.index(b"content") + 512]
    _, stream = ours(body + tail)
    assert stream.complete is complete
    if not complete:
        assert "truncated" in reasons(stream)


def test_pax_header_without_a_member_is_a_gap() -> None:
    tar = TarBuilder().file("caf\u00e9", b"x").bytes()
    assert tar[156:157] == tarfile.XHDTYPE
    pax = tar[:1024]  # the pax header of the non-ASCII name and its records
    _, stream = ours(pax + b"\0" * 1024)
    assert "not followed by a member" in reasons(stream)


def test_malformed_pax_record_is_a_gap() -> None:
    ti = tarfile.TarInfo("a")
    ti.pax_headers = {"comment": "x"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.addfile(ti)
    raw = bytearray(buf.getvalue())
    pos = raw.index(b" comment=x\n")
    raw[pos - 2 : pos] = b"99"  # the record claims more bytes than the header holds
    _, stream = ours(bytes(raw))
    assert "invalid pax header record" in reasons(stream)


def test_bad_header_checksum_is_a_gap() -> None:
    tar = bytearray(TarBuilder(fmt=tarfile.USTAR_FORMAT).file("a", b"x").file("b", b"y").bytes())
    tar[1024 + 10] ^= 0x20  # a byte of b's name
    rows, stream = ours(bytes(tar))
    assert [r[0] for r in rows] == ["a"]
    assert "bad tar header checksum" in reasons(stream)


def test_metadata_header_limit_is_a_limit() -> None:
    ti = tarfile.TarInfo("././@LongLink")
    ti.type = tarfile.GNUTYPE_LONGNAME
    ti.size = 2 * 1024 * 1024
    _, stream = ours(ti.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 4096)
    assert "metadata header of 2097152 bytes (limit 1048576)" in reasons(stream)
    assert not stream.complete


# -- reading content ---------------------------------------------------------------------------
def test_partial_reads_then_more_then_copy() -> None:
    data = os.urandom(300_000)
    tar = TarBuilder().file("big", data).file("next", b"n").bytes()
    stream = stream_of(compress(tar, "gzip"))
    with stream as items:
        big = next(items)
        assert big.read(10) == data[:10]
        assert big.read(5) == data[:5]  # served from what was read
        assert big.read(200_000) == data[:200_000]
        assert big.read() == data
        nxt = next(items)
        with pytest.raises(ValueError, match="before the next entry"):
            big.read()
        out: list[bytes] = []
        assert nxt.copy_to(out.append) == 1 and out == [b"n"]
        assert list(items) == []
    assert stream.complete


def test_copy_to_streams_in_chunks() -> None:
    data = os.urandom(1_000_000)
    stream = stream_of(compress(TarBuilder().file("big", data).bytes(), "gzip"))
    with stream as items:
        item = next(items)
        head = item.read(1000)
        chunks: list[bytes] = []
        assert item.copy_to(chunks.append) == len(data)
        assert list(items) == []
    assert head == data[:1000] and b"".join(chunks) == data and len(chunks) > 2
    assert stream.complete
