"""The local advisory database: one SQLite file, built atomically, read with indexed lookups.

Layout (``SCHEMA_VERSION``):

- ``schema_version(version)`` and ``meta(key, value)`` (``built_at``);
- ``feeds``: one row per imported location (kind, path or URL, import time, record and
  invalid counts, HTTP validators for ``db update``);
- ``advisories``: each advisory once, as compact OSV JSON;
- ``affected``: (ecosystem key, normalised package name) -> advisory row plus that one
  ``affected[]`` entry, with a real index, so matching reads only the small entry;
- ``nvd``: CVSS metrics by CVE id (enrichment only);
- ``cvss``: every CVSS vector of the advisories and NVD metrics -> (CVSS version, base score),
  computed by lockgate with the ``cvss`` library when the records were imported (never a score a
  feed claims; version ``''`` for a vector that does not parse), so matching needs no scoring.
  A database built before this table existed still reads (vectors are then scored at match
  time) and gets the table the next time it is written.

Writers never touch the live file: :class:`StoreBuilder` copies it (or starts empty) into a
temporary file in the same directory and ``os.replace``-s it in on success, so a failed or
interrupted import leaves the previous database intact and readable.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from lockgate._internal.structs import PartialEq
from lockgate.errors import InputError, NotFoundError
from lockgate.vulndb.model import (
    Advisory,
    Reference,
    SeverityEntry,
    ecosystem_key,
    normalize_ecosystem,
    normalize_name,
)

SCHEMA_VERSION = 1

_CVSS_TABLE = """
CREATE TABLE cvss (vector TEXT PRIMARY KEY, version TEXT NOT NULL, score REAL NOT NULL) WITHOUT ROWID;
"""

_SCHEMA = (
    """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE feeds (
  feed_id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  location TEXT NOT NULL UNIQUE,
  imported_at TEXT NOT NULL,
  records INTEGER NOT NULL DEFAULT 0,
  invalid INTEGER NOT NULL DEFAULT 0,
  etag TEXT NOT NULL DEFAULT '',
  last_modified TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL DEFAULT ''
);
CREATE TABLE advisories (
  rid INTEGER PRIMARY KEY,
  feed_id INTEGER NOT NULL,
  id TEXT NOT NULL,
  withdrawn TEXT NOT NULL DEFAULT '',
  doc TEXT NOT NULL,
  head TEXT NOT NULL,
  UNIQUE (feed_id, id)
);
CREATE TABLE affected (
  ecosystem TEXT NOT NULL,
  ecosystem_name TEXT NOT NULL,
  name TEXT NOT NULL,
  rid INTEGER NOT NULL,
  entry TEXT NOT NULL,
  versions TEXT NOT NULL DEFAULT ''
);
CREATE INDEX affected_pkg ON affected (ecosystem, name);
CREATE INDEX affected_rid ON affected (rid);
CREATE INDEX advisories_feed ON advisories (feed_id);
CREATE TABLE nvd (cve TEXT PRIMARY KEY, feed_id INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX nvd_feed ON nvd (feed_id);
"""
    + _CVSS_TABLE
)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _ro_uri(path: Path) -> str:
    """A read-only SQLite URI for ``path`` (percent-encoded, so ``?`` or ``#`` in names are safe)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class FeedInfo(msgspec.Struct, frozen=True):
    """One imported feed location, as recorded in the database."""

    kind: str
    location: str
    imported_at: str
    records: int
    invalid: int = 0
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""


class Candidate(PartialEq, frozen=True):
    """An index hit: advisory row id, its id, and the raw OSV ``affected[]`` entry for the package.

    ``entry`` leaves out the explicit ``versions`` list, which is kept in ``versions`` (and as a
    set for membership tests): most lookups only need the ranges. :meth:`full_entry` has both.
    """

    _uncompared = frozenset({"compiled"})

    rid: int
    advisory_id: str
    ecosystem: str
    entry: Mapping[str, Any]
    versions: tuple[str, ...] = ()
    version_set: frozenset[str] = frozenset()
    compiled: list[Any] = msgspec.field(default_factory=list)
    """Scratch slot for the matcher: the compiled ``entry``, kept as long as the Store caches this hit."""

    def full_entry(self) -> dict[str, Any]:
        """The complete OSV ``affected[]`` entry, ``versions`` included."""
        return {**self.entry, "versions": list(self.versions)} if self.versions else dict(self.entry)


class NvdMetric(msgspec.Struct, frozen=True):
    """One CVSS metric from NVD: version (``2.0``, ``3.0``, ``3.1``, ``4.0``), vector, who scored it."""

    version: str
    vector: str
    source: str = ""
    primary: bool = True


class NvdRecord(msgspec.Struct, frozen=True):
    """NVD metrics for one CVE id, as imported."""

    cve: str
    metrics: tuple[NvdMetric, ...]


CVSS_TYPES = frozenset({"CVSS_V2", "CVSS_V3", "CVSS_V4"})
"""OSV severity types holding a CVSS vector."""

_CANDIDATE_CACHE = 65536
"""Package lookups kept in memory per :class:`Store`."""


def _candidate(rid: int, adv_id: str, entry: str, versions: str) -> Candidate:
    e = json.loads(entry)
    listed = tuple(versions.split("\n")) if versions else tuple(e.pop("versions", ()))
    return Candidate(
        rid=rid,
        advisory_id=adv_id,
        ecosystem=str(e["package"]["ecosystem"]),
        entry=e,
        versions=listed,
        version_set=frozenset(listed),
    )


class Store:
    """Read-only view of a built advisory database."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise NotFoundError(
                f"no advisory database at {self.path} (run `lockgate db import PATH` or `lockgate db update`)"
            )
        try:
            self._db = sqlite3.connect(_ro_uri(self.path), uri=True, check_same_thread=False)
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
        except sqlite3.DatabaseError as e:
            raise InputError(f"{self.path}: not a lockgate advisory database ({e})") from None
        if row is None or int(row[0]) != SCHEMA_VERSION:
            found = row[0] if row else "none"
            raise InputError(
                f"{self.path}: database schema {found} is not {SCHEMA_VERSION}; rebuild it with `lockgate db import`"
            )
        self._has_nvd = self._db.execute("SELECT 1 FROM nvd LIMIT 1").fetchone() is not None
        self._has_cvss = _has_table(self._db, "cvss")
        self._cvss = lru_cache(maxsize=16384)(self._cvss_uncached)
        self._nvd = lru_cache(maxsize=65536)(self._nvd_uncached)
        self._cand: dict[tuple[str, str], tuple[Candidate, ...]] = {}
        self._candidates_prefix = lru_cache(maxsize=4096)(self._candidates_prefix_uncached)
        self._advisory = lru_cache(maxsize=16384)(self._advisory_uncached)
        self._head = lru_cache(maxsize=65536)(self._head_uncached)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- metadata -----------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        """Schema version of the file."""
        return int(self._db.execute("SELECT version FROM schema_version").fetchone()[0])

    @property
    def built_at(self) -> _dt.datetime:
        """When the database was last written (UTC)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='built_at'").fetchone()
        if row is None:
            raise InputError(f"{self.path}: database has no build time")
        return _dt.datetime.fromisoformat(row[0])

    def feeds(self) -> tuple[FeedInfo, ...]:
        """Every imported feed location."""
        rows = self._db.execute(
            "SELECT kind, location, imported_at, records, invalid, etag, last_modified, sha256 FROM feeds "
            "ORDER BY feed_id"
        ).fetchall()
        return tuple(FeedInfo(*r) for r in rows)

    def counts_by_ecosystem(self) -> dict[str, int]:
        """Number of advisories that name at least one package, per ecosystem (canonical spelling)."""
        rows = self._db.execute(
            "SELECT MIN(ecosystem_name), COUNT(DISTINCT rid) FROM affected GROUP BY ecosystem ORDER BY ecosystem"
        ).fetchall()
        return {str(name): int(n) for name, n in rows}

    def advisory_count(self) -> int:
        """Total advisories stored (including withdrawn ones)."""
        return int(self._db.execute("SELECT COUNT(*) FROM advisories").fetchone()[0])

    def nvd_count(self) -> int:
        """CVE ids with NVD metrics."""
        return int(self._db.execute("SELECT COUNT(*) FROM nvd").fetchone()[0])

    # -- lookups ------------------------------------------------------------------------------
    def candidates(self, ecosystem: str, name: str) -> tuple[Candidate, ...]:
        """Index hits for one package: non-withdrawn advisories naming it in that ecosystem."""
        k = (ecosystem_key(ecosystem), normalize_name(ecosystem, name))
        got = self._cand.get(k)
        if got is None:
            got = self._remember(k, self._candidates_uncached(*k))
        return got

    def prefetch(self, lookups: Iterable[tuple[str, str]]) -> None:
        """Load the candidates of many ``(ecosystem, name)`` pairs at once: one query per ecosystem.

        Later :meth:`candidates` calls for these pairs are answered from memory; the
        per-query overhead of SQLite dominates when most packages have no advisories.
        """
        wanted: dict[str, set[str]] = {}
        for ecosystem, name in lookups:
            k = (ecosystem_key(ecosystem), normalize_name(ecosystem, name))
            if k not in self._cand:
                wanted.setdefault(k[0], set()).add(k[1])
        for key, names in wanted.items():
            rows = self._db.execute(
                "SELECT f.name, f.rid, v.id, f.entry, f.versions FROM affected f JOIN advisories v ON v.rid = f.rid "
                "WHERE f.ecosystem = ? AND f.name IN (SELECT value FROM json_each(?)) ORDER BY f.name, f.rowid",
                (key, _dumps(sorted(names))),
            ).fetchall()
            found: dict[str, list[Candidate]] = {n: [] for n in names}
            for name, rid, adv_id, entry, versions in rows:
                found[name].append(_candidate(rid, adv_id, entry, versions))
            for name, cands in found.items():
                self._remember((key, name), tuple(cands))

    def _remember(self, k: tuple[str, str], cands: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
        if len(self._cand) >= _CANDIDATE_CACHE:
            self._cand.clear()
        self._cand[k] = cands
        return cands

    def candidates_prefix(self, prefix: str, name: str) -> tuple[Candidate, ...]:
        """Index hits in every ecosystem whose name starts with ``prefix`` (``Red Hat:enterprise_linux:9:``)."""
        return self._candidates_prefix(ecosystem_key(prefix), normalize_name(prefix, name))

    def _candidates_prefix_uncached(self, key: str, name: str) -> tuple[Candidate, ...]:
        return self._candidates_uncached(key, name, prefix=True)

    def _candidates_uncached(self, key: str, name: str, *, prefix: bool = False) -> tuple[Candidate, ...]:
        where = "f.ecosystem >= ? AND f.ecosystem < ?" if prefix else "f.ecosystem = ?"
        args = (key, key + "\U0010ffff", name) if prefix else (key, name)
        rows = self._db.execute(
            "SELECT f.rid, v.id, f.entry, f.versions FROM affected f JOIN advisories v ON v.rid = f.rid "
            f"WHERE {where} AND f.name = ? ORDER BY f.rowid",
            args,
        ).fetchall()
        return tuple(_candidate(*row) for row in rows)

    def advisory(self, rid: int) -> Advisory:
        """The full advisory stored under row id ``rid``."""
        return self._advisory(rid)

    def _advisory_uncached(self, rid: int) -> Advisory:
        from lockgate.vulndb.osv.model import parse_osv

        row = self._db.execute("SELECT doc FROM advisories WHERE rid = ?", (rid,)).fetchone()
        if row is None:
            raise NotFoundError(f"advisory row {rid} not found")
        return parse_osv(json.loads(row[0]))

    def head(self, rid: int) -> Advisory:
        """The advisory under ``rid`` without its ``affected`` list (cheap: what findings need)."""
        return self._head(rid)

    def _head_uncached(self, rid: int) -> Advisory:
        row = self._db.execute("SELECT head FROM advisories WHERE rid = ?", (rid,)).fetchone()
        if row is None:
            raise NotFoundError(f"advisory row {rid} not found")
        d = json.loads(row[0])  # written by StoreBuilder from a validated Advisory: no re-validation
        ds = dict(d.get("database_specific") or {})
        return Advisory(
            id=d["id"],
            modified=d.get("modified", ""),
            source=str(ds.pop("lockgate_source", "")),
            published=d.get("published", ""),
            withdrawn=d.get("withdrawn", ""),
            aliases=tuple(d.get("aliases", ())),
            related=tuple(d.get("related", ())),
            summary=d.get("summary", ""),
            details=d.get("details", ""),
            severity=tuple(SeverityEntry(x["type"], x["score"]) for x in d.get("severity", ())),
            references=tuple(Reference(r.get("type", ""), r.get("url", "")) for r in d.get("references", ())),
            database_specific=ds,
        )

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]:
        """Advisories (not withdrawn) that name this package in this ecosystem."""
        seen: dict[int, Advisory] = {}
        for c in self.candidates(ecosystem, name):
            if c.rid not in seen:
                seen[c.rid] = self.advisory(c.rid)
        return tuple(seen.values())

    def get(self, advisory_id: str) -> tuple[Advisory, ...]:
        """Every stored advisory with this id (one per feed that carries it)."""
        rows = self._db.execute("SELECT rid FROM advisories WHERE id = ?", (advisory_id,)).fetchall()
        return tuple(self.advisory(r[0]) for r in rows)

    def nvd(self, cve: str) -> tuple[NvdMetric, ...]:
        """NVD CVSS metrics for a CVE id (empty when NVD data was not imported)."""
        return self._nvd(cve.upper()) if self._has_nvd else ()

    @property
    def has_cvss_scores(self) -> bool:
        """True when the database holds the CVSS scores computed at import (built by this lockgate or later)."""
        return self._has_cvss

    def cvss_score(self, vector: str) -> tuple[str, float] | None:
        """(CVSS version, base score) computed at import for ``vector``; ``("", 0.0)`` when it did not parse.

        None when the database does not have the vector (or predates the ``cvss`` table):
        the caller scores it itself.
        """
        return self._cvss(vector) if self._has_cvss else None

    def _cvss_uncached(self, vector: str) -> tuple[str, float] | None:
        row = self._db.execute("SELECT version, score FROM cvss WHERE vector = ?", (vector,)).fetchone()
        return None if row is None else (str(row[0]), float(row[1]))

    def _nvd_uncached(self, cve: str) -> tuple[NvdMetric, ...]:
        row = self._db.execute("SELECT doc FROM nvd WHERE cve = ?", (cve.upper(),)).fetchone()
        if row is None:
            return ()
        return tuple(NvdMetric(**m) for m in json.loads(row[0]))


class StoreBuilder:
    """Builds a new database file next to ``path`` and swaps it in atomically on :meth:`commit`.

    Use as a context manager; leaving the block with an exception discards the temporary file.
    """

    def __init__(self, path: Path, *, replace: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # here: scans open the store read-only and never need it

        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self._done = False
        self._scored: set[str] = set()
        try:
            self._db = sqlite3.connect(self._tmp)
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("PRAGMA journal_mode=MEMORY")
            if self.path.is_file() and not replace:
                Store(self.path).close()  # validates the schema before copying
                src = sqlite3.connect(_ro_uri(self.path), uri=True)
                try:
                    src.backup(self._db)
                finally:
                    src.close()
                if not _has_table(self._db, "cvss"):  # built before scores were stored: score what it holds
                    self._db.executescript(_CVSS_TABLE)
                    self._score_stored()
            else:
                self._db.executescript(_SCHEMA)
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        except BaseException:
            self.discard()
            raise

    def __enter__(self) -> StoreBuilder:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if et is not None:
            self.discard()
        elif not self._done:
            self.commit()

    def feed_info(self, location: str) -> FeedInfo | None:
        """The recorded feed for ``location`` in the database being built, if any."""
        row = self._db.execute(
            "SELECT kind, location, imported_at, records, invalid, etag, last_modified, sha256 FROM feeds "
            "WHERE location = ?",
            (location,),
        ).fetchone()
        return FeedInfo(*row) if row else None

    def add_feed(
        self,
        location: str,
        records: Iterable[Advisory | NvdRecord],
        *,
        kind: str = "",
        etag: str = "",
        last_modified: str = "",
        sha256: str = "",
    ) -> int:
        """Replace everything previously imported from ``location`` with ``records``; returns their count."""
        db = self._db
        old = db.execute("SELECT feed_id FROM feeds WHERE location = ?", (location,)).fetchone()
        if old is not None:
            fid = old[0]
            db.execute("DELETE FROM affected WHERE rid IN (SELECT rid FROM advisories WHERE feed_id = ?)", (fid,))
            db.execute("DELETE FROM advisories WHERE feed_id = ?", (fid,))
            db.execute("DELETE FROM nvd WHERE feed_id = ?", (fid,))
            db.execute("DELETE FROM feeds WHERE feed_id = ?", (fid,))
        cur = db.execute(
            "INSERT INTO feeds (kind, location, imported_at, etag, last_modified, sha256) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, location, _now().isoformat(), etag, last_modified, sha256),
        )
        fid = int(cur.lastrowid or 0)
        count = 0
        for rec in records:
            if isinstance(rec, NvdRecord):
                db.execute(
                    "INSERT OR REPLACE INTO nvd (cve, feed_id, doc) VALUES (?, ?, ?)",
                    (rec.cve.upper(), fid, _dumps([_metric(m) for m in rec.metrics])),
                )
                self._score(m.vector for m in rec.metrics)
                count += 1
            else:
                count += self._insert(fid, rec)
        db.execute("UPDATE feeds SET records = ? WHERE feed_id = ?", (count, fid))
        return count

    def update_feed(self, location: str, *, kind: str | None = None, invalid: int | None = None) -> None:
        """Set the kind or the number of rejected records of an added feed."""
        if kind is not None:
            self._db.execute("UPDATE feeds SET kind = ? WHERE location = ?", (kind, location))
        if invalid is not None:
            self._db.execute("UPDATE feeds SET invalid = ? WHERE location = ?", (invalid, location))

    def _insert(self, fid: int, adv: Advisory) -> int:
        db = self._db
        doc = adv.to_osv()
        prev = db.execute("SELECT rid FROM advisories WHERE feed_id = ? AND id = ?", (fid, adv.id)).fetchone()
        if prev is not None:  # the same id twice in one feed: the later record wins
            db.execute("DELETE FROM affected WHERE rid = ?", (prev[0],))
            db.execute("DELETE FROM advisories WHERE rid = ?", (prev[0],))
        cur = db.execute(
            "INSERT INTO advisories (feed_id, id, withdrawn, doc, head) VALUES (?, ?, ?, ?, ?)",
            (fid, adv.id, adv.withdrawn, _dumps(doc), _dumps({k: v for k, v in doc.items() if k != "affected"})),
        )
        rid = cur.lastrowid
        self._score(_doc_vectors(doc))
        if not adv.withdrawn:
            rows = []
            for entry, aff in zip(doc["affected"], adv.affected, strict=True):
                if aff.package.ecosystem and aff.package.name:
                    eco = aff.package.ecosystem
                    key, name = ecosystem_key(eco), normalize_name(eco, aff.package.name)
                    slim = {k: v for k, v in entry.items() if k != "versions"}
                    versions = "\n".join(aff.versions) if all("\n" not in v for v in aff.versions) else ""
                    if not versions:
                        slim = entry
                    rows.append((key, normalize_ecosystem(eco), name, rid, _dumps(slim), versions))
            db.executemany(
                "INSERT INTO affected (ecosystem, ecosystem_name, name, rid, entry, versions) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return 0 if prev is not None else 1

    def _score(self, vectors: Iterable[str]) -> None:
        """Compute and store the CVSS score of each vector not stored yet (the ``cvss`` library, once per vector)."""
        from lockgate.vulndb.severity import compute_score

        rows = []
        for v in vectors:
            if v not in self._scored:
                self._scored.add(v)
                scored = compute_score(v)
                rows.append((v, *(scored or ("", 0.0))))
        if rows:
            self._db.executemany("INSERT OR IGNORE INTO cvss (vector, version, score) VALUES (?, ?, ?)", rows)

    def _score_stored(self) -> None:
        """Score every vector of the advisories and NVD metrics already in the database."""
        for (doc,) in self._db.execute("SELECT doc FROM advisories"):
            self._score(_doc_vectors(json.loads(doc)))
        for (doc,) in self._db.execute("SELECT doc FROM nvd"):
            self._score(str(m.get("vector", "")) for m in json.loads(doc))

    def discard(self) -> None:
        """Throw the temporary file away; the live database is untouched."""
        self._done = True
        with contextlib.suppress(Exception):  # closing a connection we are abandoning
            self._db.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self._tmp}{suffix}").unlink(missing_ok=True)

    def commit(self) -> None:
        """Finish the build and atomically replace the live database."""
        db = self._db
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('built_at', ?)", (_now().isoformat(),))
        db.commit()
        db.execute("ANALYZE")
        db.commit()
        db.close()
        with open(self._tmp, "rb") as f:
            os.fsync(f.fileno())
        self._tmp.chmod(0o644)
        self._tmp.replace(self.path)
        self._done = True


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _cvss_entries(severity: Any) -> Iterator[str]:
    if isinstance(severity, list):
        for s in severity:
            if isinstance(s, Mapping) and str(s.get("type")) in CVSS_TYPES:
                yield str(s.get("score", ""))


def _doc_vectors(doc: Mapping[str, Any]) -> Iterator[str]:
    """The CVSS vectors severity rating reads from an OSV document: its own and its ``affected[]`` entries'."""
    yield from _cvss_entries(doc.get("severity"))
    for entry in doc.get("affected") or ():
        if isinstance(entry, Mapping):
            yield from _cvss_entries(entry.get("severity"))


def _metric(m: NvdMetric) -> dict[str, Any]:
    return {"version": m.version, "vector": m.vector, "source": m.source, "primary": m.primary}


DEFAULT_MAX_AGE = _dt.timedelta(days=7)
"""Default ``--db-max-age``: scans refuse a database older than this."""
WARN_AGE = _dt.timedelta(hours=24)
"""``db status`` warns past this age."""


def database_age(store: Store, now: _dt.datetime | None = None) -> _dt.timedelta:
    """Time since the database was last built or updated."""
    return (now or _now()) - store.built_at


def check_fresh(
    store: Store, max_age: _dt.timedelta = DEFAULT_MAX_AGE, now: _dt.datetime | None = None
) -> _dt.timedelta:
    """Return the database age, or raise :class:`InputError` when it is older than ``max_age``."""
    age = database_age(store, now)
    if age > max_age:
        raise InputError(
            f"advisory database {store.path} is {format_age(age)} old, older than --db-max-age "
            f"{format_age(max_age)}; run `lockgate db update` (or raise --db-max-age)"
        )
    return age


def format_age(age: _dt.timedelta) -> str:
    """A short human age: ``3d 4h``, ``5h 2m``, ``40s``."""
    secs = int(age.total_seconds())
    if secs < 0:
        return "0s"
    d, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m}m"
    return f"{m}m {s}s" if m else f"{s}s"


def iter_feed_locations(path: Path) -> Iterator[FeedInfo]:
    """Feeds of the database at ``path``; nothing when it does not exist yet."""
    if not Path(path).is_file():
        return
    with Store(path) as s:
        yield from s.feeds()
