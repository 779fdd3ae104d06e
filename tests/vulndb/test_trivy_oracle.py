"""Trivy as a second matching oracle: the same Debian bullseye advisories, the same packages, both tools.

The bullseye lines of the corpus DSA/DLA lists are written into a Trivy DB with ``mktrivydb``
(``debian 11`` bucket: source package -> CVE -> fixed version, ``""`` when unfixed), and a
root file system with a dpkg status file (binary packages with a ``Source:`` field and
binNMU versions) is scanned with ``trivy rootfs --offline-scan``. lockgate matches the same
packages against its corpus database. Source packages whose CVEs have more than one fixed
version on bullseye (which Trivy's one-value-per-CVE model cannot express) are left out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from lockgate.inventory.model import OSInfo, Package
from lockgate.vulndb.matcher import match_report
from lockgate.vulndb.store import Store
from tests.vulndb.test_match_debian import _lines

pytestmark = pytest.mark.slow


def test_bullseye_findings_equal_trivys(corpus: Path, corpus_store: Store, tmp_path: Path) -> None:
    trivy, mktrivydb = shutil.which("trivy"), shutil.which("mktrivydb")
    assert trivy and mktrivydb, "trivy and mktrivydb are reference tools of this environment"
    fixes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for pkg, advs in _lines(corpus, "bullseye").items():
        for _, cves, f in advs:
            if f in ("<not-affected>", "<end-of-life>"):
                continue
            for cve in cves:
                fixes[pkg][cve].add("" if f == "<unfixed>" else f)
    usable = {
        p: {c: next(iter(v)) for c, v in cves.items()}
        for p, cves in fixes.items()
        if all(len(v) == 1 for v in cves.values())
    }
    assert len(usable) > 100
    buckets = [
        {"bucket": p, "pairs": [{"key": c, "value": {"FixedVersion": f}} for c, f in sorted(cves.items())]}
        for p, cves in sorted(usable.items())
    ]
    all_cves = sorted({c for cves in usable.values() for c in cves})
    source = {"ID": "debian", "Name": "Debian Security Tracker", "URL": "https://example.invalid/"}
    doc = [
        {"bucket": "data-source", "pairs": [{"key": "debian 11", "value": source}]},
        {"bucket": "debian 11", "pairs": buckets},
        {"bucket": "vulnerability", "pairs": [{"key": c, "value": {"Title": c, "Severity": "HIGH"}} for c in all_cves]},
    ]  # fmt: skip
    cache = tmp_path / "trivy-cache"
    (cache / "db").mkdir(parents=True)
    (tmp_path / "db.json").write_text(json.dumps(doc))
    subprocess.run([mktrivydb, str(tmp_path / "db.json"), str(cache / "db/trivy.db")], check=True, capture_output=True)
    (cache / "db/metadata.json").write_text(
        '{"Version":2,"NextUpdate":"2099-01-01T00:00:00Z","UpdatedAt":"2026-01-01T00:00:00Z",'
        '"DownloadedAt":"2026-01-01T00:00:00Z"}'
    )

    packages: list[Package] = []
    for pkg, cves in sorted(usable.items()):
        versions = sorted({f for f in cves.values() if f})
        picks = sorted({versions[0], versions[-1], versions[0] + "~pre1"} if versions else {"1.0-1"})
        packages += [
            Package("deb", f"{pkg}-bin{i}", f"{v}+b1", source_name=pkg, source_version=v) for i, v in enumerate(picks)
        ]
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n')
    (root / "etc/debian_version").write_text("11.6\n")
    status = "".join(
        f"Package: {p.name}\nStatus: install ok installed\nArchitecture: amd64\n"
        f"Source: {p.source_name} ({p.source_version})\nVersion: {p.version}\nDescription: test\n\n"
        for p in packages
    )
    (root / "var/lib/dpkg/status").write_text(status)
    out = subprocess.run(
        [trivy, "rootfs", "--cache-dir", str(cache), "--skip-db-update", "--offline-scan", "--scanners", "vuln",
         "--skip-version-check", "--cache-backend", "memory", "-q", "-f", "json", str(root)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(out.stdout)
    theirs = {
        (v["PkgName"], v["VulnerabilityID"]) for r in report.get("Results", []) for v in r.get("Vulnerabilities") or []
    }
    result = match_report(packages, OSInfo("debian", "11.6", "bullseye"), corpus_store)
    ours = {(f.package.name, f.id) for f in result.findings if f.package and f.id.startswith("CVE-")}
    assert len(theirs) > 300
    print(f"{len(packages)} packages, {len(theirs)} findings from each tool")
    assert ours == theirs, (sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])
