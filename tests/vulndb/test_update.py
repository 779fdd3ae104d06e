"""``db update`` against a local HTTP server serving zips built here from corpus records.

The server (stdlib ``http.server`` on 127.0.0.1, random port) is a stand-in for OSV's public
bucket, which cannot be reached from the test environment: it serves ``/<ecosystem>/all.zip``
with an ETag and Last-Modified, answers conditional requests with 304 and ``Range`` +
``If-Range`` with 206, and can cut a download off after N bytes once.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lockgate.errors import NotFoundError, UnavailableError
from lockgate.vulndb.feeds.osv_update import update
from lockgate.vulndb.store import Store


class _Bucket:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_after: int | None = None
        self.requests: list[tuple[str, dict[str, str]]] = []

    def etag(self, path: str) -> str:
        return '"' + hashlib.sha256(self.files[path]).hexdigest()[:16] + '"'


def _handler(bucket: _Bucket) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            bucket.requests.append((self.path, headers))
            data = bucket.files.get(self.path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = bucket.etag(self.path)
            if headers.get("if-none-match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            start = 0
            m = re.fullmatch(r"bytes=(\d+)-", headers.get("range", ""))
            if m and headers.get("if-range") == etag:
                start = int(m.group(1))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if bucket.cut_after is not None:
                n, bucket.cut_after = bucket.cut_after, None
                self.wfile.write(body[:n])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return H


@pytest.fixture
def bucket() -> Iterator[tuple[_Bucket, str]]:
    b = _Bucket()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(b))
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield b, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _zip(files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for f in files:
            z.writestr(f.name, f.read_bytes())
    return buf.getvalue()


def _go_files(corpus: Path, n: int, offset: int = 0) -> list[Path]:
    return sorted((corpus / "osv/go").glob("GO-*.json"))[offset : offset + n]


def test_update_then_not_modified(corpus: Path, tmp_path: Path, bucket: tuple[_Bucket, str]) -> None:
    b, url = bucket
    b.files["/Go/all.zip"] = _zip(_go_files(corpus, 40))
    b.files["/PyPI/all.zip"] = _zip(sorted((corpus / "osv/pypi/vulns").rglob("*.yaml"))[:25])
    db = tmp_path / "db" / "lockgate.db"
    first = update(db, source=url, ecosystems=["Go", "PyPI"])
    assert [(r.ecosystem, r.status, r.records) for r in first] == [("Go", "updated", 40), ("PyPI", "updated", 25)]
    with Store(db) as s:
        assert s.advisory_count() == 65
        feeds = {f.location: f for f in s.feeds()}
        assert feeds[f"{url}/Go/all.zip"].etag == b.etag("/Go/all.zip")
        built = s.built_at
    b.requests.clear()
    second = update(db, source=url)  # ecosystems remembered from the feed metadata
    assert [(r.ecosystem, r.status) for r in second] == [("Go", "not-modified"), ("PyPI", "not-modified")]
    assert all(h.get("if-none-match") for _, h in b.requests)
    assert all(h.get("if-modified-since") == "Mon, 01 Jan 2024 00:00:00 GMT" for _, h in b.requests)
    with Store(db) as s:
        assert s.advisory_count() == 65
        assert s.built_at > built
    # new content: new ETag, full download, the feed's records are replaced
    b.files["/Go/all.zip"] = _zip(_go_files(corpus, 10, offset=100))
    third = update(db, source=url, ecosystems=["Go"])
    assert (third[0].status, third[0].records) == ("updated", 10)
    with Store(db) as s:
        assert s.advisory_count() == 35
        assert s.get(_go_files(corpus, 1)[0].stem) == ()
    assert not list((db.parent / "downloads").iterdir())


def test_resume_after_cut_off_in_the_same_run(corpus: Path, tmp_path: Path, bucket: tuple[_Bucket, str]) -> None:
    b, url = bucket
    data = _zip(_go_files(corpus, 60))
    b.files["/Go/all.zip"] = data
    b.cut_after = 5000
    results = update(tmp_path / "t.db", source=url, ecosystems=["Go"])
    assert results[0].resumed
    assert results[0].records == 60
    ranges = [h.get("range") for _, h in b.requests]
    assert ranges == [None, "bytes=5000-"]
    assert results[0].downloaded_bytes == len(data)


def test_resume_across_runs_and_old_db_kept(corpus: Path, tmp_path: Path, bucket: tuple[_Bucket, str]) -> None:
    b, url = bucket
    db = tmp_path / "t.db"
    b.files["/Go/all.zip"] = _zip(_go_files(corpus, 5))
    update(db, source=url, ecosystems=["Go"])
    before = db.read_bytes()
    b.files["/Go/all.zip"] = _zip(_go_files(corpus, 50, offset=5))
    b.cut_after = 3000
    with pytest.raises(UnavailableError, match="partial download is kept"):
        update(db, source=url, ecosystems=["Go"], retries=0)
    assert db.read_bytes() == before  # nothing swapped in
    part = tmp_path / "downloads" / "Go.zip.part"
    assert part.stat().st_size == 3000
    b.requests.clear()
    results = update(db, source=url, ecosystems=["Go"])
    assert results[0].resumed and results[0].records == 50
    assert b.requests[0][1].get("range") == "bytes=3000-"
    with Store(db) as s:
        assert s.advisory_count() == 50


def test_unknown_ecosystem_is_not_found_and_db_unchanged(tmp_path: Path, bucket: tuple[_Bucket, str]) -> None:
    _, url = bucket
    with pytest.raises(NotFoundError, match="no OSV archive"):
        update(tmp_path / "t.db", source=url, ecosystems=["NoSuch"])
    assert not (tmp_path / "t.db").exists()
