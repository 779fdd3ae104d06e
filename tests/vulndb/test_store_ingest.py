"""Store and importer behaviour: atomic swap, zip/YAML input, validation reasons, limits, freshness."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from lockgate._internal.durations import parse_duration
from lockgate.config import Limits
from lockgate.errors import ConfigError, InputError, NotFoundError
from lockgate.vulndb.feeds.importer import import_paths
from lockgate.vulndb.store import Store, StoreBuilder, check_fresh


def _copy_some(corpus: Path, dst: Path, n: int) -> list[Path]:
    files = sorted((corpus / "osv/go").glob("GO-*.json"))[:n]
    dst.mkdir(parents=True, exist_ok=True)
    for f in files:
        (dst / f.name).write_bytes(f.read_bytes())
    return files


def test_failed_import_leaves_old_database_intact(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "db" / "lockgate.db"
    import_paths(db, [corpus / "debian-dsa/data/DTSA/list"], replace=True)
    before = db.read_bytes()
    reader = Store(db)
    with pytest.raises(NotFoundError):
        import_paths(db, [corpus / "alpine-secdb/v3.3", tmp_path / "does-not-exist"])
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["lockgate.db"]  # no temporary files left
    assert reader.advisory_count() == 208
    with Store(db) as again:
        assert again.counts_by_ecosystem().keys() == {"Debian:4", "Debian:5", "Debian:6"}


def test_interrupted_build_discards_and_reader_keeps_old_file(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "lockgate.db"
    import_paths(db, [corpus / "debian-dsa/data/DTSA/list"], replace=True)
    reader = Store(db)

    def boom():  # type: ignore[no-untyped-def]
        yield from reader.get("DTSA-1-1")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), StoreBuilder(db, replace=True) as b:
        b.add_feed("x", boom())
    assert reader.advisory_count() == 208
    assert [p.name for p in tmp_path.iterdir()] == ["lockgate.db"]
    # a successful replace swaps the file under an open reader, which keeps its snapshot
    _copy_some(corpus, tmp_path / "go", 40)
    import_paths(db, [tmp_path / "go"], replace=True)
    assert reader.advisory_count() == 208
    with Store(db) as fresh:
        assert fresh.advisory_count() == 40


def test_reimport_same_location_replaces_its_records(corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "osv"
    files = _copy_some(corpus, src, 5)
    db = tmp_path / "t.db"
    import_paths(db, [src])
    (src / files[0].name).unlink()
    import_paths(db, [src])
    with Store(db) as s:
        assert s.advisory_count() == 4
        assert len(s.feeds()) == 1
        assert s.get(files[0].stem) == ()


def test_zip_and_yaml_inputs(corpus: Path, tmp_path: Path) -> None:
    files = sorted((corpus / "osv/go").glob("GO-*.json"))[:30]
    zpath = tmp_path / "all.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(f, f.name)
    pypi = sorted((corpus / "osv/pypi/vulns").rglob("*.yaml"))[:10]
    ydir = tmp_path / "y"
    ydir.mkdir()
    for f in pypi:
        (ydir / f.name).write_bytes(f.read_bytes())
    summary = import_paths(tmp_path / "t.db", [zpath, ydir], replace=True)
    assert [f.records for f in summary.feeds] == [30, 10]
    assert summary.issues == ()
    with Store(tmp_path / "t.db") as s:
        assert s.get(files[7].stem)[0].id == files[7].stem
        assert s.get(pypi[3].stem)[0].id == pypi[3].stem


def test_invalid_records_are_reported_with_reasons(tmp_path: Path) -> None:
    d = tmp_path / "bad"
    d.mkdir()
    ok = {
        "id": "OK-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "npm", "name": "a"}}],
    }
    (d / "ok.json").write_text(json.dumps(ok))
    (d / "noid.json").write_text(json.dumps({"modified": "x", "affected": []}))
    (d / "event.json").write_text(
        json.dumps(
            {
                **ok,
                "id": "E-1",
                "affected": [
                    {
                        "package": {"ecosystem": "npm", "name": "a"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}],
                    }
                ],
            }
        )
    )
    (d / "float.yaml").write_text(
        "id: F-1\nmodified: '2024'\naffected:\n- package: {ecosystem: PyPI, name: b}\n"
        "  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '0'}, {fixed: [1]}]\n"
    )
    (d / "broken.json").write_text("{not json")
    (d / "other.json").write_text(json.dumps({"hello": "world"}))
    (d / "README.md").write_text("not a record")
    summary = import_paths(tmp_path / "t.db", [d], replace=True)
    assert summary.records == 1
    reasons = {Path(i.where).name: i.reason for i in summary.issues}
    assert set(reasons) == {"noid.json", "event.json", "float.yaml", "broken.json", "other.json"}
    assert "not an OSV" in reasons["noid.json"] or "missing id" in reasons["noid.json"]
    assert "exactly one" in reasons["event.json"]
    assert "version string" in reasons["float.yaml"]
    assert "invalid JSON" in reasons["broken.json"]
    with Store(tmp_path / "t.db") as s:
        assert s.feeds()[0].invalid == 5


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["id: BOMB-1", "modified: '2024'", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    summary = import_paths(
        tmp_path / "t.db", [tmp_path / "bomb.yaml"], replace=True, limits=Limits(max_yaml_aliases=100)
    )
    assert summary.records == 0
    assert "alias" in summary.issues[0].reason


def test_lookup_names_are_normalised(tmp_path: Path) -> None:
    d = tmp_path / "n"
    d.mkdir()
    recs = [
        ("P-1", "PyPI", "Zope.Interface"),
        ("D-1", "Debian:12", "OpenSSL"),
        ("G-1", "Go", "github.com/Foo/Bar"),
    ]
    for rid, eco, name in recs:
        (d / f"{rid}.json").write_text(
            json.dumps({"id": rid, "modified": "2024", "affected": [{"package": {"ecosystem": eco, "name": name}}]})
        )
    import_paths(tmp_path / "t.db", [d], replace=True)
    with Store(tmp_path / "t.db") as s:
        assert [a.id for a in s.advisories_for("pypi", "zope-interface")] == ["P-1"]
        assert [a.id for a in s.advisories_for("Debian:12", "openssl")] == ["D-1"]
        assert s.advisories_for("Debian:11", "openssl") == ()
        assert [a.id for a in s.advisories_for("Go", "github.com/Foo/Bar")] == ["G-1"]
        assert s.advisories_for("Go", "github.com/foo/bar") == ()
        plan = s._db.execute(
            "EXPLAIN QUERY PLAN SELECT rid FROM affected WHERE ecosystem = ? AND name = ?", ("pypi", "x")
        ).fetchall()
        assert "affected_pkg" in str(plan)


def test_not_a_database_and_wrong_schema(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("hello")
    with pytest.raises(InputError, match="not a lockgate advisory database"):
        Store(bad)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.executescript("CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (99);")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="schema 99"):
        Store(other)
    with pytest.raises(NotFoundError, match="lockgate db"):
        Store(tmp_path / "missing.db")


def test_freshness(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    import_paths(db, [corpus / "debian-dsa/data/DTSA/list"], replace=True)
    with Store(db) as s:
        built = s.built_at
        assert check_fresh(s, parse_duration("7d"), built + dt.timedelta(days=6)) == dt.timedelta(days=6)
        with pytest.raises(InputError, match="older than --db-max-age"):
            check_fresh(s, parse_duration("7d"), built + dt.timedelta(days=7, seconds=1))
    assert parse_duration("24h") == dt.timedelta(hours=24)
    assert parse_duration("3") == dt.timedelta(days=3)
    with pytest.raises(ConfigError):
        parse_duration("soon")


def test_yaml_size_limit_applies_json_feeds_may_be_larger(tmp_path: Path) -> None:
    rec = {"id": "BIG-1", "modified": "2024", "details": "x" * 5000, "affected": []}
    (tmp_path / "big.json").write_text(json.dumps(rec))
    (tmp_path / "big.yaml").write_text(f"id: BIG-2\nmodified: '2024'\ndetails: {'x' * 5000}\n")
    summary = import_paths(tmp_path / "t.db", [tmp_path], replace=True, limits=Limits(max_yaml_bytes=4096))
    assert summary.records == 1
    (issue,) = summary.issues
    assert issue.where.endswith("big.yaml")
    assert "exceeds the document limit of 4096" in issue.reason


def test_gzipped_nvd_year_file(tmp_path: Path) -> None:
    import gzip

    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    metric = {"type": "Primary", "cvssData": {"version": "3.1", "vectorString": vector}}
    doc = {
        "format": "NVD_CVE",
        "version": "2.0",
        "vulnerabilities": [
            {"cve": {"id": "CVE-2024-0001", "metrics": {"cvssMetricV31": [metric]}}},
            {"cve": {"id": "CVE-2024-0002", "metrics": {}}},
            {"cve": {"id": "not-a-cve"}},
        ],
    }  # fmt: skip
    (tmp_path / "nvd").mkdir()
    with gzip.open(tmp_path / "nvd" / "nvdcve-2.0-2024.json.gz", "wt") as f:
        json.dump(doc, f)
    summary = import_paths(tmp_path / "t.db", [tmp_path / "nvd"], replace=True)
    assert summary.feeds[0].kinds == ("nvd",)
    assert summary.records == 1  # CVE-2024-0002 has no vector: nothing to enrich with
    assert [i.reason for i in summary.issues] == ["missing or malformed cve.id 'not-a-cve'"]
    with Store(tmp_path / "t.db") as s:
        (m,) = s.nvd("cve-2024-0001")
        assert (m.version, m.primary) == ("3.1", True)


def test_database_path_with_uri_characters(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "we?ird #dir %20" / "lock gate.db"
    import_paths(db, [corpus / "debian-dsa/data/DTSA/list"], replace=True)
    import_paths(db, [corpus / "alpine-secdb/v3.3/main.json"])  # copies the existing file first
    with Store(db) as s:
        assert s.advisory_count() > 208
