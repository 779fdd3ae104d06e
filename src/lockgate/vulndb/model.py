"""Advisory model: OSV-shaped, frozen, shared by every feed, the store and the matcher.

Every feed (OSV, Alpine secdb, Debian tracker) is converted into :class:`Advisory`, using
OSV's ecosystem names (``PyPI``, ``Go``, ``Debian:11``, ``Alpine:v3.11`` ...). ``to_osv``
gives back a plain OSV dict, which is what the store keeps and what range evaluation reads.
Parsing and validation of raw OSV documents lives in :mod:`lockgate.vulndb.osv.model`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from lockgate._internal.structs import PartialEq

DEBIAN_CODENAMES: Mapping[str, str] = {
    "woody": "3.0",
    "sarge": "3.1",
    "etch": "4",
    "lenny": "5",
    "squeeze": "6",
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
}
"""Debian release codename -> version as OSV's ``Debian:<version>`` ecosystems write it."""

_CANONICAL = {
    name.lower(): name
    for name in (
        "PyPI",
        "Go",
        "npm",
        "Maven",
        "RubyGems",
        "crates.io",
        "NuGet",
        "Packagist",
        "Pub",
        "Hex",
        "Hackage",
        "CRAN",
        "SwiftURL",
        "GitHub Actions",
        "Debian",
        "Ubuntu",
        "Alpine",
        "Alpaquita",
        "Rocky Linux",
        "AlmaLinux",
        "Red Hat",
        "SUSE",
        "openSUSE",
        "Photon OS",
        "Mageia",
        "Wolfi",
        "Chainguard",
        "Azure Linux",
        "openEuler",
        "Linux",
        "Android",
        "Bitnami",
        "OSS-Fuzz",
    )
}


@functools.lru_cache(maxsize=4096)
def normalize_ecosystem(ecosystem: str) -> str:
    """Canonical OSV spelling of an ecosystem; a distro release suffix (``Debian:12``) is kept."""
    text = ecosystem.strip()
    base, sep, rest = text.partition(":")
    canon = _CANONICAL.get(base.strip().lower(), base.strip())
    return f"{canon}{sep}{rest.strip()}" if sep else canon


def ecosystem_key(ecosystem: str) -> str:
    """Lookup key for an ecosystem: canonical form, lowercased."""
    return normalize_ecosystem(ecosystem).lower()


def ecosystem_base(ecosystem: str) -> str:
    """The ecosystem without its release suffix: ``Debian:12`` -> ``Debian``."""
    return normalize_ecosystem(ecosystem).partition(":")[0]


_PEP503 = re.compile(r"[-_.]+")
_LOWERCASE_NAMES = {
    "pypi",
    "debian",
    "ubuntu",
    "alpine",
    "alpaquita",
    "wolfi",
    "chainguard",
    "crates.io",
    "nuget",
    "packagist",
    "pub",
    "hex",
}


def normalize_name(ecosystem: str, name: str) -> str:
    """Package name as the ecosystem compares it (PEP 503 for PyPI, lowercase for distros, exact for Go)."""
    base = ecosystem_base(ecosystem).lower()
    text = name.strip()
    if base == "pypi":
        return _PEP503.sub("-", text).lower()
    if base in _LOWERCASE_NAMES:
        return text.lower()
    return text


class Event(msgspec.Struct, frozen=True):
    """One OSV range event: ``kind`` is introduced, fixed, last_affected or limit."""

    kind: str
    value: str


class Range(PartialEq, frozen=True):
    """An OSV range: ECOSYSTEM, SEMVER or GIT, with its ordered events."""

    _uncompared = frozenset({"database_specific"})

    type: str
    events: tuple[Event, ...]
    repo: str = ""
    database_specific: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def to_osv(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "events": [{e.kind: e.value} for e in self.events]}
        if self.repo:
            d["repo"] = self.repo
        if self.database_specific:
            d["database_specific"] = dict(self.database_specific)
        return d


class SeverityEntry(msgspec.Struct, frozen=True):
    """An OSV severity entry: ``type`` (CVSS_V2/V3/V4, Ubuntu ...) and its score or vector."""

    type: str
    score: str

    def to_osv(self) -> dict[str, str]:
        return {"type": self.type, "score": self.score}


class PackageRef(msgspec.Struct, frozen=True):
    """The package an ``affected`` entry names."""

    ecosystem: str
    name: str
    purl: str = ""

    def to_osv(self) -> dict[str, str]:
        d = {"ecosystem": self.ecosystem, "name": self.name}
        if self.purl:
            d["purl"] = self.purl
        return d


class Affected(PartialEq, frozen=True):
    """One OSV ``affected[]`` entry: a package, its ranges and/or explicit versions."""

    _uncompared = frozenset({"ecosystem_specific", "database_specific"})

    package: PackageRef
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[SeverityEntry, ...] = ()
    ecosystem_specific: Mapping[str, Any] = msgspec.field(default_factory=dict)
    database_specific: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def to_osv(self) -> dict[str, Any]:
        d: dict[str, Any] = {"package": self.package.to_osv()}
        if self.ranges:
            d["ranges"] = [r.to_osv() for r in self.ranges]
        if self.versions:
            d["versions"] = list(self.versions)
        if self.severity:
            d["severity"] = [s.to_osv() for s in self.severity]
        if self.ecosystem_specific:
            d["ecosystem_specific"] = dict(self.ecosystem_specific)
        if self.database_specific:
            d["database_specific"] = dict(self.database_specific)
        return d


class Reference(msgspec.Struct, frozen=True):
    """A link with its OSV type (ADVISORY, FIX, WEB ...)."""

    type: str
    url: str


class Advisory(PartialEq, frozen=True):
    """One normalised advisory, whatever feed it came from."""

    _uncompared = frozenset({"database_specific"})

    id: str
    modified: str
    source: str = ""
    """Feed kind that produced it: ``osv``, ``alpine-secdb``, ``debian-dsa``, ``debian-tracker``."""
    published: str = ""
    withdrawn: str = ""
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[SeverityEntry, ...] = ()
    affected: tuple[Affected, ...] = ()
    references: tuple[Reference, ...] = ()
    database_specific: Mapping[str, Any] = msgspec.field(default_factory=dict)

    @property
    def ids(self) -> tuple[str, ...]:
        """The advisory id followed by its aliases."""
        return (self.id, *self.aliases)

    def to_osv(self) -> dict[str, Any]:
        """A plain OSV dict (plus ``source`` under ``database_specific.lockgate_source``)."""
        d: dict[str, Any] = {"id": self.id, "modified": self.modified}
        for name in ("published", "withdrawn", "summary", "details"):
            if value := getattr(self, name):
                d[name] = value
        if self.aliases:
            d["aliases"] = list(self.aliases)
        if self.related:
            d["related"] = list(self.related)
        if self.severity:
            d["severity"] = [s.to_osv() for s in self.severity]
        d["affected"] = [a.to_osv() for a in self.affected]
        if self.references:
            d["references"] = [{"type": r.type, "url": r.url} for r in self.references]
        ds = dict(self.database_specific)
        if self.source:
            ds["lockgate_source"] = self.source
        if ds:
            d["database_specific"] = ds
        return d
