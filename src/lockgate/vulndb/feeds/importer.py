"""``db import``: detect each path's format, convert its records and build the database atomically.

A path may be an OSV directory (recursive), zip or file, an Alpine secdb JSON/YAML file or
directory, a Debian DSA/DLA/DTSA ``list`` file, a Debian tracker JSON, an NVD CVE 2.0 JSON,
or a directory mixing these: the format is detected per document. Records that fail
validation are reported (file and reason) and skipped; everything else lands in one new
database file that replaces the old one only when every path was read.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockgate.config import Limits
from lockgate.errors import InputError, NotFoundError
from lockgate.vulndb.feeds import alpine, debian, nvd
from lockgate.vulndb.model import Advisory
from lockgate.vulndb.osv.ingest import (
    DOC_SUFFIXES,
    GZ_DOC_SUFFIXES,
    ImportIssue,
    advisories_from_document,
    decode_document,
    is_osv_document,
    iter_documents,
)
from lockgate.vulndb.store import NvdRecord, StoreBuilder


@dataclass(frozen=True, slots=True)
class FeedSummary:
    """What one path contributed."""

    location: str
    kinds: tuple[str, ...]
    records: int
    issues: tuple[ImportIssue, ...]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """Result of one ``db import`` run."""

    db_path: Path
    feeds: tuple[FeedSummary, ...] = field(default_factory=tuple)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.feeds)

    @property
    def issues(self) -> tuple[ImportIssue, ...]:
        return tuple(i for f in self.feeds for i in f.issues)


def _mtime(path: Path) -> str:
    ts = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iter_inputs(path: Path, limits: Limits, issues: list[ImportIssue]) -> Iterator[tuple[str, bytes]]:
    """Documents and ``list`` files under ``path``."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if any(part.startswith(".") for part in rel.parts) or not p.is_file():
                continue
            if p.name == "list" or p.name.lower().endswith(DOC_SUFFIXES + GZ_DOC_SUFFIXES):
                yield from iter_documents(p, limits, issues)
        return
    yield from iter_documents(path, limits, issues)


def iter_records(
    path: Path, limits: Limits, issues: list[ImportIssue], kinds: set[str]
) -> Iterator[Advisory | NvdRecord]:
    """Every valid record under ``path``, whatever its format; problems go to ``issues``."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path}: no such file or directory")
    secdb: list[tuple[str, Any]] = []
    for where, data in _iter_inputs(path, limits, issues):
        if not where.lower().endswith(DOC_SUFFIXES + GZ_DOC_SUFFIXES):
            text = data.decode("utf-8", errors="replace")
            if debian.is_debian_list(text):
                kinds.add("debian-list")
                yield from debian.parse_list(text, where, issues)
                continue
        try:
            doc = decode_document(data, where, limits)
        except InputError as e:
            issues.append(ImportIssue(where, str(e)))
            continue
        if alpine.is_secdb(doc):
            kinds.add("alpine-secdb")
            secdb.append((where, doc))
        elif nvd.is_nvd(doc):
            kinds.add("nvd")
            yield from nvd.parse_nvd(doc, where, issues)
        elif is_osv_document(doc):
            kinds.add("osv")
            yield from advisories_from_document(doc, where, issues)
        elif debian.is_tracker_json(doc):
            kinds.add("debian-tracker")
            yield from debian.parse_tracker(doc, where, issues, modified=_mtime(path))
        else:
            issues.append(ImportIssue(where, "not an OSV, Alpine secdb, Debian tracker or NVD document"))
    if secdb:
        yield from alpine.convert(secdb, issues, modified=_mtime(path))


def import_paths(
    db_path: Path, paths: list[Path], *, replace: bool = False, limits: Limits | None = None
) -> ImportSummary:
    """Import ``paths`` into the database at ``db_path`` (added to it, or replacing it with ``replace``)."""
    lim = limits or Limits()
    feeds = []
    with StoreBuilder(db_path, replace=replace) as builder:
        for p in paths:
            issues: list[ImportIssue] = []
            kinds: set[str] = set()
            location = str(Path(p).resolve())
            n = builder.add_feed(location, iter_records(Path(p), lim, issues, kinds))
            kind = ",".join(sorted(kinds)) or "unknown"
            builder.update_feed(location, kind=kind, invalid=len(issues))
            feeds.append(FeedSummary(location, tuple(sorted(kinds)), n, tuple(issues)))
    return ImportSummary(Path(db_path), tuple(feeds))
