"""The rpm analyser: finds the database, picks the reader by magic, decodes headers.

Paths: ``var/lib/rpm/{Packages,Packages.db,rpmdb.sqlite}`` and the same names under
``usr/lib/sysimage/rpm/`` (openSUSE, Fedora >= 36). A corrupt blob costs one package
(counted in one gap); a corrupt database structure keeps what was read before it.
"""

from __future__ import annotations

from collections.abc import Iterator

from lockgate.errors import InputError
from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, EntryHint, FileEntry
from lockgate.inventory.model import Package
from lockgate.inventory.os.rpm import bdb, ndb, sqlite
from lockgate.inventory.os.rpm.header import RpmHeader, parse_header, split_source_rpm

RPM_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/")
RPM_FILES = ("Packages", "Packages.db", "rpmdb.sqlite")
RPMDB_PATHS = frozenset(d + f for d in RPM_DIRS for f in RPM_FILES)


def _blobs(data: bytes) -> Iterator[bytes]:
    if sqlite.is_sqlite(data):
        return sqlite.iter_blobs(data)
    if ndb.is_ndb(data):
        return ndb.iter_blobs(data)
    if bdb.is_bdb_hash(data):
        return bdb.iter_blobs(data)
    if not data:
        raise InputError("rpm database is empty")
    raise InputError("unknown rpm database format")


def to_package(h: RpmHeader, path: str, layer: str = "") -> Package:
    """Map a decoded header to a :class:`Package` (version ``[E:]V-R``)."""
    src_name, src_version, src_release = split_source_rpm(h.source_rpm)
    source_version = ""
    if src_name:
        source_version = f"{src_version}-{src_release}"
        if h.epoch:
            source_version = f"{h.epoch}:{source_version}"
    meta = [
        ("release", h.release),
        ("epoch", "" if h.epoch is None else str(h.epoch)),
        ("source_rpm", h.source_rpm),
        ("vendor", h.vendor),
        ("modularity_label", h.modularity_label),
    ]
    return Package(
        ecosystem="rpm",
        name=h.name,
        version=h.evr,
        source_name=src_name,
        source_version=source_version,
        licenses=(h.license,) if h.license else (),  # rpm spec licences are kept as declared
        arch=h.arch,
        path=path,
        layer=layer,
        metadata=tuple(sorted((k, v) for k, v in meta if v)),
    )


def read_rpmdb(data: bytes, path: str, layer: str = "") -> tuple[list[Package], list[CoverageGap]]:
    """Read any of the three rpm database formats; never raises for bad content."""
    packages: list[Package] = []
    gaps: list[CoverageGap] = []
    bad_headers = 0
    first_error = ""
    try:
        for blob in _blobs(data):
            try:
                header = parse_header(blob)
            except InputError as exc:
                bad_headers += 1
                first_error = first_error or str(exc)
                continue
            packages.append(to_package(header, path, layer))
    except InputError as exc:
        gaps.append(CoverageGap(path, f"rpm database unreadable: {exc}", layer))
    except (IndexError, ValueError, OverflowError, MemoryError) as exc:  # struct errors on truncated input
        gaps.append(CoverageGap(path, f"rpm database unreadable: {type(exc).__name__}: {exc}", layer))
    if bad_headers:
        gaps.append(CoverageGap(path, f"{bad_headers} rpm header(s) unreadable ({first_error})", layer))
    return packages, gaps


class RpmAnalyzer:
    """Installed rpm packages from BerkeleyDB, NDB or SQLite rpm databases."""

    name = "rpm"
    version = 2
    needs_content = True
    squash = True
    entry_hint = EntryHint(paths=RPMDB_PATHS)
    max_size: int | None = 1024 * 1024 * 1024

    def required(self, entry: FileEntry) -> bool:
        return entry.path in RPMDB_PATHS

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        pkgs, gaps = read_rpmdb(content, entry.path, entry.layer)
        return AnalysisResult(packages=tuple(pkgs), gaps=tuple(gaps))
