"""``db update``: download OSV's per-ecosystem ``<source>/<ecosystem>/all.zip`` and import it.

- Conditional requests: the ETag / Last-Modified of the last import are kept in the feed
  metadata and sent as ``If-None-Match`` / ``If-Modified-Since``; a 304 keeps the data.
- Resumable: bytes stream into ``<ecosystem>.zip.part`` next to a small JSON sidecar with
  the validators; after a cut-off (in this run or a previous one) the download continues
  with ``Range`` + ``If-Range``, and starts over if the server answers 200.
- Atomic: all archives are downloaded first, then one new database file is built and
  swapped in, so a failed download or import leaves the old database as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import httpx

from lockgate.config import Limits
from lockgate.errors import InputError, IntegrityError, LimitExceededError, NotFoundError, UnavailableError
from lockgate.vulndb.feeds.importer import iter_records
from lockgate.vulndb.osv.ingest import ImportIssue
from lockgate.vulndb.store import FeedInfo, StoreBuilder, iter_feed_locations

DEFAULT_SOURCE = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("PyPI", "npm", "Go", "Maven", "RubyGems", "crates.io", "NuGet", "Packagist", "Debian", "Alpine")
MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What happened to one ecosystem."""

    ecosystem: str
    url: str
    status: str
    """``updated`` or ``not-modified``."""
    records: int = 0
    issues: tuple[ImportIssue, ...] = ()
    downloaded_bytes: int = 0
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class _Download:
    ecosystem: str
    url: str
    path: Path | None
    etag: str
    last_modified: str
    downloaded: int
    resumed: bool


def archive_url(source: str, ecosystem: str) -> str:
    """``<source>/<ecosystem>/all.zip`` with the ecosystem URL-quoted."""
    return f"{source.rstrip('/')}/{quote(ecosystem, safe='')}/all.zip"


def _safe_name(ecosystem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", ecosystem)


def _download(
    client: httpx.Client, ecosystem: str, url: str, feed: FeedInfo | None, work: Path, retries: int
) -> _Download:
    part = work / f"{_safe_name(ecosystem)}.zip.part"
    side = work / f"{_safe_name(ecosystem)}.zip.part.json"
    final = work / f"{_safe_name(ecosystem)}.zip"
    downloaded = 0
    resumed = False
    attempt = 0
    while True:
        attempt += 1
        headers: dict[str, str] = {}
        validators: dict[str, str] = {}
        have = part.stat().st_size if part.is_file() else 0
        if have and side.is_file():
            try:
                validators = json.loads(side.read_text())
            except (OSError, ValueError):
                validators = {}
        if have and validators.get("url") == url and (validators.get("etag") or validators.get("last_modified")):
            headers["Range"] = f"bytes={have}-"
            headers["If-Range"] = validators.get("etag") or validators["last_modified"]
        else:
            have = 0
            if feed is not None and feed.etag:
                headers["If-None-Match"] = feed.etag
            if feed is not None and feed.last_modified:
                headers["If-Modified-Since"] = feed.last_modified
        try:
            with client.stream("GET", url, headers=headers) as resp:
                if resp.status_code == 304:
                    return _Download(ecosystem, url, None, feed.etag if feed else "", "", 0, False)
                if resp.status_code == 404:
                    raise NotFoundError(f"no OSV archive for ecosystem {ecosystem!r} at {url}")
                if resp.status_code == 416:
                    part.unlink(missing_ok=True)
                    side.unlink(missing_ok=True)
                    continue
                if resp.status_code not in (200, 206):
                    raise UnavailableError(f"GET {url}: HTTP {resp.status_code}")
                etag = resp.headers.get("ETag", "")
                last_modified = resp.headers.get("Last-Modified", "")
                if resp.status_code == 206:
                    m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
                    if m is None or int(m.group(1)) != have:
                        raise IntegrityError(f"GET {url}: server resumed at the wrong offset")
                    mode = "ab"
                    resumed = True
                else:
                    mode = "wb"
                    have = 0
                side.write_text(json.dumps({"url": url, "etag": etag, "last_modified": last_modified}))
                with open(part, mode) as f:
                    for chunk in resp.iter_bytes():
                        have += len(chunk)
                        downloaded += len(chunk)
                        if have > MAX_ARCHIVE_BYTES:
                            raise LimitExceededError(f"{url} is larger than {MAX_ARCHIVE_BYTES} bytes")
                        f.write(chunk)
                total = resp.headers.get("Content-Length")
                if total is not None and resp.status_code == 200 and int(total) != have:
                    raise httpx.ReadError("short body")
        except (httpx.TransportError, httpx.DecodingError) as e:
            if attempt > retries:
                raise UnavailableError(f"GET {url}: {type(e).__name__}: {e} (the partial download is kept)") from None
            time.sleep(min(0.2 * 2**attempt, 5.0))
            continue
        if not zipfile.is_zipfile(part):
            part.unlink(missing_ok=True)
            side.unlink(missing_ok=True)
            raise IntegrityError(f"GET {url}: the downloaded file is not a zip archive")
        part.replace(final)
        side.unlink(missing_ok=True)
        return _Download(ecosystem, url, final, etag, last_modified, downloaded, resumed)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def update(
    db_path: Path,
    *,
    source: str = DEFAULT_SOURCE,
    ecosystems: Sequence[str] | None = None,
    work_dir: Path | None = None,
    limits: Limits | None = None,
    timeout: float = 60.0,
    retries: int = 3,
) -> tuple[UpdateResult, ...]:
    """Bring the OSV ecosystems in ``db_path`` up to date from ``source``; returns one result each."""
    if not source.startswith(("http://", "https://")):
        raise InputError(f"--source must be an http(s) URL, not {source!r}")
    lim = limits or Limits()
    feeds = {f.location: f for f in iter_feed_locations(db_path)}
    ecos = list(ecosystems or [])
    if not ecos:
        prefix = source.rstrip("/") + "/"
        ecos = [
            f.location[len(prefix) : -len("/all.zip")]
            for f in feeds.values()
            if f.location.startswith(prefix) and f.location.endswith("/all.zip")
        ]
        ecos = [unquote(e) for e in ecos] or list(DEFAULT_ECOSYSTEMS)
    work = work_dir or Path(db_path).parent / "downloads"
    work.mkdir(parents=True, exist_ok=True)
    downloads = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for eco in dict.fromkeys(ecos):
            url = archive_url(source, eco)
            downloads.append(_download(client, eco, url, feeds.get(url), work, retries))
    results = []
    with StoreBuilder(db_path) as builder:
        for d in downloads:
            if d.path is None:
                results.append(UpdateResult(d.ecosystem, d.url, "not-modified"))
                continue
            issues: list[ImportIssue] = []
            kinds: set[str] = set()
            n = builder.add_feed(
                d.url,
                iter_records(d.path, lim, issues, kinds),
                kind="osv",
                etag=d.etag,
                last_modified=d.last_modified,
                sha256=_sha256(d.path),
            )
            builder.update_feed(d.url, invalid=len(issues))
            results.append(UpdateResult(d.ecosystem, d.url, "updated", n, tuple(issues), d.downloaded, d.resumed))
    for d in downloads:
        if d.path is not None:
            d.path.unlink(missing_ok=True)
    return tuple(results)
