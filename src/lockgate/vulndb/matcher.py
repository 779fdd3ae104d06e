"""Packages + advisory database -> vulnerability findings.

- OS packages (``deb``/``apk``/``rpm``) are looked up by source package name (binary name
  when the source is unknown) in the distro release's OSV ecosystem (``Debian:11``,
  ``Ubuntu:22.04[:LTS]``, ``Alpine:v3.20``, ``Rocky Linux:9`` ...); Debian compares the
  source version when known, as Trivy does.
- Language packages are looked up by ecosystem and normalised name; Go's toolchain is
  ``stdlib`` (``go1.22.1`` -> ``1.22.1``).
- Ranges are evaluated by :mod:`lockgate.vulndb.osv.ranges`; withdrawn advisories never match.
- One finding per vulnerability per package: an advisory naming CVEs yields one finding per
  CVE (a DSA fixing five CVEs gives five), advisories sharing an id or alias are merged,
  and the CVE id is the finding id when there is one; every other id is listed in ``aliases``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from lockgate.errors import InputError
from lockgate.findings.model import CoverageGap, Finding, FindingKind, FixStatus, Location
from lockgate.inventory.model import OSInfo, Package
from lockgate.vulndb.model import Advisory, normalize_ecosystem
from lockgate.vulndb.osv.ranges import Affected as CompiledAffected
from lockgate.vulndb.osv.ranges import RangeMatch, compile_affected
from lockgate.vulndb.severity import Rating, rate
from lockgate.vulndb.store import Candidate, Store

OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})
_RPM_DISTROS = {
    "rocky": "Rocky Linux",
    "almalinux": "AlmaLinux",
    "openeuler": "openEuler",
    "azurelinux": "Azure Linux",
    "mageia": "Mageia",
}


class MatchResult(msgspec.Struct, frozen=True):
    """Findings plus what could not be matched, and why."""

    findings: tuple[Finding, ...]
    gaps: tuple[CoverageGap, ...] = ()


class _Hit(msgspec.Struct, frozen=True):
    rid: int
    advisory: Advisory
    entry: Mapping[str, Any]
    match: RangeMatch


class _GroupFacts(msgspec.Struct, frozen=True):
    """What a finding takes from its advisories; the same for every version of a package."""

    rating: Rating
    title: str
    details: str
    references: tuple[str, ...]
    aliases: tuple[str, ...]


def _major(version: str) -> str:
    return version.split(".", maxsplit=1)[0]


def os_ecosystems(os: OSInfo | None, pkg_ecosystem: str) -> tuple[str, ...]:
    """OSV ecosystems holding advisories for OS packages of ``pkg_ecosystem`` on ``os``.

    A trailing ``*`` means "every ecosystem starting with this" (Red Hat splits a release by
    product stream: ``Red Hat:enterprise_linux:9::appstream``, ``...::baseos``).
    """
    if os is None:
        return ()
    family, version = os.family.lower(), os.version.strip()
    if pkg_ecosystem == "deb":
        if family == "debian":
            from lockgate.vulndb.model import DEBIAN_CODENAMES

            if version.startswith("3."):
                return (f"Debian:{version[:3]}",)
            if version and version[0].isdigit():
                return (f"Debian:{_major(version)}",)
            rel = DEBIAN_CODENAMES.get(os.codename.lower())
            return (f"Debian:{rel}",) if rel else ()
        if family == "ubuntu" and version:
            v = ".".join(version.split(".")[:2])
            return (f"Ubuntu:{v}", f"Ubuntu:{v}:LTS", f"Ubuntu:Pro:{v}:LTS")
        return ()
    if pkg_ecosystem == "apk":
        if family == "alpine" and (m := re.match(r"(\d+)\.(\d+)", version)):
            return (f"Alpine:v{m.group(1)}.{m.group(2)}",)
        if family in ("wolfi", "chainguard"):
            return (family.capitalize(),)
        return ()
    if pkg_ecosystem == "rpm" and version:
        if family in _RPM_DISTROS:
            return (f"{_RPM_DISTROS[family]}:{_major(version)}",)
        if family in ("rhel", "redhat"):  # OSV writes e.g. "Red Hat:enterprise_linux:9::appstream"
            return (f"Red Hat:enterprise_linux:{_major(version)}:*",)
        m = re.match(r"(\d+)(?:\.(\d+))?", version)
        if m and family in ("sles", "suse", "sled"):
            sp = f" SP{m.group(2)}" if m.group(2) and m.group(2) != "0" else ""
            return (f"SUSE:Linux Enterprise Server {m.group(1)}{sp}",)
        if m and family == "opensuse-leap":
            return (f"openSUSE:Leap {m.group(1)}.{m.group(2) or 0}",)
    return ()


def _lookups(pkg: Package, os: OSInfo | None) -> tuple[list[tuple[str, str, str]], str | None]:
    """(ecosystem, name, version) triples to look up, or a reason why the package cannot be matched."""
    if pkg.ecosystem in OS_ECOSYSTEMS:
        ecos = os_ecosystems(os, pkg.ecosystem)
        if not ecos:
            what = f"{os.family} {os.version}".strip() if os else "an unknown distribution"
            return [], f"no advisory ecosystem for {pkg.ecosystem} packages of {what}"
        # Debian and Alpine advisories name source packages; RPM feeds differ (source or binary), so try both
        names = [pkg.source_name or pkg.name]
        if pkg.ecosystem == "rpm":
            names = list(dict.fromkeys(n for n in (pkg.source_name, pkg.name) if n))
        version = pkg.version
        if pkg.ecosystem == "deb" and pkg.source_version:
            version = pkg.source_version
        return [(eco, name, version) for eco in ecos for name in names], None
    eco = normalize_ecosystem(pkg.ecosystem)
    version = pkg.version.strip()
    if eco == "Go":
        if pkg.name in ("stdlib", "toolchain"):
            version = version.removeprefix("go")
            version = re.split(r"[ +-]", version, maxsplit=1)[0] if version else version
        version = version.removeprefix("v")
        if not version or version == "(devel)":
            return [], f"Go module {pkg.name} has no release version"
    if not version:
        return [], "package has no version"
    return [(eco, pkg.name, version)], None


def _withdrawn(adv: Advisory, now: _dt.datetime) -> bool:
    if not adv.withdrawn:
        return False
    try:
        when = _dt.datetime.fromisoformat(adv.withdrawn.replace("Z", "+00:00"))
    except ValueError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when <= now


class _Compiled:
    """Compiled ``affected`` entries and per-vulnerability facts.

    A compiled entry is kept on its :class:`Candidate` (which the Store caches), so later
    match calls on the same Store skip compiling; facts live for one match call.
    """

    def __init__(self) -> None:
        self.facts: dict[tuple[Any, ...], _GroupFacts] = {}

    def get(self, c: Candidate) -> CompiledAffected | InputError:
        if c.compiled:
            got: CompiledAffected | InputError = c.compiled[0]
            return got
        try:
            got = compile_affected(c.ecosystem, c.entry)
        except InputError as e:
            got = e
        c.compiled.append(got)
        return got


def match_report(
    packages: Iterable[Package], os: OSInfo | None, store: Store, *, now: _dt.datetime | None = None
) -> MatchResult:
    """Match every package; findings sorted by package then severity, plus coverage gaps."""
    when = now or _dt.datetime.now(_dt.UTC)
    compiled = _Compiled()
    findings: list[Finding] = []
    gaps: list[CoverageGap] = []
    unmatched_os: dict[tuple[str, str], int] = {}
    planned = [(pkg, *_lookups(pkg, os)) for pkg in packages]
    store.prefetch((eco, name) for _, lookups, _ in planned for eco, name, _ in lookups if not eco.endswith("*"))
    for pkg, lookups, why in planned:
        if why is not None:
            if pkg.ecosystem in OS_ECOSYSTEMS:  # one gap for the whole distro, not one per package
                unmatched_os[(pkg.ecosystem, why)] = unmatched_os.get((pkg.ecosystem, why), 0) + 1
            else:
                gaps.append(CoverageGap(f"{pkg.ecosystem}:{pkg.name}@{pkg.version}", why, layer=pkg.layer))
            continue
        hits: list[_Hit] = []
        for eco, name, version in lookups:
            found = store.candidates_prefix(eco[:-1], name) if eco.endswith("*") else store.candidates(eco, name)
            for cand in found:
                aff = compiled.get(cand)
                if isinstance(aff, InputError):
                    gaps.append(CoverageGap(f"advisory {cand.advisory_id}", str(aff)))
                    continue
                try:
                    m = aff.match(version)  # ranges only: the versions list is checked as a set below
                    if m is None and version in cand.version_set:
                        m = compile_affected(cand.ecosystem, cand.full_entry()).match(version)
                except InputError as e:
                    try:
                        m = None
                        if version in cand.version_set:
                            m = compile_affected(cand.ecosystem, cand.full_entry()).match(version)
                    except InputError:
                        pass
                    if m is None:
                        where = f"{pkg.ecosystem}:{pkg.name}@{version}"
                        gaps.append(CoverageGap(where, f"{cand.advisory_id}: {e}"))
                        continue
                if m is None:
                    continue
                adv = store.head(cand.rid)
                if not _withdrawn(adv, when):
                    hits.append(_Hit(cand.rid, adv, cand.entry, m))
        if hits:
            findings.extend(_findings(pkg, hits, store, compiled))
    findings.sort(key=lambda f: (f.package.key if f.package else ("", "", ""), -f.severity, f.id))
    for (eco, why), n in unmatched_os.items():
        gaps.append(CoverageGap(f"{n} {eco} package{'s' if n != 1 else ''}", f"not matched: {why}"))
    return MatchResult(tuple(findings), tuple(dict.fromkeys(gaps)))


def match(
    packages: Iterable[Package], os: OSInfo | None, store: Store, *, now: _dt.datetime | None = None
) -> tuple[Finding, ...]:
    """Vulnerability findings for ``packages`` (see :func:`match_report` for coverage gaps too)."""
    return match_report(packages, os, store, now=now).findings


def _is_cve(i: str) -> bool:
    return i.startswith("CVE-")


class _Group:
    __slots__ = ("hits", "ids", "key")

    def __init__(self, key: str) -> None:
        self.key = key
        self.ids: set[str] = {key}
        self.hits: list[_Hit] = []


@functools.lru_cache(maxsize=65536)
def _split_ids(ids: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """(CVE ids, other ids) of an advisory's id + aliases."""
    return tuple(i for i in dict.fromkeys(ids) if _is_cve(i)), frozenset(i for i in ids if not _is_cve(i))


