"""Hostile layer tarballs: every case is skipped or refused with a coverage gap, never a crash
and never a write outside the destination. Layers are hand-made tars in a real OCI layout,
read through the real layout source."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import uuid
from pathlib import Path

import pytest

from lockgate.config import Limits, Settings
from lockgate.fs.flatten import FlattenResult, flatten
from lockgate.fs.model import FileType
from lockgate.fs.walker import ImageAnalysis, analyze_image
from tests.fixtures.images import RawLayer, TarBuilder, write_layout

from .helpers import Marker, OsRelease, Recorder, open_image


def _image(tmp_path: Path, layers: list[RawLayer | bytes]) -> str:
    return write_layout(tmp_path / "img", layers).oci_ref


def scan(
    tmp_path: Path, layers: list[RawLayer | bytes], *analyzers: object, limits: Limits | None = None
) -> ImageAnalysis:
    img, _ = open_image(_image(tmp_path, layers))
    return analyze_image(img, list(analyzers), settings=Settings(limits=limits or Limits()), cache=False)  # type: ignore[arg-type]


def unpack(tmp_path: Path, layers: list[RawLayer | bytes], limits: Limits | None = None) -> tuple[Path, FlattenResult]:
    img, _ = open_image(_image(tmp_path, layers))
    out = tmp_path / "box" / "rootfs"
    res = flatten(img, out, settings=Settings(limits=limits or Limits()))
    return out, res


def reasons(gaps: tuple[object, ...]) -> str:
    return " | ".join(f"{g.where}: {g.reason}" for g in gaps)  # type: ignore[attr-defined]


OS_RELEASE = b'ID=debian\nVERSION_ID="12"\n'


def test_absolute_path_is_skipped(tmp_path: Path) -> None:
    victim = tmp_path / f"victim-{uuid.uuid4().hex}"
    tar = TarBuilder().file(str(victim), b"pwned").file("etc/os-release", OS_RELEASE).bytes()
    rec = Recorder()
    res = scan(tmp_path, [tar], rec, OsRelease())
    assert res.os is not None and res.os.family == "debian"
    assert "absolute path" in reasons(res.gaps)
    assert all(not e.path.startswith("/") and str(victim).lstrip("/") != e.path for e in rec.seen)
    out, fres = unpack(tmp_path, [tar])
    assert not victim.exists()
    assert "absolute path" in reasons(fres.gaps)
    assert (out / "etc/os-release").read_bytes() == OS_RELEASE


def test_dotdot_traversal_is_skipped(tmp_path: Path) -> None:
    name = f"escaped-{uuid.uuid4().hex}"
    tar = TarBuilder().file(f"../../{name}", b"x").file(f"a/../../../{name}", b"x").file("ok", b"fine").bytes()
    rec = Recorder()
    res = scan(tmp_path, [tar], rec)
    assert [e.path for e in rec.seen] == ["ok"]
    assert reasons(res.gaps).count("'..'") == 2
    out, fres = unpack(tmp_path, [tar])
    assert sorted(os.listdir(out)) == ["ok"]
    assert not any(p.name == name for p in tmp_path.rglob("*"))
    assert len(fres.gaps) == 2


def test_symlink_escape_then_write_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    layer1 = TarBuilder().symlink("evil", str(outside)).symlink("rel", "../../outside").file("evil/pwned", b"1").bytes()
    layer2 = TarBuilder().file("rel/pwned", b"2").dir("evil/sub").bytes()
    out, fres = unpack(tmp_path, [layer1, layer2])
    assert list(outside.iterdir()) == []
    assert os.readlink(out / "evil") == str(outside)  # created as a symlink, never followed
    assert os.readlink(out / "rel") == "../../outside"
    text = reasons(fres.gaps)
    assert "evil/pwned" in text and "rel/pwned" in text and "evil/sub" in text
    assert "not followed" in text
    # analysis sees the entries as paths inside the image, nothing is resolved on the host
    rec = Recorder()
    scan(tmp_path / "scan", [layer1, layer2], rec)
    assert {e.path for e in rec.seen} >= {"evil", "rel", "evil/pwned", "rel/pwned"}


def test_hardlink_escape_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("host data")
    tar = (
        TarBuilder()
        .file("real", b"inside")
        .hardlink("up", "../../../" + str(secret).lstrip("/"))
        .hardlink("abs", str(secret))  # root-relative: names /<path> inside the image, which does not exist
        .hardlink("good", "real")
        .bytes()
    )
    res = scan(tmp_path, [tar], Recorder())
    assert "hardlink target escapes the root" in reasons(res.gaps)
    out, fres = unpack(tmp_path, [tar])
    assert not (out / "up").exists()
    assert not (out / "abs").exists()
    assert os.stat(out / "good").st_ino == os.stat(out / "real").st_ino
    assert secret.read_text() == "host data" and os.stat(secret).st_nlink == 1
    assert "up" in reasons(fres.gaps) and "abs" in reasons(fres.gaps)


def test_device_nodes_recorded_never_created(tmp_path: Path) -> None:
    tar = TarBuilder().device("dev/null", char=True, major=1, minor=3).device("dev/sda", char=False, major=8).bytes()
    rec = Recorder()
    scan(tmp_path, [tar], rec)
    types = {e.path: e.type for e in rec.seen}
    assert types == {"dev/null": FileType.CHAR, "dev/sda": FileType.BLOCK}
    out, fres = unpack(tmp_path, [tar])
    assert not (out / "dev/null").exists() and not (out / "dev/sda").exists()
    assert reasons(fres.gaps).count("device node") == 2


def test_gzip_bomb_beyond_ratio_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the ratio check starts after 64 MiB; lowered here so the bomb stays small and fast
    monkeypatch.setattr("lockgate.fs.layers.RATIO_GRACE_BYTES", 1024 * 1024)
    bomb = TarBuilder().file("zeros", b"\0" * (8 * 1024 * 1024)).bytes()
    blob = gzip.compress(bomb, compresslevel=9, mtime=0)
    good = TarBuilder().file("etc/os-release", OS_RELEASE).bytes()
    limits = Limits(max_compression_ratio=100)
    assert len(bomb) / len(blob) > 100
    res = scan(tmp_path, [RawLayer(tar=bomb, compression="raw", blob=blob), good], OsRelease(), limits=limits)
    assert "decompression bomb" in reasons(res.gaps)
    assert res.os is not None  # the rest of the image is still analysed


def test_ratio_check_allows_ordinary_compressible_layers(tmp_path: Path) -> None:
    text = TarBuilder().file("log", b"the same line again\n" * 200_000).bytes()  # ~4 MB, compresses ~250x
    res = scan(tmp_path, [text], Recorder(), limits=Limits(max_compression_ratio=100))
    assert res.gaps == ()  # below the 64 MiB grace the ratio is not judged


def test_uncompressed_size_limit(tmp_path: Path) -> None:
    b = TarBuilder()
    for i in range(4):
        b.file(f"part{i}", b"a" * (512 * 1024))
    tar = b.bytes()
    res = scan(
        tmp_path,
        [RawLayer(tar=tar, compression="zstd")],
        Recorder(),
        limits=Limits(max_uncompressed_layer_bytes=1024 * 1024),
    )
    assert "decompresses to more than 1048576 bytes" in reasons(res.gaps)


def test_absurd_entry_size(tmp_path: Path) -> None:
    ti = tarfile.TarInfo("huge")
    ti.size = 1 << 40
    header = ti.tobuf(format=tarfile.GNU_FORMAT)
    tar = TarBuilder().file("before", b"x").bytes()[:1024] + header + b"\0" * 4096
    rec = Recorder()
    res = scan(tmp_path, [RawLayer(tar=tar, compression="none")], rec)
    assert "claims 1099511627776 bytes" in reasons(res.gaps)
    assert [e.path for e in rec.seen] == ["before"]


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_gzip_is_a_layer_gap(tmp_path: Path, cut: float) -> None:
    tar = TarBuilder().file("a", os.urandom(200_000)).file("b", os.urandom(200_000)).bytes()
    blob = gzip.compress(tar, mtime=0)
    blob = blob[: int(len(blob) * cut)]
    good = TarBuilder().file("etc/os-release", OS_RELEASE).bytes()
    res = scan(tmp_path, [RawLayer(tar=tar, compression="raw", blob=blob), good], OsRelease(), Recorder())
    assert "truncated or corrupt" in reasons(res.gaps) or "truncated" in reasons(res.gaps)
    assert res.os is not None and res.os.family == "debian"
    assert len(res.layers) == 2 and res.layers[1].startswith("sha256:")
    out, fres = unpack(tmp_path / "u", [RawLayer(tar=tar, compression="raw", blob=blob), good])
    assert "truncated" in reasons(fres.gaps)
    assert (out / "etc/os-release").is_file()


@pytest.mark.parametrize("where", ["mid-data", "mid-header", "no-end-marker-garbage"])
def test_truncated_tar_is_a_layer_gap(tmp_path: Path, where: str) -> None:
    tar = TarBuilder().file("a", b"A" * 3000).file("b", b"B" * 3000).bytes()
    if where == "mid-data":
        cut = tar[: 1024 + 512 + 1000]  # pax header + a's header, part of a's data
    elif where == "mid-header":
        second = tar.index(b"B" * 100) - 512
        cut = tar[: second - 300]
    else:
        cut = tar[: tar.index(b"B" * 100) + 3072] + b"garbage-not-a-header" + b"\0" * 1000
    res = scan(tmp_path, [RawLayer(tar=tar, compression="none", blob=cut)], Recorder())
    assert "truncated" in reasons(res.gaps), reasons(res.gaps)


def test_duplicate_entries_later_wins(tmp_path: Path) -> None:
    tar = (
        TarBuilder()
        .file("etc/os-release", b"ID=first\nVERSION_ID=1\n")
        .file("etc/os-release", b"ID=second\nVERSION_ID=2\n", mode=0o600)
        .bytes()
    )
    osr = OsRelease()
    res = scan(tmp_path, [tar], osr)
    assert res.os is not None and res.os.family == "second"
    out, _ = unpack(tmp_path, [tar])
    assert (out / "etc/os-release").read_bytes() == b"ID=second\nVERSION_ID=2\n"
    assert (out / "etc/os-release").stat().st_mode & 0o777 == 0o600


def test_non_utf8_names(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as t:
        data = b"SECRET-MARKER"
        ti = tarfile.TarInfo(os.fsdecode(b"caf\xe9/\xff\xfe.txt"))
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    tar = buf.getvalue()
    assert b"caf\xe9/\xff\xfe.txt" in tar
    res = scan(tmp_path, [tar], Marker())
    # analysers and reports get valid UTF-8 text (undecodable bytes escaped); flatten writes the raw bytes
    assert [f.location.path for f in res.findings] == ["caf\\xe9/\\xff\\xfe.txt"]
    import json

    json.dumps([f.to_dict() for f in res.findings], ensure_ascii=False).encode("utf-8")
    out, fres = unpack(tmp_path, [tar])
    assert fres.gaps == ()
    assert (os.fsencode(out) + b"/caf\xe9/\xff\xfe.txt") and os.path.isfile(os.fsencode(out) + b"/caf\xe9/\xff\xfe.txt")


def test_digest_mismatch_is_an_error(tmp_path: Path) -> None:
    from lockgate.errors import IntegrityError

    tar = TarBuilder().file("a", b"data").bytes()
    ref = _image(tmp_path, [tar])
    blobs = tmp_path / "img" / "blobs" / "sha256"
    img, _ = open_image(ref)
    layer = blobs / img.layers[0].digest.split(":")[1]
    layer.write_bytes(
        gzip.compress(TarBuilder().file("a", b"evil").bytes(), mtime=0)[: img.layers[0].size].ljust(
            img.layers[0].size, b"\0"
        )
    )
    with pytest.raises(IntegrityError):
        analyze_image(img, [Recorder()], settings=Settings(), cache=False)


def test_tampered_blob_that_breaks_early_is_still_an_integrity_error(tmp_path: Path) -> None:
    """A blob whose bytes changed must fail as an integrity error even when decompression stops first."""
    from lockgate.errors import IntegrityError

    tar = TarBuilder().file("a", os.urandom(100_000)).bytes()
    ref = _image(tmp_path, [tar])
    img, _ = open_image(ref)
    path = tmp_path / "img" / "blobs" / "sha256" / img.layers[0].digest.split(":")[1]
    data = bytearray(path.read_bytes())
    data[20:60] = b"\xff" * 40  # corrupt the deflate stream near its start
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        analyze_image(img, [Recorder()], settings=Settings(), cache=False)
    with pytest.raises(IntegrityError):
        flatten(img, tmp_path / "out", settings=Settings())


def test_over_limit_file_gap_names_file_and_layer(tmp_path: Path) -> None:
    tar = TarBuilder().file("etc/os-release", b"ID=x\n" + b"#" * 3000).file("ok", b"SECRET-MARKER").bytes()
    ref = _image(tmp_path, [tar])
    img, _ = open_image(ref)
    res = analyze_image(img, [OsRelease(max_size=100), Marker()], settings=Settings(), cache=False)
    assert res.os is None
    assert [f.location.path for f in res.findings] == ["ok"]
    (gap,) = res.gaps
    assert gap.layer == img.config.diff_ids[0]
    assert gap.where == f"etc/os-release (layer {img.config.diff_ids[0]})"
    assert "over the 100-byte limit of test-os-release" in gap.reason


def test_hardlinked_files_are_analysed_with_their_target_content(tmp_path: Path) -> None:
    tar = TarBuilder().file("a/key", b"SECRET-MARKER").hardlink("b/key", "a/key").bytes()
    res = scan(tmp_path, [tar], Marker())
    assert sorted(f.location.path for f in res.findings) == ["a/key", "b/key"]


def test_compression_is_sniffed_not_trusted(tmp_path: Path) -> None:
    """A gzip blob declared as a plain tar (and a plain tar declared as gzip) still reads, as containerd does."""
    tar = TarBuilder().file("etc/os-release", OS_RELEASE).bytes()
    res = scan(
        tmp_path,
        [
            RawLayer(tar=tar, compression="gzip", media_type="application/vnd.oci.image.layer.v1.tar"),
            RawLayer(tar=tar, compression="none", media_type="application/vnd.oci.image.layer.v1.tar+gzip"),
        ],
        OsRelease(),
    )
    assert res.gaps == () and res.os is not None
    assert res.layers[0] == res.layers[1] == "sha256:" + __import__("hashlib").sha256(tar).hexdigest()


def test_encrypted_layer_is_a_clear_gap(tmp_path: Path) -> None:
    tar = TarBuilder().file("etc/os-release", OS_RELEASE).bytes()
    enc = RawLayer(tar=tar, compression="gzip", media_type="application/vnd.oci.image.layer.v1.tar+gzip+encrypted")
    res = scan(tmp_path, [enc, tar], OsRelease())
    assert "layer is encrypted" in reasons(res.gaps)
    assert res.os is not None


def test_whiteouts_and_hardlinks_through_symlinks_never_touch_the_host(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "precious").write_text("keep me")
    (host / "other").write_text("keep me too")
    layer1 = TarBuilder().symlink("evil", str(host)).bytes()
    layer2 = (
        TarBuilder()
        .whiteout("evil/precious")
        .opaque("evil")
        .hardlink("stolen", "evil/other")
        .file("evil/new", b"x")
        .bytes()
    )
    out, fres = unpack(tmp_path, [layer1, layer2])
    assert sorted(p.name for p in host.iterdir()) == ["other", "precious"]
    assert (host / "precious").read_text() == "keep me" and os.stat(host / "other").st_nlink == 1
    assert not (out / "stolen").exists()
    assert os.readlink(out / "evil") == str(host)
    assert "stolen" in reasons(fres.gaps) and "evil/new" in reasons(fres.gaps)


def test_destination_must_be_a_fresh_directory(tmp_path: Path) -> None:
    from lockgate.errors import ConfigError

    tar = TarBuilder().file("a", b"x").bytes()
    img, _ = open_image(_image(tmp_path, [tar]))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "file").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        flatten(img, busy, settings=Settings())
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError):
        flatten(img, link, settings=Settings())
    assert not (tmp_path / "elsewhere").exists()


def test_entry_count_limit(tmp_path: Path) -> None:
    b = TarBuilder()
    for i in range(20):
        b.file(f"f{i:02d}", b"x")
    rec = Recorder()
    res = scan(tmp_path, [b.bytes()], rec, limits=Limits(max_tar_entries=5))
    assert len(rec.seen) == 5
    assert "more than 5 entries" in reasons(res.gaps)


class _Broken:
    name = "broken"
    version = 1
    needs_content = True
    squash = True
    max_size = None

    def required(self, entry: object) -> bool:
        if getattr(entry, "path", "") == "bad-required":
            raise RuntimeError("boom in required")
        return True

    def analyze(self, entry: object, content: bytes) -> object:
        if getattr(entry, "path", "") == "bad-analyze":
            raise ValueError("boom in analyze")
        from lockgate.fs.model import AnalysisResult

        return AnalysisResult()


def test_failing_analysers_become_gaps(tmp_path: Path) -> None:
    tar = TarBuilder().file("bad-required", b"1").file("bad-analyze", b"2").file("etc/os-release", OS_RELEASE).bytes()
    res = scan(tmp_path, [tar], _Broken(), OsRelease())
    assert res.os is not None
    text = reasons(res.gaps)
    assert "boom in required" in text and "boom in analyze" in text


def test_huge_pax_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """tarfile would read a pax header wholly into memory: a 300 MiB one must stop the layer early."""
    ti = tarfile.TarInfo("././@PaxHeader")
    ti.type = tarfile.XHDTYPE
    ti.size = 300 * 1024 * 1024
    tar = ti.tobuf(format=tarfile.USTAR_FORMAT) + b"\0" * 8192
    rec = Recorder()
    res = scan(tmp_path, [RawLayer(tar=tar, compression="none")], rec)
    assert "metadata header of 314572800 bytes" in reasons(res.gaps)
    assert rec.seen == []


def test_deep_and_overlong_paths(tmp_path: Path) -> None:
    deep = "/".join(["d"] * 255) + "/f"  # 256 levels: the deepest accepted
    too_deep = "/".join(["e"] * 300) + "/f"
    too_long = "x" * 4000 + "/" + "y" * 200
    tar = TarBuilder().file(deep, b"deep").file(too_deep, b"no").file(too_long, b"no").bytes()
    rec = Recorder()
    res = scan(tmp_path, [tar], rec)
    assert [e.path for e in rec.seen] == [deep]
    assert "limit 256" in reasons(res.gaps) and "limit 4096" in reasons(res.gaps)
    # the deep tree can be written, whited out again (recursive removal) and nothing else appears
    upper = TarBuilder().whiteout("d").bytes()
    out, fres = unpack(tmp_path / "u", [tar, upper])
    assert len(fres.gaps) == 2 and os.listdir(out) == []
    out2, _ = unpack(tmp_path / "v", [tar])
    assert (out2 / deep).read_bytes() == b"deep"


def test_opaque_root_hides_every_lower_result(tmp_path: Path) -> None:
    lower = TarBuilder().file("etc/os-release", OS_RELEASE).file("keep/me", b"1").bytes()
    upper = TarBuilder().opaque("").file("new", b"2").bytes()
    res = scan(tmp_path, [lower, upper], OsRelease())
    assert res.os is None
    out, fres = unpack(tmp_path / "u", [lower, upper])
    assert sorted(os.listdir(out)) == ["new"] and fres.gaps == ()


def test_absurd_owner_and_time_values(tmp_path: Path) -> None:
    tar = TarBuilder().file("odd", b"x", uid=2**40, gid=7, mtime=2**60).file("neg", b"y", mtime=-5).bytes()
    out, fres = unpack(tmp_path, [tar])
    assert (out / "odd").read_bytes() == b"x" and (out / "neg").read_bytes() == b"y"
    if os.geteuid() == 0:
        assert "odd: owner 1099511627776:7 out of range" in reasons(fres.gaps)
    assert (out / "odd").stat().st_mtime <= 2**34


class _MemorySource:
    """In-memory ImageSource (a stand-in so hundreds of mutated blobs stay fast; the real layout
    source is used by every other test in this file)."""

    reference = "memory"

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def resolve(self) -> tuple[bytes, str]:
        raise NotImplementedError

    def get_manifest(self, digest: str) -> tuple[bytes, str]:
        raise NotImplementedError

    def open_blob(self, desc: object) -> io.BytesIO:
        return io.BytesIO(self.blob)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_mutated_layers_never_crash(compression: str) -> None:
    """Random byte flips and truncations: every outcome is entries, gaps or a lockgate error."""
    import random

    from lockgate.errors import LockgateError
    from lockgate.fs.layers import LayerStream
    from lockgate.oci.model import Descriptor, sha256_digest

    base = (
        TarBuilder()
        .dir("etc")
        .file("etc/os-release", b"ID=x\n" * 50)
        .symlink("l", "etc")
        .hardlink("h", "etc/os-release")
        .file("a/" + "long" * 40 + "/name", b"z" * 3000)
        .device("dev/null")
        .whiteout("gone")
        .bytes()
    )
    gnu = TarBuilder(fmt=tarfile.GNU_FORMAT).file("g/" + "x" * 200, b"gnu").bytes()
    rnd = random.Random(20261129)
    outcomes = {"complete": 0, "gaps": 0, "error": 0}
    for _ in range(400):
        raw = bytearray(
            gzip.compress(rnd.choice([base, gnu]), mtime=0) if compression == "gzip" else rnd.choice([base, gnu])
        )
        for _ in range(rnd.randint(1, 6)):
            raw[rnd.randrange(len(raw))] = rnd.randrange(256)
        if rnd.random() < 0.2:
            raw = raw[: rnd.randrange(len(raw))]
        blob = bytes(raw)
        desc = Descriptor(
            media_type="application/vnd.oci.image.layer.v1.tar", digest=sha256_digest(blob), size=len(blob)
        )
        stream = LayerStream(_MemorySource(blob), desc, limits=Limits())  # type: ignore[arg-type]
        try:
            with stream as items:
                for item in items:
                    assert not item.entry.path.startswith("/") and ".." not in item.entry.path.split("/")
                    item.read(10_000)
        except LockgateError:
            outcomes["error"] += 1
            continue
        outcomes["complete" if stream.complete else "gaps"] += 1
    assert outcomes["gaps"] + outcomes["error"] > 0 and sum(outcomes.values()) == 400
