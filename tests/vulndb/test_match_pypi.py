"""PyPI matching against the whole PyPA corpus, with an oracle computed here from the raw YAML.

Oracle (OSV semantics, PEP 440 order from the ``packaging`` library): a version is affected by
a record iff it is listed in ``versions`` or lies in one of its ``ECOSYSTEM`` ranges
(``introduced <= v < fixed``, ``<= last_affected``; equal-version introduced+fixed cancel out,
as documented in ``lockgate.vulndb.osv.ranges``). Versions tried per package: every
version named in its records (listed, introduced, fixed, last_affected). The two corpus
records with versions that are not PEP 440 (``0.2.0-n653``, ``2019-09-12``) are left out of
the oracle for those versions only. To keep the test fast, only about three of each record's
listed versions are tried (every range boundary is).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from lockgate.inventory.model import Package
from lockgate.vulndb.matcher import match_report
from lockgate.vulndb.store import Store


@functools.cache
def _v(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _in_range(v: Version, events: list[dict[str, str]]) -> bool:
    """Events walked in PEP 440 order (``0`` first), as the OSV schema describes.

    The schema leaves equal-version events unordered; lockgate documents that an
    ``introduced`` and a ``fixed`` at the same version cancel out (a fix immediately
    re-broken), which is what this oracle does too.
    """
    groups: dict[Version, set[str]] = {}
    for e in events:
        ((kind, val),) = e.items()
        if kind == "limit":
            continue
        pv = _v("0") if (kind == "introduced" and val == "0") else _v(val)
        if pv is None:
            return False
        groups.setdefault(pv, set()).add(kind)
    affected = False
    for ev in sorted(groups):
        kinds = groups[ev]
        if {"introduced", "fixed"} <= kinds:
            continue
        if "introduced" in kinds and v >= ev:
            affected = True
        if ("fixed" in kinds and v >= ev) or ("last_affected" in kinds and v > ev):
            affected = False
    return affected


def _expected(raw: dict[str, Any], name: str, version: str) -> bool:
    v = _v(version)
    for aff in raw.get("affected", []):
        if aff["package"]["name"] != name:
            continue
        if version in (aff.get("versions") or []):
            return True
        if v is None:
            continue
        for r in aff.get("ranges") or []:
            if r["type"] == "ECOSYSTEM" and _in_range(v, r["events"]):
                return True
    return False


def test_pypi_matches_equal_the_raw_yaml_oracle(corpus: Path, corpus_store: Store) -> None:
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    versions: dict[str, set[str]] = defaultdict(set)
    for f in (corpus / "osv/pypi/vulns").rglob("*.yaml"):
        raw = yaml.load(f.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for aff in raw.get("affected", []):
            name = aff["package"]["name"]
            records[name].append(raw)
            listed = aff.get("versions") or []
            versions[name].update(listed[:: max(1, len(listed) // 3)])  # a few listed releases per record
            for r in aff.get("ranges") or []:
                if r["type"] == "ECOSYSTEM":
                    versions[name].update(v for e in r["events"] for v in e.values() if v != "0")
    packages = [Package("PyPI", name, v) for name in sorted(versions) for v in sorted(versions[name]) if _v(v)]
    assert len(packages) > 5000
    result = match_report(packages, None, corpus_store)
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for fi in result.findings:
        assert fi.package is not None
        found[(fi.package.name, fi.package.version)].update((fi.id, *fi.aliases))
    mismatches = []
    withdrawn_hits = []
    for pkg in packages:
        ids = found.get((pkg.name, pkg.version), set())
        for raw in records[pkg.name]:
            want = _expected(raw, pkg.name, pkg.version) and "withdrawn" not in raw
            got = raw["id"] in ids
            if "withdrawn" in raw and got:
                withdrawn_hits.append((raw["id"], pkg.version))
            if want != got:
                mismatches.append((raw["id"], pkg.name, pkg.version, want, got))
    assert not withdrawn_hits
    assert not mismatches, mismatches[:20]


def test_alias_merge_gives_one_finding_per_cve(corpus_store: Store) -> None:
    # jinja2 2.4.1: several PYSEC records, each aliasing a CVE and (mostly) a GHSA id
    result = match_report([Package("PyPI", "Jinja2", "2.4.1")], None, corpus_store)
    ids = [f.id for f in result.findings]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("CVE-") for i in ids)
    for f in result.findings:
        assert any(a.startswith("PYSEC-") for a in f.aliases)
        assert f.fix_status.value == "fixed"
        assert f.fixed_versions
