"""CVSS scores computed once at import and stored in the advisory database.

The stored score of every vector is the ``cvss`` library's, ratings from stored scores are
the ratings scored at match time, a database built without the ``cvss`` table still works
(and gets the table when next written), and a warm scan imports neither ``cvss`` nor
``packaging``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from cvss import CVSS2, CVSS3, CVSS4

from lockgate.inventory.model import Package
from lockgate.vulndb.feeds.importer import ImportSummary, import_paths
from lockgate.vulndb.matcher import match
from lockgate.vulndb.severity import rate, score_vector
from lockgate.vulndb.store import Store

CVSS_TYPES = ("CVSS_V2", "CVSS_V3", "CVSS_V4")
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V30 = "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"  # 3.1
V2 = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3
BAD = ("CVSS:3.1/AV:N/AC:L", "not a vector", "CVSS:4.0/AV:X", "")


def library(vector: str) -> tuple[str, float] | None:
    """(version, base score) straight from the ``cvss`` library; None when it rejects the vector."""
    v = vector.strip()
    try:
        if v.startswith("CVSS:4"):
            return "4.0", float(CVSS4(v).base_score)
        if v.startswith("CVSS:3"):
            return v[5:8], float(CVSS3(v).base_score)
        return "2.0", float(CVSS2(v.removeprefix("(").removesuffix(")")).base_score)
    except Exception:  # the library raises several types for bad vectors
        return None


def _vectors(doc: Any) -> set[str]:
    out: set[str] = set()
    for holder in [doc, *(doc.get("affected") or [])]:
        for s in holder.get("severity") or []:
            if s.get("type") in CVSS_TYPES:
                out.add(str(s.get("score", "")))
    return out


def corpus_vectors(corpus: Path) -> set[str]:
    found: set[str] = set()
    for path in sorted((corpus / "osv").rglob("*")):
        if path.suffix == ".json":
            found |= _vectors(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix == ".yaml":
            found |= _vectors(yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CBaseLoader))
    return found


def test_every_corpus_vector_is_stored_with_the_library_score(corpus: Path, corpus_store: Store) -> None:
    vectors = corpus_vectors(corpus)
    assert len(vectors) > 50
    assert corpus_store.has_cvss_scores
    for v in sorted(vectors):
        want = library(v)
        assert corpus_store.cvss_score(v) == (want if want is not None else ("", 0.0)), v
    rows = corpus_store._db.execute("SELECT vector, version, score FROM cvss").fetchall()
    assert {r[0] for r in rows} == vectors  # nothing else: only what ratings read


def _osv_doc(
    adv_id: str, name: str, severity: list[dict[str, str]], entry_severity: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    entry = {"severity": entry_severity} if entry_severity else {}
    return {
        "id": adv_id,
        "modified": "2024-01-01T00:00:00Z",
        "severity": severity,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
                **entry,
            }
        ],
    }


def _nvd_metric(vector: str, version: str) -> dict[str, Any]:
    return {"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": version, "vectorString": vector}}


def _feeds(tmp_path: Path) -> tuple[Path, Path]:
    osv = tmp_path / "osv"
    osv.mkdir()
    docs = [
        _osv_doc("A-1", "one", [{"type": "CVSS_V3", "score": V31}, {"type": "CVSS_V2", "score": V2}]),
        _osv_doc("A-2", "one", [{"type": "CVSS_V4", "score": V40}], [{"type": "CVSS_V3", "score": V30}]),
        _osv_doc("A-3", "two", [{"type": "CVSS_V3", "score": BAD[0]}, {"type": "CVSS_V4", "score": BAD[1]}]),
        {**_osv_doc("A-4", "two", []), "aliases": ["CVE-2024-0004"]},
    ]
    for d in docs:
        (osv / f"{d['id']}.json").write_text(json.dumps(d))
    nvd = tmp_path / "nvd.json"
    metrics = {"cvssMetricV2": [_nvd_metric(f"({V2})", "2.0")], "cvssMetricV40": [_nvd_metric(BAD[2], "4.0")]}
    nvd.write_text(json.dumps({"vulnerabilities": [{"cve": {"id": "CVE-2024-0004", "metrics": metrics}}]}))
    return osv, nvd


def _build(tmp_path: Path, *paths: Path, replace: bool = True) -> ImportSummary:
    return import_paths(tmp_path / "t.db", list(paths), replace=replace)


PACKAGES = [Package("PyPI", "one", "1.0"), Package("PyPI", "two", "1.0")]


def test_advisory_entry_and_nvd_vectors_scored_at_import(tmp_path: Path) -> None:
    osv, nvd = _feeds(tmp_path)
    summary = _build(tmp_path, osv, nvd)
    with Store(summary.db_path) as store:
        stored = dict(
            (v, (ver, score)) for v, ver, score in store._db.execute("SELECT vector, version, score FROM cvss")
        )
        assert set(stored) == {V31, V2, V40, V30, BAD[0], BAD[1], f"({V2})", BAD[2]}
        for v, got in stored.items():
            assert got == (library(v) or ("", 0.0)), v
        assert stored[V31] == ("3.1", 9.8) and stored[f"({V2})"] == ("2.0", 7.5) and stored[BAD[0]] == ("", 0.0)
        assert score_vector(BAD[0], store.cvss_score) is None
        assert score_vector(V40, store.cvss_score) == score_vector(V40)
        found = {f.id: f for f in match(PACKAGES, None, store)}
    assert found["A-1"].cvss == (("3.1", V31, 9.8), ("2.0", V2, 7.5)) and found["A-1"].severity_source == "cvss_v3"
    assert found["A-2"].severity_source == "cvss_v4" and ("3.0", V30, 3.1) in found["A-2"].cvss
    assert found["A-3"].cvss == () and found["CVE-2024-0004"].severity_source == "nvd_cvss_v2"


def _ratings(store: Store, *, stored: bool) -> list[Any]:
    out = []
    rows = store._db.execute(
        "SELECT v.rid, v.id, f.entry FROM advisories v JOIN affected f ON f.rid = v.rid ORDER BY f.rowid"
    ).fetchall()
    for rid, adv_id, entry in rows:
        head = store.head(rid)
        for os_package in (False, True):
            r = rate(
                [head],
                [json.loads(entry)],
                os_package=os_package,
                cve=adv_id if adv_id.startswith("CVE-") else next((a for a in head.aliases if a[:4] == "CVE-"), None),
                nvd=store.nvd,
                stored=store.cvss_score if stored else None,
            )
            out.append((adv_id, os_package, r))
    return out


def test_ratings_from_stored_scores_equal_ratings_scored_at_match_time(corpus_store: Store, tmp_path: Path) -> None:
    osv, nvd = _feeds(tmp_path)
    with Store(_build(tmp_path, osv, nvd).db_path) as small:
        for store in (corpus_store, small):
            with_stored = _ratings(store, stored=True)
            assert with_stored == _ratings(store, stored=False)
            assert sum(1 for *_, r in with_stored if r.cvss) >= (200 if store is corpus_store else 4)


def _drop_cvss_table(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("DROP TABLE cvss")
    con.commit()
    con.close()


def test_a_database_without_the_table_still_matches_and_gets_it_when_written(tmp_path: Path) -> None:
    osv, nvd = _feeds(tmp_path)
    db = _build(tmp_path, osv).db_path
    with Store(db) as s:
        want = match(PACKAGES, None, s)
    _drop_cvss_table(db)  # as built before scores were stored
    with Store(db) as old:
        assert not old.has_cvss_scores and old.cvss_score(V31) is None
        assert match(PACKAGES, None, old) == want  # scored at match time instead
    _build(tmp_path, nvd, replace=False)  # adding a feed scores what the database already held
    with Store(db) as s:
        assert s.has_cvss_scores
        assert s.cvss_score(V31) == ("3.1", 9.8) and s.cvss_score(V30) == ("3.0", 3.1)
        assert s.cvss_score(BAD[2]) == ("", 0.0)  # from the new NVD feed
        (tmp_path / "fresh").mkdir()
        with Store(_build(tmp_path / "fresh", osv, nvd).db_path) as fresh:
            assert match(PACKAGES, None, s) == match(PACKAGES, None, fresh)


_WARM = """
import atexit, sys
import lockgate.cli.app as a
atexit.register(lambda: print("LOADED", sorted(m for m in ("cvss", "packaging") if m in sys.modules), file=sys.stderr))
a.main(sys.argv[1:])
"""


def _scan(tmp_path: Path, oci: Path, db: Path) -> tuple[str, dict[str, Any]]:
    out = tmp_path / "report.json"
    argv = ["scan", "image", f"oci:{oci}", "--scanners", "vuln", "--db", str(db), "-f", "json", "-o", str(out)]
    env = {"HOME": str(tmp_path), "LOCKGATE_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", _WARM, *argv], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    return r.stderr, json.loads(out.read_text())


def test_a_warm_scan_imports_neither_cvss_nor_packaging(tmp_path: Path, corpus_import: ImportSummary) -> None:
    from tests.fixtures.images import build_image

    root = tmp_path / "rootfs"
    (root / "app").mkdir(parents=True)
    # werkzeug 0.14.1: advisories with CVSS vectors; pyyaml 5.3: a "5.2b1" range bound
    (root / "app/requirements.txt").write_text("werkzeug==0.14.1\npyyaml==5.3\nrequests==2.19.0\n")
    oci = build_image(tmp_path / "img", root).oci_dir
    _scan(tmp_path, oci, corpus_import.db_path)  # fills the layer cache
    loaded, report = _scan(tmp_path, oci, corpus_import.db_path)
    assert "LOADED []" in loaded, loaded
    scored = [f for f in report["findings"] if f.get("cvss")]
    assert scored and any(f["package"]["name"] == "pyyaml" for f in report["findings"])

    old = tmp_path / "old.db"  # the same database without stored scores: cvss is imported, same report
    old.write_bytes(corpus_import.db_path.read_bytes())
    _drop_cvss_table(old)
    loaded_old, report_old = _scan(tmp_path, oci, old)
    assert "'cvss'" in loaded_old
    assert report_old["findings"] == report["findings"]
