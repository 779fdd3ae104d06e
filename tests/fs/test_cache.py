"""The per-layer cache: warm scans do no layer I/O, analyser versions are part of the key,
configs that lie about diff_ids never inherit results, and the cache stays bounded."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lockgate.config import Settings
from lockgate.errors import IntegrityError
from lockgate.fs.analysis import LayerIndex
from lockgate.fs.cache import LayerCache
from lockgate.fs.model import AnalysisResult
from lockgate.fs.walker import analyze_image
from lockgate.inventory.model import Package
from tests.fixtures.images import RawLayer, TarBuilder, build_image, write_layout

from .helpers import DpkgStatus, Marker, OsRelease, layer_reads, open_image

STATUS = b"Package: alpha\nStatus: install ok installed\nVersion: 1.0\n"


@pytest.fixture
def two_layer(tmp_path: Path) -> str:
    l1 = tmp_path / "l1"
    (l1 / "etc").mkdir(parents=True)
    (l1 / "etc/os-release").write_bytes(b"ID=debian\nVERSION_ID=12\n")
    (l1 / "var/lib/dpkg").mkdir(parents=True)
    (l1 / "var/lib/dpkg/status").write_bytes(STATUS)
    l2 = tmp_path / "l2"
    (l2 / "srv").mkdir(parents=True)
    (l2 / "srv/key").write_bytes(b"SECRET-MARKER")
    return build_image(tmp_path / "img", l1, l2).oci_ref


def test_warm_rescan_does_no_layer_io(two_layer: str) -> None:
    settings = Settings()
    img, src = open_image(two_layer)
    cold = analyze_image(img, [OsRelease(), DpkgStatus(), Marker()], settings=settings)
    assert layer_reads(src, img) == 2
    assert [p.name for p in cold.packages] == ["alpha"] and len(cold.findings) == 1

    img2, src2 = open_image(two_layer)
    analyzers = [OsRelease(), DpkgStatus(), Marker()]
    warm = analyze_image(img2, analyzers, settings=settings)
    assert layer_reads(src2, img2) == 0
    assert all(not a.calls for a in analyzers)
    assert warm == cold


def test_a_fully_cached_image_starts_no_worker_threads(two_layer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers the cache answers are taken on the calling thread; the pool is only for layers to read."""
    import concurrent.futures

    settings = Settings()
    img, _ = open_image(two_layer)
    cold = analyze_image(img, [OsRelease(), DpkgStatus(), Marker()], settings=settings, workers=2)
    pools: list[object] = []
    real = concurrent.futures.ThreadPoolExecutor

    def counting_pool(*args: object, **kwargs: object) -> concurrent.futures.ThreadPoolExecutor:
        pools.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", counting_pool)
    img2, src2 = open_image(two_layer)
    warm = analyze_image(img2, [OsRelease(), DpkgStatus(), Marker()], settings=settings, workers=2)
    assert warm == cold and layer_reads(src2, img2) == 0 and pools == []
    img3, src3 = open_image(two_layer)
    newer = analyze_image(img3, [OsRelease(), DpkgStatus(version=2), Marker()], settings=settings, workers=2)
    assert layer_reads(src3, img3) == 2 and len(pools) == 1  # a new analyser version: both layers, on the pool
    assert newer.packages == cold.packages


def test_new_analyser_version_reruns_only_that_analyser(two_layer: str) -> None:
    settings = Settings()
    img, _ = open_image(two_layer)
    first = analyze_image(img, [OsRelease(), DpkgStatus(), Marker()], settings=settings)

    osr, dpkg, marker = OsRelease(), DpkgStatus(version=2), Marker()
    img2, src2 = open_image(two_layer)
    again = analyze_image(img2, [osr, dpkg, marker], settings=settings)
    assert dpkg.calls and not osr.calls and not marker.calls
    assert layer_reads(src2, img2) == 2  # each layer streamed once, for the one missing analyser
    assert again == first

    img3, src3 = open_image(two_layer)
    analyze_image(img3, [OsRelease(), DpkgStatus(version=2), Marker()], settings=settings)
    assert layer_reads(src3, img3) == 0


