"""On-disk cache of per-layer analysis results (SQLite, bounded, least-recently-used eviction).

Keys are (verified compressed layer digest, diff_id lockgate computed itself while
streaming, analyser name, analyser version, size cap). The config's diff_id claims are
never part of a key, so a config that lies cannot inherit another layer's results. The
``layers`` table remembers digest -> computed diff_id, which lets a warm re-scan skip
every layer read. The cache is an optimisation only: a damaged database is deleted and
rebuilt, and a failing cache never fails a scan.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lockgate.config import Settings
from lockgate.fs.analysis import Items, LayerIndex, items_from_json, items_to_json

SCHEMA_VERSION = 1
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
"""Default size bound of the cache database's payloads (1 GiB)."""
TOUCH_AFTER = 3600.0
"""Seconds before a read refreshes an entry's last-used time (the eviction order's resolution).

A warm scan that finds its entries used within the hour writes nothing: no write transaction,
no WAL to checkpoint when the connection closes (an fsync, ~10 ms of every warm run)."""
INDEX_KEY = "__index__"
INDEX_VERSION = 1
_DB_NAME = "layers.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS layers (
    digest TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    used REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    digest TEXT NOT NULL,
    diff_id TEXT NOT NULL,
    analyzer TEXT NOT NULL,
    version INTEGER NOT NULL,
    params TEXT NOT NULL,
    data BLOB NOT NULL,
    size INTEGER NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (digest, diff_id, analyzer, version, params)
);
CREATE INDEX IF NOT EXISTS results_used ON results(used);
"""


def _encode(obj: Any) -> bytes:
    return zlib.compress(json.dumps(obj, separators=(",", ":")).encode("utf-8", "surrogatepass"), 3)


def _decode(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob).decode("utf-8", "surrogatepass"))


class LayerCache:
    """Per-layer results on disk. Thread-safe; several processes may share one directory."""

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES, touch_after: float = TOUCH_AFTER) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.touch_after = touch_after
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def for_settings(cls, settings: Settings, max_bytes: int = DEFAULT_MAX_BYTES) -> LayerCache:
        """The cache under ``settings.layer_cache_dir`` (emptied by ``lockgate cache clean``)."""
        return cls(settings.layer_cache_dir, max_bytes)

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / _DB_NAME
        for attempt in range(2):
            try:
                conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # a cache: losing the last write on power loss is fine
                if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                    conn.executescript(
                        "DROP TABLE IF EXISTS layers; DROP TABLE IF EXISTS results;"
                        + _SCHEMA
                        + f"PRAGMA user_version={SCHEMA_VERSION};"
                    )
                self._conn = conn
                return conn
            except sqlite3.DatabaseError:
                if attempt:
                    raise
                for suffix in ("", "-wal", "-shm"):
                    (self.directory / (_DB_NAME + suffix)).unlink(missing_ok=True)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _safe(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(conn, *args)`` under the lock; cache failures become misses."""
        with self._lock:
            try:
                return fn(self._connect(), *args)
            except (sqlite3.Error, OSError, ValueError, KeyError, TypeError, zlib.error):
                return None

    # -- digest -> diff_id ------------------------------------------------------------------
    def diff_id(self, digest: str) -> str | None:
        """The diff_id lockgate computed for the layer blob ``digest``, if it has seen it."""

        def q(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT diff_id FROM layers WHERE digest=?", (digest,)).fetchone()
            return str(row[0]) if row else None

        result: str | None = self._safe(q)
        return result

    # -- results ----------------------------------------------------------------------------
    def get_index(self, digest: str, diff_id: str) -> LayerIndex | None:
        data = self._get(digest, diff_id, INDEX_KEY, INDEX_VERSION, "")
        if data is None:
            return None
        try:
            return LayerIndex.from_dict(data)
        except (KeyError, TypeError, ValueError):
            return None

    def get_results(self, digest: str, diff_id: str, name: str, version: int, params: str) -> Items | None:
        data = self._get(digest, diff_id, name, version, params)
        if data is None:
            return None
        try:
            return items_from_json(data)
        except (KeyError, TypeError, ValueError):
            return None

    def lookup(
        self, digest: str, keys: Sequence[tuple[str, int, str]]
    ) -> tuple[str, LayerIndex | None, dict[str, Items]] | None:
        """Everything cached for one layer in one transaction: ``(diff_id, index, results)``.

        Same answers and ``used`` updates as :meth:`diff_id`, :meth:`get_index` and
        :meth:`get_results` called one by one, but one read transaction instead of one per
        analyser (a warm scan does this per layer), and a write only for entries whose last use
        is older than :attr:`touch_after`. ``keys`` are ``(name, version, params)``;
        ``results`` holds those found. None when the layer was never seen.
        """

        def q(conn: sqlite3.Connection) -> tuple[str, dict[tuple[str, int, str], bytes]] | None:
            conn.execute("BEGIN")  # read only: a consistent snapshot of the layer's rows
            try:
                row = conn.execute("SELECT diff_id FROM layers WHERE digest=?", (digest,)).fetchone()
                if row is None:
                    conn.execute("COMMIT")
                    return None
                known = str(row[0])
                wanted = {(INDEX_KEY, INDEX_VERSION, ""), *keys}
                found: dict[tuple[str, int, str], bytes] = {}
                stale: list[tuple[str, int, str]] = []
                now = time.time()
                for name, version, params, data, used in conn.execute(
                    "SELECT analyzer, version, params, data, used FROM results WHERE digest=? AND diff_id=?",
                    (digest, known),
                ):
                    if (name, version, params) in wanted:
                        found[(name, version, params)] = data
                        if used < now - self.touch_after:
                            stale.append((name, version, params))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if stale:  # a separate write: upgrading the read above could fail against a concurrent writer
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(
                        "UPDATE results SET used=? WHERE digest=? AND diff_id=? AND analyzer=? AND version=?"
                        " AND params=?",
                        [(now, digest, known, n, v, p) for n, v, p in stale],
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            return known, found

        got: tuple[str, dict[tuple[str, int, str], bytes]] | None = self._safe(q)
        if got is None:
            return None
        known, found = got
        index: LayerIndex | None = None
        blob = found.get((INDEX_KEY, INDEX_VERSION, ""))
        if blob is not None:
            try:
                index = LayerIndex.from_dict(_decode(blob))
            except (KeyError, TypeError, ValueError, zlib.error):
                index = None
        results: dict[str, Items] = {}
        for key in keys:
            blob = found.get(key)
            if blob is None:
                continue
            try:
                results[key[0]] = items_from_json(_decode(blob))
            except (KeyError, TypeError, ValueError, zlib.error):
                continue
        return known, index, results

    def _get(self, digest: str, diff_id: str, name: str, version: int, params: str) -> Any:
        def q(conn: sqlite3.Connection) -> Any:
            row = conn.execute(
                "SELECT data FROM results WHERE digest=? AND diff_id=? AND analyzer=? AND version=? AND params=?",
                (digest, diff_id, name, version, params),
            ).fetchone()
            if row is None:
                return None
            now = time.time()
            conn.execute(
                "UPDATE results SET used=? WHERE digest=? AND diff_id=? AND analyzer=? AND version=? AND params=?"
                " AND used<?",
                (now, digest, diff_id, name, version, params, now - self.touch_after),
            )
            return _decode(row[0])

        return self._safe(q)

    def put(
        self,
        digest: str,
        diff_id: str,
        index: LayerIndex,
        results: Sequence[tuple[str, int, str, Items]],
    ) -> None:
        """Store a fully read layer: its index and ``(name, version, params, items)`` per analyser."""
        now = time.time()
        rows = [(INDEX_KEY, INDEX_VERSION, "", _encode(index.to_dict()))]
        rows += [(n, v, p, _encode(items_to_json(items))) for n, v, p, items in results]

        def q(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR REPLACE INTO layers VALUES (?,?,?)", (digest, diff_id, now))
                conn.executemany(
                    "INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?)",
                    [(digest, diff_id, n, v, p, blob, len(blob), now) for n, v, p, blob in rows],
                )
                self._evict(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        self._safe(q)

    def _evict(self, conn: sqlite3.Connection) -> None:
        total = conn.execute("SELECT COALESCE(SUM(size), 0) FROM results").fetchone()[0]
        if total <= self.max_bytes:
            return
        target = int(self.max_bytes * 0.8)
        doomed: list[tuple[str, str, str, int, str]] = []
        for digest, diff_id, name, version, params, size in conn.execute(
            "SELECT digest, diff_id, analyzer, version, params, size FROM results ORDER BY used ASC"
        ):
            if total <= target:
                break
            doomed.append((digest, diff_id, name, version, params))
            total -= size
        conn.executemany(
            "DELETE FROM results WHERE digest=? AND diff_id=? AND analyzer=? AND version=? AND params=?", doomed
        )
        conn.execute("DELETE FROM layers WHERE digest NOT IN (SELECT DISTINCT digest FROM results)")

    def total_bytes(self) -> int:
        """Payload bytes currently stored."""
        n = self._safe(lambda c: c.execute("SELECT COALESCE(SUM(size), 0) FROM results").fetchone()[0])
        return int(n or 0)
