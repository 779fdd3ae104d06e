"""Matching rules on small records written here: withdrawn, alias merge, severity order, Debian tracker
JSON, NVD enrichment, npm, Ubuntu and Go ``stdlib`` (against the corpus, with a SemVer oracle here).

CVSS reference scores are the published ones (FIRST's examples / NVD), not values lockgate produced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lockgate.findings.model import FixStatus, Severity
from lockgate.inventory.model import OSInfo, Package
from lockgate.vulndb.feeds.importer import import_paths
from lockgate.vulndb.matcher import match, match_report
from lockgate.vulndb.store import Store

V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8 CRITICAL
V31_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"  # 5.4 MEDIUM
V2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5 HIGH
V40_LOW = "CVSS:4.0/AV:N/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"  # LOW (score 1.0-2.x)


def _osv(adv_id: str, eco: str, name: str, events: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": adv_id,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {"package": {"ecosystem": eco, "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}
        ],
    }
    doc.update(extra)
    return doc


def _db(tmp_path: Path, docs: list[dict[str, Any]], *extra_paths: Path) -> Store:
    d = tmp_path / "osv"
    d.mkdir(exist_ok=True)
    for doc in docs:
        (d / f"{doc['id']}.json").write_text(json.dumps(doc))
    db = tmp_path / "t.db"
    import_paths(db, [d, *extra_paths], replace=True)
    return Store(db)


FIX_2 = [{"introduced": "0"}, {"fixed": "2.0.0"}]


def test_withdrawn_never_matches(tmp_path: Path) -> None:
    store = _db(
        tmp_path,
        [
            _osv("GHSA-aaaa-bbbb-cccc", "npm", "left-pad", FIX_2, withdrawn="2024-02-01T00:00:00Z"),
            _osv("GHSA-dddd-eeee-ffff", "npm", "left-pad", FIX_2),
        ],
    )
    found = match([Package("npm", "left-pad", "1.0.0")], None, store)
    assert [f.id for f in found] == ["GHSA-dddd-eeee-ffff"]


def test_aliases_merge_into_one_cve_finding(tmp_path: Path) -> None:
    store = _db(
        tmp_path,
        [
            _osv("PYSEC-2024-1", "PyPI", "demo-pkg", FIX_2, aliases=["CVE-2024-0001", "GHSA-1111-2222-3333"]),
            _osv("GHSA-1111-2222-3333", "PyPI", "Demo_Pkg", [{"introduced": "0"}, {"fixed": "2.0.1"}]),
            _osv("OSV-2024-9", "PyPI", "demo.pkg", FIX_2, aliases=["CVE-2024-0002"], related=["CVE-2024-0001"]),
        ],
    )
    found = match([Package("PyPI", "demo-pkg", "1.5")], None, store)
    assert [f.id for f in found] == ["CVE-2024-0001", "CVE-2024-0002"]
    first = found[0]
    assert first.aliases == ("GHSA-1111-2222-3333", "PYSEC-2024-1")
    assert set(first.fixed_versions) == {"2.0.0", "2.0.1"}
    assert found[1].aliases == ("OSV-2024-9",)


def test_severity_order(tmp_path: Path) -> None:
    nvd = tmp_path / "nvd.json"
    nvd.write_text(
        json.dumps(
            {
                "format": "NVD_CVE",
                "version": "2.0",
                "vulnerabilities": [
                    {"cve": {"id": "CVE-2024-1000", "metrics": {"cvssMetricV31": [_metric(V31_CRITICAL)]}}},
                    {"cve": {"id": "CVE-2024-2000", "metrics": {"cvssMetricV2": [_metric(V2_HIGH, "2.0")]}}},
                ],
            }
        )
    )
    store = _db(
        tmp_path,
        [
            # own v3 vector (MEDIUM) beats NVD's v3 (CRITICAL) for the same CVE
            _osv(
                "A-1", "npm", "p", FIX_2, aliases=["CVE-2024-1000"], severity=[{"type": "CVSS_V3", "score": V31_MEDIUM}]
            ),
            # v4 beats v3 beats v2
            _osv(
                "A-2",
                "npm",
                "p",
                FIX_2,
                severity=[{"type": "CVSS_V2", "score": V2_HIGH}, {"type": "CVSS_V4", "score": V40_LOW}],
            ),
            # NVD enrichment when the advisory has no vector
            _osv("A-3", "npm", "p", FIX_2, aliases=["CVE-2024-2000"]),
            # GHSA rating last
            _osv("GHSA-4444-5555-6666", "npm", "p", FIX_2, database_specific={"severity": "MODERATE"}),
            # nothing at all
            _osv("A-5", "npm", "p", FIX_2),
        ],
        nvd,
    )
    found = {f.id: f for f in match([Package("npm", "p", "1.0.0")], None, store)}
    assert (found["CVE-2024-1000"].severity, found["CVE-2024-1000"].severity_source) == (Severity.MEDIUM, "cvss_v3")
    assert (V31_CRITICAL, 9.8) in {(v, s) for _, v, s in found["CVE-2024-1000"].cvss}
    assert (found["A-2"].severity, found["A-2"].severity_source) == (Severity.LOW, "cvss_v4")
    assert (found["CVE-2024-2000"].severity, found["CVE-2024-2000"].severity_source) == (Severity.HIGH, "nvd_cvss_v2")
    assert ("2.0", V2_HIGH, 7.5) in found["CVE-2024-2000"].cvss
    assert (found["GHSA-4444-5555-6666"].severity, found["GHSA-4444-5555-6666"].severity_source) == (
        Severity.MEDIUM,
        "ghsa",
    )
    assert (found["A-5"].severity, found["A-5"].severity_source) == (Severity.UNKNOWN, "")


def _metric(vector: str, version: str = "3.1") -> dict[str, Any]:
    return {"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": version, "vectorString": vector}}


def _tracker(tmp_path: Path) -> Path:
    doc = {
        "openssl": {
            "CVE-2023-0001": {
                "description": "demo",
                "releases": {
                    "bullseye": {"status": "resolved", "fixed_version": "1.1.1n-0+deb11u5", "urgency": "high"},
                    "bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "not yet assigned"},
                    "sid": {"status": "resolved", "fixed_version": "3.0.8-1", "urgency": "high"},
                },
            },
            "CVE-2023-0002": {
                "releases": {
                    "bullseye": {"status": "open", "urgency": "unimportant", "nodsa_reason": "ignored"},
                    "bookworm": {"status": "open", "urgency": "low"},
                }
            },
            "CVE-2023-0003": {"releases": {"bullseye": {"status": "open", "urgency": "medium"}}},
        }
    }
    p = tmp_path / "tracker.json"
    p.write_text(json.dumps(doc))
    return p


def test_debian_tracker_json_and_distro_severity_first(tmp_path: Path) -> None:
    nvd = tmp_path / "nvd.json"
    nvd.write_text(
        json.dumps(
            {
                "vulnerabilities": [
                    {"cve": {"id": "CVE-2023-0003", "metrics": {"cvssMetricV31": [_metric(V31_CRITICAL)]}}}
                ]
            }
        )
    )
    store = _db(tmp_path, [], _tracker(tmp_path), nvd)
    pkg = Package("deb", "libssl1.1", "1.1.1n-0+deb11u4", source_name="openssl")
    found = {f.id: f for f in match([pkg], OSInfo("debian", "11.7"), store)}
    assert set(found) == {"CVE-2023-0001", "CVE-2023-0002", "CVE-2023-0003"}
    assert found["CVE-2023-0001"].fixed_versions == ("1.1.1n-0+deb11u5",)
    assert (found["CVE-2023-0001"].severity, found["CVE-2023-0001"].severity_source) == (Severity.HIGH, "debian")
    assert found["CVE-2023-0002"].fix_status is FixStatus.WONT_FIX
    assert found["CVE-2023-0002"].severity is Severity.LOW
    assert found["CVE-2023-0003"].fix_status is FixStatus.NOT_FIXED
    # the distro's rating wins over NVD's CRITICAL for an OS package
    assert (found["CVE-2023-0003"].severity, found["CVE-2023-0003"].severity_source) == (Severity.MEDIUM, "debian")
    assert "DEBIAN-CVE-2023-0001" in found["CVE-2023-0001"].aliases
    bookworm = {f.id for f in match([pkg], OSInfo("debian", "12.1"), store)}
    assert bookworm == {"CVE-2023-0002"}  # fixed_version 0: never affected there


def test_ubuntu_and_rocky_release_ecosystems(tmp_path: Path) -> None:
    store = _db(
        tmp_path,
        [
            _osv(
                "UBUNTU-CVE-2024-1",
                "Ubuntu:22.04:LTS",
                "openssl",
                [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.15"}],
                severity=[{"type": "CVSS_V3", "score": V31_CRITICAL}, {"type": "Ubuntu", "score": "medium"}],
            ),
            _osv("RLSA-2024:1", "Rocky Linux:9", "openssl", [{"introduced": "0"}, {"fixed": "1:3.0.7-25.el9_3"}]),
        ],
    )
    u = match([Package("deb", "libssl3", "3.0.2-0ubuntu1.14", source_name="openssl")], OSInfo("ubuntu", "22.04"), store)
    assert [f.id for f in u] == ["UBUNTU-CVE-2024-1"]
    assert (u[0].severity, u[0].severity_source) == (Severity.MEDIUM, "ubuntu")  # the distro's priority first
    r = match([Package("rpm", "openssl-libs", "1:3.0.7-24.el9", source_name="openssl")], OSInfo("rocky", "9.3"), store)
    assert [f.id for f in r] == ["RLSA-2024:1"]
    assert (
        match(
            [Package("rpm", "openssl-libs", "1:3.0.7-25.el9_3", source_name="openssl")], OSInfo("rocky", "9.3"), store
        )
        == ()
    )


def test_npm_semver_ranges(tmp_path: Path) -> None:
    store = _db(
        tmp_path,
        [
            {
                "id": "GHSA-npm1-npm1-npm1",
                "modified": "2024-01-01T00:00:00Z",
                "affected": [
                    {
                        "package": {"ecosystem": "npm", "name": "@scope/lib"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.2.0"}, {"fixed": "1.4.0-rc.1"}]}],
                    }
                ],
            }
        ],
    )
    hit = lambda v: bool(match([Package("npm", "@scope/lib", v)], None, store))  # noqa: E731
    assert not hit("1.1.9")
    assert hit("1.2.0")
    assert hit("1.4.0-beta.2")  # prerelease before rc.1 in SemVer order
    assert not hit("1.4.0-rc.1")
    assert not hit("1.4.0")


def _semver_key(v: str) -> tuple[Any, ...]:
    core, _, pre = v.partition("-")
    nums = tuple(int(x) for x in core.split("."))
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (nums, 0 if pre else 1, pre_key)


@pytest.mark.parametrize("go_version", ["go1.19.8", "go1.21.0", "go1.22.1"])
def test_go_stdlib_against_raw_records(corpus: Path, corpus_store: Store, go_version: str) -> None:
    """Oracle: every ``stdlib`` record whose SEMVER range holds the version (SemVer order computed here)."""
    v = _semver_key(go_version[2:])
    expected = set()
    for f in (corpus / "osv/go").glob("GO-*.json"):
        raw = json.loads(f.read_text())
        if "withdrawn" in raw:
            continue
        for aff in raw["affected"]:
            if aff["package"]["name"] != "stdlib":
                continue
            for r in aff.get("ranges", []):
                affected = False
                for e in sorted(
                    r["events"],
                    key=lambda e: (0,) if e.get("introduced") == "0" else (1, _semver_key(next(iter(e.values())))),
                ):
                    ((kind, val),) = e.items()
                    if kind == "introduced" and (val == "0" or v >= _semver_key(val)):
                        affected = True
                    elif kind == "fixed" and v >= _semver_key(val):
                        affected = False
                if affected:
                    expected.add(raw["id"])
    result = match_report([Package("Go", "stdlib", go_version)], None, corpus_store)
    got = {i for fi in result.findings for i in (fi.id, *fi.aliases) if re.match(r"GO-\d{4}-\d+$", i)}
    assert got == expected
    assert len(expected) > 5


def test_explicit_versions_list(tmp_path: Path) -> None:
    listed = _osv("L-1", "PyPI", "listed", [{"introduced": "1.0"}, {"fixed": "1.2"}])
    listed["affected"][0]["versions"] = ["1.0", "1.1", "0.9.post1"]  # 0.9.post1 lies outside the range
    only = {
        "id": "L-2",
        "modified": "2024",
        "affected": [{"package": {"ecosystem": "Nonesuch-Ecosystem", "name": "x"}, "versions": ["7"]}],
    }
    odd = {
        "id": "L-3",
        "modified": "2024",
        "affected": [
            {
                "package": {"ecosystem": "Nonesuch-Ecosystem", "name": "y"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5"}]}],
                "versions": ["3"],
            }
        ],
    }
    store = _db(tmp_path, [listed, only, odd])
    hit = lambda eco, name, v: [f.id for f in match_report([Package(eco, name, v)], None, store).findings]  # noqa: E731
    assert hit("PyPI", "listed", "1.1") == ["L-1"]
    assert hit("PyPI", "listed", "0.9.post1") == ["L-1"]
    assert hit("PyPI", "listed", "0.9") == []
    assert hit("PyPI", "listed", "1.2") == []
    assert hit("Nonesuch-Ecosystem", "x", "7") == ["L-2"]
    assert hit("Nonesuch-Ecosystem", "x", "8") == []
    # no ordering is known for this ecosystem: a listed version still matches, others are a gap
    assert hit("Nonesuch-Ecosystem", "y", "3") == ["L-3"]
    r = match_report([Package("Nonesuch-Ecosystem", "y", "4")], None, store)
    assert r.findings == ()
    assert len(r.gaps) == 1
    assert "L-3" in r.gaps[0].reason


@pytest.mark.parametrize(
    ("family", "version", "codename", "pkg_eco", "want"),
    [
        ("debian", "11.6", "bullseye", "deb", ("Debian:11",)),
        ("debian", "bullseye/sid", "bullseye", "deb", ("Debian:11",)),
        ("debian", "3.0", "woody", "deb", ("Debian:3.0",)),
        ("ubuntu", "22.04.3", "jammy", "deb", ("Ubuntu:22.04", "Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS")),
        ("alpine", "3.20.1", "", "apk", ("Alpine:v3.20",)),
        ("alpine", "3.19_alpha20231219", "", "apk", ("Alpine:v3.19",)),
        ("rocky", "9.3", "", "rpm", ("Rocky Linux:9",)),
        ("almalinux", "8.9", "", "rpm", ("AlmaLinux:8",)),
        ("rhel", "9.3", "", "rpm", ("Red Hat:enterprise_linux:9:*",)),
        ("sles", "15.5", "", "rpm", ("SUSE:Linux Enterprise Server 15 SP5",)),
        ("opensuse-leap", "15.5", "", "rpm", ("openSUSE:Leap 15.5",)),
        ("fedora", "40", "", "rpm", ()),
        ("debian", "12.5", "bookworm", "apk", ()),
    ],
)
def test_os_release_ecosystems(family: str, version: str, codename: str, pkg_eco: str, want: tuple[str, ...]) -> None:
    from lockgate.vulndb.matcher import os_ecosystems

    assert os_ecosystems(OSInfo(family, version, codename), pkg_eco) == want


def test_nvd_primary_score_wins_over_secondary(tmp_path: Path) -> None:
    secondary = {**_metric(V31_CRITICAL), "source": "cna@example.invalid", "type": "Secondary"}
    nvd = tmp_path / "nvd.json"
    nvd.write_text(
        json.dumps(
            {
                "vulnerabilities": [
                    {"cve": {"id": "CVE-2024-3000", "metrics": {"cvssMetricV31": [secondary, _metric(V31_MEDIUM)]}}}
                ]
            }
        )
    )
    store = _db(tmp_path, [_osv("B-1", "npm", "q", FIX_2, aliases=["CVE-2024-3000"])], nvd)
    (f,) = match([Package("npm", "q", "1.0.0")], None, store)
    assert (f.id, f.severity, f.severity_source) == ("CVE-2024-3000", Severity.MEDIUM, "nvd_cvss_v3")
    assert {vec for _, vec, _ in f.cvss} == {V31_CRITICAL, V31_MEDIUM}


def test_red_hat_streams_and_rpm_binary_names(tmp_path: Path) -> None:
    evs = [{"introduced": "0"}, {"fixed": "1:3.0.7-27.el9"}]
    store = _db(
        tmp_path,
        [
            _osv("RHSA-2024:1", "Red Hat:enterprise_linux:9::baseos", "openssl", evs, aliases=["CVE-2024-0727"]),
            _osv("RHSA-2024:2", "Red Hat:enterprise_linux:9::appstream", "openssl-perl", evs),
            _osv("RHSA-2024:3", "Red Hat:enterprise_linux:8::baseos", "openssl", evs),
            _osv("RHSA-2024:4", "Red Hat:enterprise_linux:90::baseos", "openssl", evs),
        ],
    )
    rhel9 = OSInfo("rhel", "9.3")
    libs = Package("rpm", "openssl-libs", "1:3.0.7-24.el9", source_name="openssl")
    perl = Package("rpm", "openssl-perl", "1:3.0.7-24.el9", source_name="openssl")
    found = {(f.package.name, f.id) for f in match([libs, perl], rhel9, store) if f.package}
    assert found == {
        ("openssl-libs", "CVE-2024-0727"),
        ("openssl-perl", "CVE-2024-0727"),
        ("openssl-perl", "RHSA-2024:2"),  # matched by its binary name in the appstream stream
    }
    fixed = Package("rpm", "openssl-libs", "1:3.0.7-27.el9", source_name="openssl")
    assert match([fixed], rhel9, store) == ()