def test_size_cap_is_part_of_the_key(two_layer: str) -> None:
    settings = Settings()
    img, _ = open_image(two_layer)
    analyze_image(img, [DpkgStatus()], settings=settings)
    small = DpkgStatus(max_size=10)
    img2, _ = open_image(two_layer)
    res = analyze_image(img2, [small], settings=settings)
    assert res.packages == () and "over the 10-byte limit" in res.gaps[0].reason


def _layer_tar(os_id: bytes, status: bytes) -> bytes:
    return TarBuilder().file("etc/os-release", b"ID=" + os_id + b"\n").file("var/lib/dpkg/status", status).bytes()


def test_lying_config_never_inherits_results(tmp_path: Path) -> None:
    settings = Settings()
    clean = _layer_tar(b"clean", STATUS)
    evil = _layer_tar(b"evil", STATUS.replace(b"alpha", b"malware"))
    a = write_layout(tmp_path / "a", [clean])
    img_a, _ = open_image(a.oci_ref)
    res_a = analyze_image(img_a, [OsRelease(), DpkgStatus()], settings=settings)
    assert res_a.os is not None and res_a.os.family == "clean"

    # different layer content, config claims the clean layer's diff_id
    b = write_layout(tmp_path / "b", [evil], diff_ids=list(img_a.config.diff_ids))
    img_b, src_b = open_image(b.oci_ref)
    with pytest.raises(IntegrityError, match="claims diff_id"):
        analyze_image(img_b, [OsRelease(), DpkgStatus()], settings=settings)
    assert layer_reads(src_b, img_b) == 1  # it had to be read: nothing was reused

    # same (cached) blob, config claims another diff_id: caught without any layer I/O
    c = write_layout(tmp_path / "c", [clean], diff_ids=["sha256:" + "ab" * 32])
    img_c, src_c = open_image(c.oci_ref)
    with pytest.raises(IntegrityError, match="claims diff_id"):
        analyze_image(img_c, [OsRelease(), DpkgStatus()], settings=settings)
    assert layer_reads(src_c, img_c) == 0

    # the real evil layer, honestly described, gets its own results; the clean image is unaffected
    d = write_layout(tmp_path / "d", [evil])
    img_d, _ = open_image(d.oci_ref)
    res_d = analyze_image(img_d, [OsRelease(), DpkgStatus()], settings=settings)
    assert [p.name for p in res_d.packages] == ["malware"]
    img_a2, src_a2 = open_image(a.oci_ref)
    assert analyze_image(img_a2, [OsRelease(), DpkgStatus()], settings=settings) == res_a
    assert layer_reads(src_a2, img_a2) == 0


def test_incomplete_layers_are_not_cached(tmp_path: Path) -> None:
    tar = _layer_tar(b"x", STATUS) + TarBuilder().file("more", b"m" * 5000).bytes()
    blob = gzip.compress(tar, mtime=0)[:-30]
    img_ref = write_layout(tmp_path / "t", [RawLayer(tar=tar, compression="raw", blob=blob)]).oci_ref
    settings = Settings()
    for _ in range(2):
        img, src = open_image(img_ref)
        res = analyze_image(img, [DpkgStatus()], settings=settings)
        assert res.gaps and layer_reads(src, img) == 1


def test_lru_eviction_keeps_recent_entries(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path / "c", max_bytes=40_000, touch_after=0)  # every read counts as a use
    pkgs = tuple(Package("deb", os.urandom(20).hex(), str(i)) for i in range(300))
    for n in range(8):
        digest, diff = "sha256:" + f"{n:064x}", "sha256:" + f"{n + 100:064x}"
        items = ((f"f{n}", AnalysisResult(packages=pkgs[n:])),)
        cache.put(digest, diff, LayerIndex(nondirs=frozenset({f"f{n}"})), [("a", 1, "", items)])
        if n >= 1:  # keep touching layer 0: it must survive eviction
            first = ("sha256:" + f"{0:064x}", "sha256:" + f"{100:064x}")
            assert cache.get_results(*first, "a", 1, "") is not None
    assert 0 < cache.total_bytes() <= 40_000
    assert cache.diff_id("sha256:" + f"{1:064x}") is None  # least recently used: evicted
    assert cache.diff_id("sha256:" + f"{7:064x}") == "sha256:" + f"{107:064x}"
    cache.close()


