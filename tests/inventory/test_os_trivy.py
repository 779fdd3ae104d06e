"""OS detection, OS package databases and purls compared with Trivy on the same root file systems.

Each test builds a small root file system in a private temp dir from real databases (the
host's dpkg status, corpus apk/rpm databases) and real release files, runs ``trivy rootfs``
offline on it, and compares OS, package set and purls with lockgate's analysers + finalize.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lockgate.fs.model import FileEntry
from lockgate.inventory.finalize import finalize, finalize_os
from lockgate.inventory.model import OSInfo, Package
from lockgate.inventory.registry import os_analyzers
from tests.conftest import CORPUS

PKGDB = CORPUS / "pkgdb"
DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n'
UBUNTU_1804 = (
    'NAME="Ubuntu"\nVERSION="18.04.1 LTS (Bionic Beaver)"\nID=ubuntu\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\n'
)
UBUNTU_LSB = "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=18.04\nDISTRIB_CODENAME=bionic\n"
RHEL_8 = 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="8.8"\n'


def _scan_directory(root: Path) -> tuple[OSInfo | None, tuple[Package, ...]]:
    """lockgate's OS inventory through the real directory walker and its merge."""
    from lockgate.config import Settings
    from lockgate.fs.directory import analyze_directory

    analysis = analyze_directory(root, os_analyzers(), settings=Settings())
    assert not analysis.gaps, analysis.gaps
    os = finalize_os(analysis.os)
    return os, finalize(analysis.packages, os)


def _scan(root: Path) -> tuple[OSInfo | None, tuple[Package, ...]]:
    """lockgate's OS inventory of a directory: every release file is a candidate for select_os."""
    analyzers = os_analyzers()
    candidates: list[OSInfo | None] = []
    packages: list[Package] = []
    for file in sorted(root.rglob("*")):
        if not file.is_file():
            continue
        entry = FileEntry(path=file.relative_to(root).as_posix(), size=file.stat().st_size)
        for a in analyzers:
            if a.required(entry):
                result = a.analyze(entry, file.read_bytes())
                assert not result.gaps, result.gaps
                candidates.append(result.os)
                packages.extend(result.packages)
    os = finalize_os(candidates)
    return os, finalize(packages, os)


def _trivy(root: Path, tmp_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "trivy",
            "rootfs",
            "--cache-dir",
            str(tmp_path / "trivy-cache"),
            "--scanners",
            "license",
            "--list-all-pkgs",
            "--format",
            "json",
            "--quiet",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def _trivy_packages(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    rows = set()
    for result in report.get("Results", []):
        if result.get("Class") != "os-pkgs":
            continue
        for p in result.get("Packages", []):
            v = p["Version"] + (f"-{p['Release']}" if p.get("Release") else "")
            if p.get("Epoch"):
                v = f"{p['Epoch']}:{v}"
            rows.add((p["Name"], v, p["Identifier"]["PURL"]))
    return rows


def _write(root: Path, rel: str, data: bytes | str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)


CASES = {
    "debian-host-dpkg": {
        "etc/os-release": DEBIAN_12,
        "etc/debian_version": "12.5\n",
        "var/lib/dpkg/status": Path("/var/lib/dpkg/status"),
    },
    "ubuntu-dpkg": {
        "etc/os-release": UBUNTU_1804,
        "etc/lsb-release": UBUNTU_LSB,
        "etc/debian_version": "buster/sid\n",
        "var/lib/dpkg/status": PKGDB / "dpkg/trivy/valid/var/lib/dpkg/status",
    },
    "alpine-apk": {
        "etc/os-release": PKGDB / "os-release/trivy/alpine",
        "etc/alpine-release": "3.15.4\n",
        "lib/apk/db/installed": PKGDB / "apk/trivy/installed",
    },
    "mariner-rpm-sqlite": {
        "etc/os-release": PKGDB / "os-release/trivy/mariner-2.0",
        "var/lib/rpm/rpmdb.sqlite": PKGDB / "rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite",
    },
    "sles-rpm-ndb": {
        "etc/os-release": PKGDB / "os-release/trivy/sles",
        "var/lib/rpm/Packages.db": PKGDB / "rpm/go-rpmdb/sle15-bci/Packages.db",
    },
    "rhel-rpm-bdb": {
        "etc/os-release": RHEL_8,
        "etc/redhat-release": "Red Hat Enterprise Linux release 8.8 (Ootpa)\n",
        "var/lib/rpm/Packages": PKGDB / "rpm/go-rpmdb/libuuid/Packages",
    },
}


@pytest.mark.parametrize("walker", ["analysers", "directory"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_os_packages_and_purls_as_trivy(case: str, walker: str, tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    for rel, src in CASES[case].items():
        _write(root, rel, src.read_bytes() if isinstance(src, Path) else src)
    report = _trivy(root, tmp_path)
    os, packages = _scan(root) if walker == "analysers" else _scan_directory(root)
    assert os is not None
    trivy_os = report["Metadata"]["OS"]
    assert (os.family, os.version) == (trivy_os["Family"], trivy_os["Name"])
    expected = _trivy_packages(report)
    assert expected, "trivy found no packages: the comparison would be empty"
    got = {(p.name, p.version, p.purl) for p in packages}
    assert got == expected


RPM_DISTROS = [
    "rhel",
    "centos",
    "centos-stream",
    "rocky",
    "alma",
    "oracle",
    "fedora",
    "opensuseleap-15.2.1",
    "opensusetumbleweed",
    "sles",
    "slemicro",
    "photon",
    "azurelinux-3.0",
]


@pytest.mark.parametrize("distro", RPM_DISTROS)
def test_rpm_purl_namespace_and_distro_per_family(distro: str, tmp_path: Path) -> None:
    """One real rpm database under each distribution's real os-release: purl namespace
    (``redhat``, ``suse``, ``opensuse`` ...) and ``distro`` qualifier as Trivy writes them."""
    root = tmp_path / "rootfs"
    _write(root, "etc/os-release", (PKGDB / "os-release/trivy" / distro).read_bytes())
    _write(root, "var/lib/rpm/Packages.db", (PKGDB / "rpm/go-rpmdb/sle15-bci/Packages.db").read_bytes())
    report = _trivy(root, tmp_path)
    _os, packages = _scan(root)
    expected = _trivy_packages(report)
    assert len(expected) == 35
    assert {(p.name, p.version, p.purl) for p in packages} == expected


@pytest.mark.parametrize("os_id", ["alpine", "wolfi", "chainguard"])
def test_apk_purls_per_family(os_id: str, tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    _write(root, "etc/os-release", f'ID={os_id}\nNAME="{os_id}"\nVERSION_ID=3.18.0\n')
    _write(root, "lib/apk/db/installed", (PKGDB / "apk/scalibr/installed").read_bytes())
    expected = _trivy_packages(_trivy(root, tmp_path))
    assert len(expected) == 15
    assert {(p.name, p.version, p.purl) for p in _scan(root)[1]} == expected
