"""Debian matching against the corpus DSA/DLA lists, with ``dpkg --compare-versions`` as the oracle.

The expectation is computed here from the raw list files (a separate, minimal reading of the
format): a binary package whose source package is ``P``, installed with source version ``v``
on bullseye, is affected by every advisory line ``[bullseye] - P f`` with ``v lt f`` according
to dpkg itself, and always by ``<unfixed>``/``<end-of-life>`` lines; the finding ids are the
advisory's CVE ids (the DSA id when it lists none). The binary version carries a binNMU
suffix (``+b1``) so that only the source version can give the right answer (as Trivy does).
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lockgate.findings.model import FixStatus
from lockgate.inventory.model import OSInfo, Package
from lockgate.vulndb.matcher import match_report
from lockgate.vulndb.store import Store

BULLSEYE = OSInfo(family="debian", version="11.6", codename="bullseye")


def _lines(corpus: Path, release: str) -> dict[str, list[tuple[str, tuple[str, ...], str]]]:
    """source package -> [(advisory id, CVE ids, fixed version or <status>)] for one release."""
    out: dict[str, list[tuple[str, tuple[str, ...], str]]] = defaultdict(list)
    for name in ("DSA", "DLA"):
        adv, cves = "", ()
        for line in (corpus / "debian-dsa/data" / name / "list").read_text().splitlines():
            if line.startswith("["):
                adv = line.split("] ", 1)[1].split()[0]
                cves = ()
            elif line.strip().startswith("{"):
                cves = tuple(re.findall(r"CVE-\d+-\d+", line))
            elif m := re.match(rf"\s+\[{release}\] - (\S+) (\S+)", line):
                out[m.group(1)].append((adv, cves, m.group(2)))
    return out


def _dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


def test_bullseye_matches_equal_dpkg_oracle(corpus: Path, corpus_store: Store) -> None:
    lines = _lines(corpus, "bullseye")
    assert len(lines) > 100
    cases: list[tuple[str, str]] = []
    for pkg, advs in sorted(lines.items()):
        fixed = sorted({f for _, _, f in advs if not f.startswith("<")})
        picks = {fixed[0], fixed[-1], fixed[len(fixed) // 2]} if fixed else set()
        if fixed:
            picks.add(fixed[0] + "~pre1")  # just below the oldest fix
        picks.add("0.0.1-1")
        cases.extend((pkg, v) for v in sorted(picks))
    pairs = sorted({(v, f) for pkg, v in cases for _, _, f in lines[pkg] if not f.startswith("<")})
    with ThreadPoolExecutor(4) as ex:
        lt = dict(zip(pairs, ex.map(lambda p: _dpkg_lt(*p), pairs), strict=True))
    expected: dict[tuple[str, str], set[str]] = {}
    for pkg, v in cases:
        want: set[str] = set()
        for adv, cves, f in lines[pkg]:
            if f == "<not-affected>":
                continue
            if f.startswith("<") or lt[(v, f)]:
                want.update(cves or (adv,))
        expected[(pkg, v)] = want
    packages = [Package("deb", f"{pkg}-bin", f"{v}+b1", source_name=pkg, source_version=v) for pkg, v in cases]
    result = match_report(packages, BULLSEYE, corpus_store)
    got: dict[tuple[str, str], set[str]] = defaultdict(set)
    for fi in result.findings:
        assert fi.package is not None
        got[(fi.package.source_name, fi.package.source_version)].add(fi.id)
    diffs = [(k, expected[k] ^ got.get(k, set())) for k in expected if expected[k] != got.get(k, set())]
    assert not diffs, diffs[:10]
    assert sum(len(v) for v in expected.values()) > 500
    assert result.gaps == ()


def test_dsa_with_several_cves_gives_one_finding_each_with_dsa_alias(corpus_store: Store) -> None:
    # DSA-5376-1 apache2 2.4.56-1~deb11u1 fixes five CVEs on bullseye
    pkg = Package("deb", "apache2-bin", "2.4.55-1~deb11u1", source_name="apache2")
    result = match_report([pkg], BULLSEYE, corpus_store)
    by_id = {f.id: f for f in result.findings}
    for cve in ("CVE-2006-20001", "CVE-2022-36760", "CVE-2022-37436", "CVE-2023-25690", "CVE-2023-27522"):
        assert "DSA-5376-1" in by_id[cve].aliases
        assert "2.4.56-1~deb11u1" in by_id[cve].fixed_versions
        assert by_id[cve].fix_status is FixStatus.FIXED
        assert by_id[cve].installed_version == "2.4.55-1~deb11u1"


def test_other_release_does_not_match_and_unknown_os_is_a_gap(corpus_store: Store) -> None:
    pkg = Package("deb", "apache2-bin", "2.4.55-1~deb11u1", source_name="apache2")
    bookworm = match_report([pkg], OSInfo("debian", "12.1", "bookworm"), corpus_store)
    assert bookworm.findings == ()  # the corpus has no bookworm data
    other = Package("deb", "bash", "5.1-2", source_name="bash")
    unknown = match_report([pkg, other], None, corpus_store)
    assert unknown.findings == ()
    assert len(unknown.gaps) == 1  # one gap for the distro, naming how many packages it covers
    assert unknown.gaps[0].where == "2 deb packages"
    assert "no advisory ecosystem" in unknown.gaps[0].reason


def test_alpine_branch_matching(corpus: Path, corpus_store: Store) -> None:
    # v3.11 main: openssl fixed CVE-2019-1551 in 1.1.1d-r2 (see the raw secdb JSON)
    import json

    doc = json.loads((corpus / "alpine-secdb/v3.11/main.json").read_text())
    fixes = next(p["pkg"]["secfixes"] for p in doc["packages"] if p["pkg"]["name"] == "openssl")
    fix = next(v for v, ids in fixes.items() if "CVE-2019-1551" in ids)
    alpine = OSInfo("alpine", "3.11.6")
    below = match_report([Package("apk", "libssl1.1", "1.1.1d-r0", source_name="openssl")], alpine, corpus_store)
    at_fix = match_report([Package("apk", "libssl1.1", fix, source_name="openssl")], alpine, corpus_store)
    assert "CVE-2019-1551" in {f.id for f in below.findings}
    assert "CVE-2019-1551" not in {f.id for f in at_fix.findings}
    f = next(f for f in below.findings if f.id == "CVE-2019-1551")
    assert f.fixed_versions == (fix,)
    assert "ALPINE-CVE-2019-1551" in f.aliases
