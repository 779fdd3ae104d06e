"""Debian security tracker feeds converted to OSV-shaped advisories (``Debian:<version>`` ecosystems).

Two inputs:

- the DSA/DLA/DTSA ``list`` files (one header line per advisory, then ``{CVE ...}`` and
  ``[release] - source-package version (notes)`` lines); one advisory per DSA/DLA id;
- the tracker JSON (``{package: {CVE: {releases: {codename: {status, fixed_version,
  urgency}}}}}``); one advisory ``DEBIAN-<CVE>`` per CVE, one ``affected`` entry per
  package and release.

The list format has no published grammar or parser library, hence this small hand-written one.
Fixed versions become ``introduced 0 / fixed V`` ranges; ``<unfixed>`` and ``<end-of-life>``
become open ranges with ``database_specific.status``; ``<not-affected>`` is left out. The
tracker's urgency (``low``/``medium``/``high``/``unimportant``) is kept in
``ecosystem_specific.urgency``: it is the distro's own rating used for severity.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from lockgate.vulndb.model import DEBIAN_CODENAMES, Advisory, Affected, Event, PackageRef, Range
from lockgate.vulndb.osv.ingest import ImportIssue

_HEADER = re.compile(r"^\[(?P<date>[^\]]+)\]\s+(?P<id>(?:DSA|DLA|DTSA)-\d+(?:-\d+)?)\s*(?P<rest>.*)$")
_RELEASE = re.compile(r"^\[(?P<rel>[a-z][a-z0-9-]*)\]\s+-\s+(?P<pkg>\S+)\s+(?P<ver>\S+)\s*(?:\((?P<note>.*)\))?\s*$")
_CVES = re.compile(r"^\{(?P<ids>[^}]*)\}\s*$")
_DPKG_VERSION = re.compile(r"^(?:\d+:)?\d[A-Za-z0-9.+~:-]*$")
_URGENCIES = ("unimportant", "low", "medium", "high")
_STATUS_WORDS = {"<unfixed>": "unfixed", "<end-of-life>": "end-of-life"}


def debian_ecosystem(codename: str) -> str | None:
    """``bullseye`` -> ``Debian:11``; None for codenames we do not know."""
    version = DEBIAN_CODENAMES.get(codename.lower())
    return f"Debian:{version}" if version else None


def is_debian_list(text: str) -> bool:
    """True when ``text`` starts like a DSA/DLA/DTSA list file."""
    for line in text.splitlines()[:5]:
        if line.strip():
            return bool(_HEADER.match(line))
    return False


@functools.lru_cache(maxsize=8192)
def _parse_date(text: str) -> str:
    t = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", text.strip())
    for fmt in ("%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y"):
        try:
            return _dt.datetime.strptime(t, fmt).replace(tzinfo=_dt.UTC).strftime("%Y-%m-%dT00:00:00Z")
        except ValueError:
            continue
    return ""


def _urgency(note: str) -> str:
    words = re.split(r"[\s;,()]+", note.lower())
    return next((w for w in words if w in _URGENCIES), "")


class _Pending:
    __slots__ = ("affected", "aliases", "id", "line", "published", "summary")

    def __init__(self, adv_id: str, published: str, summary: str, line: int) -> None:
        self.id = adv_id
        self.published = published
        self.summary = summary
        self.line = line
        self.aliases: list[str] = []
        self.affected: list[Affected] = []

    def build(self) -> Advisory:
        return Advisory(
            id=self.id,
            modified=self.published or "1970-01-01T00:00:00Z",
            source="debian-" + self.id.partition("-")[0].lower(),
            published=self.published,
            aliases=tuple(dict.fromkeys(self.aliases)),
            summary=self.summary,
            affected=tuple(self.affected),
            references=(),
        )


def parse_list(text: str, where: str, issues: list[ImportIssue]) -> Iterator[Advisory]:
    """Advisories of a DSA/DLA/DTSA list file; unusable lines are reported and skipped."""
    current: _Pending | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if not raw[0].isspace():
            if current is not None:
                yield current.build()
                current = None
            m = _HEADER.match(line)
            if m is None:
                issues.append(ImportIssue(f"{where}:{lineno}", f"unrecognised advisory header {line[:60]!r}"))
                continue
            published = _parse_date(m["date"])
            if not published:
                issues.append(ImportIssue(f"{where}:{lineno}", f"{m['id']}: unparseable date {m['date']!r}"))
            rest = m["rest"].strip()
            pkgs, sep, title = rest.partition(" - ")
            summary = f"{' '.join(pkgs.split())} - {title.strip()}" if sep else rest
            current = _Pending(m["id"], published, summary, lineno)
            continue
        if current is None:
            issues.append(ImportIssue(f"{where}:{lineno}", "indented line before any advisory header"))
            continue
        if line.startswith("NOTE:"):
            continue
        if cm := _CVES.match(line):
            current.aliases.extend(t for t in cm["ids"].split() if t)
            continue
        rm = _RELEASE.match(line)
        if rm is None:
            issues.append(ImportIssue(f"{where}:{lineno}", f"{current.id}: unrecognised line {line[:60]!r}"))
            continue
        eco = debian_ecosystem(rm["rel"])
        if eco is None:
            issues.append(ImportIssue(f"{where}:{lineno}", f"{current.id}: unknown Debian release {rm['rel']!r}"))
            continue
        ver, note = rm["ver"], rm["note"] or ""
        if ver == "<not-affected>":
            continue
        ecosystem_specific = {"urgency": u} if (u := _urgency(note)) else {}
        if ver in _STATUS_WORDS:
            rng = Range("ECOSYSTEM", (Event("introduced", "0"),))
            dbs: dict[str, Any] = {"status": _STATUS_WORDS[ver]}
        elif _DPKG_VERSION.match(ver):
            rng = Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", ver)))
            dbs = {}
        else:
            issues.append(ImportIssue(f"{where}:{lineno}", f"{current.id}: {ver!r} is not a Debian version"))
            continue
        current.affected.append(
            Affected(
                package=PackageRef(eco, rm["pkg"]),
                ranges=(rng,),
                ecosystem_specific=ecosystem_specific,
                database_specific=dbs,
            )
        )
    if current is not None:
        yield current.build()


def is_tracker_json(doc: Any) -> bool:
    """True for the tracker JSON shape ``{package: {CVE: {releases: {...}}}}``."""
    if not isinstance(doc, Mapping) or not doc:
        return False
    first = next(iter(doc.values()))
    if not isinstance(first, Mapping) or not first:
        return False
    rec = next(iter(first.values()))
    return isinstance(rec, Mapping) and "releases" in rec


def parse_tracker(
    doc: Mapping[str, Any], where: str, issues: list[ImportIssue], *, modified: str
) -> Iterator[Advisory]:
    """One ``DEBIAN-<CVE>`` advisory per vulnerability id from the tracker JSON."""
    by_id: dict[str, list[Affected]] = {}
    descriptions: dict[str, str] = {}
    for pkg, vulns in doc.items():
        if not isinstance(vulns, Mapping):
            issues.append(ImportIssue(f"{where}:{pkg}", "package entry is not a mapping"))
            continue
        for vid, rec in vulns.items():
            label = f"{where}:{pkg}/{vid}"
            if not isinstance(rec, Mapping) or not isinstance(rec.get("releases"), Mapping):
                issues.append(ImportIssue(label, "missing 'releases' mapping"))
                continue
            if isinstance(rec.get("description"), str):
                descriptions.setdefault(vid, rec["description"])
            entries = by_id.setdefault(vid, [])
            for codename, rel in rec["releases"].items():
                aff = _tracker_affected(str(pkg), str(codename), rel, label, issues)
                if aff is not None:
                    entries.append(aff)
    for vid, affected in by_id.items():
        yield Advisory(
            id=f"DEBIAN-{vid}",
            modified=modified,
            source="debian-tracker",
            aliases=(vid,),
            details=descriptions.get(vid, ""),
            affected=tuple(affected),
        )


def _tracker_affected(pkg: str, codename: str, rel: Any, label: str, issues: list[ImportIssue]) -> Affected | None:
    eco = debian_ecosystem(codename)
    if eco is None:
        if codename not in ("sid", "experimental"):
            issues.append(ImportIssue(label, f"unknown Debian release {codename!r}"))
        return None
    if not isinstance(rel, Mapping):
        issues.append(ImportIssue(label, f"release {codename} is not a mapping"))
        return None
    status = str(rel.get("status", ""))
    fixed = rel.get("fixed_version")
    urgency = str(rel.get("urgency", "")).rstrip("*").strip()
    es: dict[str, Any] = {"urgency": urgency} if urgency else {}
    ds: dict[str, Any] = {"status": status} if status else {}
    if rel.get("nodsa_reason"):
        ds["nodsa_reason"] = str(rel["nodsa_reason"])
    if status == "resolved":
        if not isinstance(fixed, str) or not fixed:
            issues.append(ImportIssue(label, f"{codename}: resolved without a fixed_version"))
            return None
        if fixed == "0":  # never affected in this release
            return None
        if not _DPKG_VERSION.match(fixed):
            issues.append(ImportIssue(label, f"{codename}: {fixed!r} is not a Debian version"))
            return None
        rng = Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", fixed)))
    elif status in ("open", "undetermined"):
        rng = Range("ECOSYSTEM", (Event("introduced", "0"),))
    else:
        issues.append(ImportIssue(label, f"{codename}: unknown status {status!r}"))
        return None
    return Affected(package=PackageRef(eco, pkg), ranges=(rng,), ecosystem_specific=es, database_specific=ds)