def test_warm_lookups_write_nothing_until_the_last_use_is_old(two_layer: str, tmp_path: Path) -> None:
    """A warm scan within the hour leaves the database untouched (no WAL to checkpoint on close);
    an older last use is refreshed, so eviction still follows use."""
    import sqlite3

    settings = Settings(cache_dir=tmp_path / "cache")
    img, _ = open_image(two_layer)
    analyze_image(img, [OsRelease(), DpkgStatus(), Marker()], settings=settings)
    db = settings.layer_cache_dir / "layers.sqlite"

    def used() -> list[float]:
        with sqlite3.connect(db) as conn:
            return [r[0] for r in conn.execute("SELECT used FROM results ORDER BY analyzer, digest")]

    watcher = sqlite3.connect(db)  # its data_version changes when another connection commits a write

    def version() -> int:
        return int(watcher.execute("PRAGMA data_version").fetchone()[0])

    before, seen = used(), version()
    img2, src2 = open_image(two_layer)
    analyze_image(img2, [OsRelease(), DpkgStatus(), Marker()], settings=settings)
    assert layer_reads(src2, img2) == 0
    assert used() == before and version() == seen

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE results SET used = used - 7200")
    aged = used()
    img3, _ = open_image(two_layer)
    analyze_image(img3, [OsRelease(), DpkgStatus(), Marker()], settings=settings)
    assert all(new > old + 3600 for new, old in zip(used(), aged, strict=True))
    assert version() != seen  # the watcher does see writes
    watcher.close()


def test_corrupt_cache_database_is_rebuilt(two_layer: str) -> None:
    settings = Settings()
    settings.layer_cache_dir.mkdir(parents=True)
    (settings.layer_cache_dir / "layers.sqlite").write_bytes(b"this is not a database" * 100)
    img, _ = open_image(two_layer)
    res = analyze_image(img, [DpkgStatus()], settings=settings)
    assert [p.name for p in res.packages] == ["alpha"]
    img2, src2 = open_image(two_layer)
    assert analyze_image(img2, [DpkgStatus()], settings=settings) == res
    assert layer_reads(src2, img2) == 0


def test_cache_clean_command_empties_the_cache(two_layer: str) -> None:
    from lockgate.cli.app import app

    settings = Settings()
    img, _ = open_image(two_layer)
    analyze_image(img, [DpkgStatus()], settings=settings)
    assert settings.layer_cache_dir.is_dir()
    out = CliRunner().invoke(app, ["cache", "clean"])
    assert out.exit_code == 0, out.output
    assert not settings.layer_cache_dir.exists()
    img2, src2 = open_image(two_layer)
    analyze_image(img2, [DpkgStatus()], settings=settings)
    assert layer_reads(src2, img2) == 2


def test_parallel_and_serial_walks_agree(two_layer: str) -> None:
    img, _ = open_image(two_layer)
    serial = analyze_image(img, [OsRelease(), DpkgStatus(), Marker()], settings=Settings(), cache=False, workers=1)
    img2, _ = open_image(two_layer)
    parallel = analyze_image(img2, [OsRelease(), DpkgStatus(), Marker()], settings=Settings(), cache=False, workers=2)
    assert serial == parallel and serial.packages


def test_concurrent_processes_share_one_cache(two_layer: str, tmp_path: Path) -> None:
    """Two scanner processes filling the same cache at once both succeed; a third run reads no layer."""
    import json
    import subprocess
    import sys

    script = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
from pathlib import Path
from lockgate.config import Settings
from lockgate.fs.walker import analyze_image
from tests.fs.helpers import DpkgStatus, Marker, OsRelease, layer_reads, open_image
img, src = open_image(sys.argv[1])
res = analyze_image(img, [OsRelease(), DpkgStatus(), Marker()], settings=Settings(cache_dir=Path(sys.argv[2])))
print(json.dumps({{"reads": layer_reads(src, img), "pkgs": [p.name for p in res.packages], "gaps": len(res.gaps)}}))
"""
    cache = tmp_path / "shared-cache"
    procs = [
        subprocess.Popen([sys.executable, "-c", script, two_layer, str(cache)], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(o["pkgs"] == ["alpha"] and o["gaps"] == 0 for o in outs)
    again = subprocess.run(
        [sys.executable, "-c", script, two_layer, str(cache)], capture_output=True, text=True, check=True
    )
    assert json.loads(again.stdout)["reads"] == 0
