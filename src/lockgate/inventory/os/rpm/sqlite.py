"""Header blobs from ``rpmdb.sqlite`` (rpm >= 4.16: Fedora, RHEL 9, CBL-Mariner, Amazon 2023).

The bytes are opened in memory with :meth:`sqlite3.Connection.deserialize`, so nothing
from the image is written to disk. rpm leaves the file in WAL mode; an in-memory
database cannot use WAL, so the copy's header is switched to rollback-journal mode
first (bytes 18-19; the WAL file itself is not part of the snapshot rpm commits).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from lockgate.errors import InputError

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite(data: bytes) -> bool:
    """True when ``data`` starts with the SQLite 3 file magic."""
    return data[:16] == SQLITE_MAGIC


def iter_blobs(data: bytes) -> Iterator[bytes]:
    """Yield the ``blob`` column of the ``Packages`` table in ``hnum`` order."""
    if not is_sqlite(data) or len(data) < 100:
        raise InputError("not an SQLite database")
    image = bytearray(data)
    if image[18] == 2 or image[19] == 2:
        image[18] = image[19] = 1
    conn = sqlite3.connect(":memory:")
    try:
        try:
            conn.deserialize(image)
            conn.execute("PRAGMA query_only = ON")
            conn.execute("PRAGMA cell_size_check = ON")
            conn.execute("PRAGMA trusted_schema = OFF")
            rows = conn.execute("SELECT blob FROM Packages ORDER BY hnum").fetchall()
        except sqlite3.Error as exc:
            raise InputError(f"cannot read rpm SQLite database: {exc}") from None
    finally:
        conn.close()
    for (blob,) in rows:
        if isinstance(blob, bytes | bytearray | memoryview):
            yield bytes(blob)
