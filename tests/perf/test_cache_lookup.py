"""``LayerCache.lookup`` (one transaction per layer) answers like the per-analyser getters."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from lockgate.findings.model import CoverageGap
from lockgate.fs.analysis import LayerIndex
from lockgate.fs.cache import LayerCache
from lockgate.fs.model import AnalysisResult
from lockgate.inventory.model import Package

D = "sha256:" + "a" * 64
DIFF = "sha256:" + "b" * 64


def _filled(tmp: Path) -> LayerCache:
    cache = LayerCache(tmp)
    index = LayerIndex(nondirs=frozenset({"etc/os-release", "x"}), dirs=frozenset({"etc"}), whiteouts=frozenset({"y"}))
    deb = ((
        "var/lib/dpkg/status",
        AnalysisResult(packages=(Package(ecosystem="deb", name="bash", version="5.1-2", layer=DIFF),)),
    ),)  # fmt: skip
    gap = (("x", AnalysisResult(gaps=(CoverageGap(where="x", reason="too big", layer=DIFF),))),)
    cache.put(D, DIFF, index, [("dpkg", 1, "", deb), ("secrets", 2, "max=10", gap)])
    return cache


def test_lookup_matches_single_getters(tmp_path: Path) -> None:
    cache = _filled(tmp_path)
    keys = [("dpkg", 1, ""), ("secrets", 2, "max=10"), ("secrets", 2, "max=11"), ("rpm", 1, "")]
    got = cache.lookup(D, keys)
    assert got is not None
    known, index, results = got
    assert known == cache.diff_id(D) == DIFF
    assert index == cache.get_index(D, DIFF)
    assert set(results) == {"dpkg", "secrets"}  # other params / unknown analysers are misses
    assert results["dpkg"] == cache.get_results(D, DIFF, "dpkg", 1, "")
    assert results["secrets"] == cache.get_results(D, DIFF, "secrets", 2, "max=10")
    assert results["dpkg"][0][1].packages[0].name == "bash"
    assert cache.lookup("sha256:" + "c" * 64, keys) is None
    cache.close()


def test_lookup_marks_found_rows_used(tmp_path: Path) -> None:
    cache = _filled(tmp_path)
    cache.close()
    with sqlite3.connect(tmp_path / "layers.sqlite") as conn:
        conn.execute("UPDATE results SET used=0")
    conn.close()
    before = time.time()
    again = LayerCache(tmp_path)
    assert again.lookup(D, [("dpkg", 1, "")]) is not None
    again.close()
    with sqlite3.connect(tmp_path / "layers.sqlite") as conn:
        used = dict(conn.execute("SELECT analyzer, used FROM results").fetchall())
    conn.close()
    assert used["dpkg"] >= before and used["__index__"] >= before
    assert used["secrets"] == 0  # not asked for: LRU order unchanged