def _group(hits: list[_Hit]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    later: list[_Hit] = []
    for h in hits:
        cves, others = _split_ids(h.advisory.ids)
        if not cves:
            later.append(h)
            continue
        for cve in cves:
            g = groups.get(cve)
            if g is None:
                g = groups[cve] = _Group(cve)
            g.ids |= others
            g.hits.append(h)
    for h in later:
        ids = set(h.advisory.ids)
        found = [g for g in groups.values() if g.ids & ids]
        if len(found) == 1:
            found[0].ids |= ids
            found[0].hits.append(h)
        else:
            g = groups.setdefault(h.advisory.id, _Group(h.advisory.id))
            g.ids |= ids
            g.hits.append(h)
    return list(groups.values())


def _fix_status(hits: list[_Hit], fixed: tuple[str, ...]) -> FixStatus:
    if fixed:
        return FixStatus.FIXED
    statuses = set()
    for h in hits:
        ds = h.entry.get("database_specific") or {}
        if isinstance(ds, Mapping):
            statuses.add(str(ds.get("status", "")))
            if ds.get("nodsa_reason") == "ignored":
                statuses.add("will_not_fix")
    if "end-of-life" in statuses:
        return FixStatus.END_OF_LIFE
    if "will_not_fix" in statuses:
        return FixStatus.WONT_FIX
    return FixStatus.NOT_FIXED


def _facts(g: _Group, os_package: bool, store: Store) -> _GroupFacts:
    advisories = list({h.rid: h.advisory for h in g.hits}.values())
    rating = rate(
        advisories,
        [h.entry for h in g.hits],
        os_package=os_package,
        cve=g.key if _is_cve(g.key) else None,
        nvd=store.nvd,
        stored=store.cvss_score,
    )
    title = next((a.summary for a in advisories if a.summary), "")
    details = next((a.details for a in advisories if a.details), "")
    if not title and details:
        title = details.strip().splitlines()[0][:200]
    refs = tuple(dict.fromkeys(r.url for a in advisories for r in a.references if r.url))
    return _GroupFacts(rating, title, details, refs, tuple(sorted(g.ids - {g.key})))


def _findings(pkg: Package, hits: list[_Hit], store: Store, cache: _Compiled) -> list[Finding]:
    out = []
    os_package = pkg.ecosystem in OS_ECOSYSTEMS
    location = Location(path=pkg.path, layer=pkg.layer)
    for g in _group(hits):
        key = (g.key, os_package, frozenset(g.ids), *sorted((h.rid, id(h.entry)) for h in g.hits))
        facts = cache.facts.get(key)
        if facts is None:
            facts = cache.facts[key] = _facts(g, os_package, store)
        fixed = tuple(dict.fromkeys(f for h in g.hits for f in h.match.fixed))
        out.append(
            Finding(
                kind=FindingKind.VULNERABILITY,
                id=g.key,
                severity=facts.rating.severity,
                title=facts.title,
                description=facts.details,
                severity_source=facts.rating.source,
                aliases=facts.aliases,
                remediation=f"Upgrade {pkg.name} to {' or '.join(fixed)}" if fixed else "",
                references=facts.references,
                location=location,
                package=pkg,
                installed_version=pkg.version,
                fixed_versions=fixed,
                fix_status=_fix_status(g.hits, fixed),
                cvss=facts.rating.cvss,
            )
        )
    return out
