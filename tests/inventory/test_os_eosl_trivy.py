"""End-of-life verdicts compared with Trivy's own (embedded) EOL tables, on the same day.

Trivy decides "EOSL" only during a vulnerability scan, so the test builds Trivy's DB offline
with ``shared/tools/mktrivydb.go`` (Go + bbolt from Debian, see REFERENCE-TOOLS §1.5) and scans
small root file systems carrying real release files and package databases. Both tools use the
real current date; families for which this Trivy version has no EOL table (Fedora, Mariner)
or no offline DB support (RHEL, CentOS, Amazon) are not compared here (see test_os_eol.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lockgate.inventory.finalize import finalize_os
from lockgate.inventory.os.release import detect
from tests.conftest import CORPUS, SHARED

PKGDB = CORPUS / "pkgdb"
DPKG = PKGDB / "dpkg/trivy/digest/var/lib/dpkg/status"
APK = PKGDB / "apk/scalibr/single"
RPM = PKGDB / "rpm/go-rpmdb/sle15-bci/Packages.db"

CASES: list[tuple[str, str]] = [
    ("debian", "11"),
    ("debian", "12"),
    ("ubuntu", "22.04"),
    ("ubuntu", "24.10"),
    ("ubuntu", "25.04"),
    ("alpine", "3.20"),
    ("alpine", "3.22"),
    ("ol", "7.9"),
    ("opensuse-leap", "15.6"),
    ("sles", "15.6"),
    ("photon", "4.0"),
    ("photon", "5.0"),
    ("rocky", "9.3"),
]


@pytest.fixture(scope="session")
def trivy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Trivy cache dir holding a DB built from the shared example fixture (per worker)."""
    base = tmp_path_factory.mktemp("trivy-db")
    tool = base / "mktrivydb"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOCACHE": str(base / "gocache")}
    subprocess.run(
        ["go", "build", "-o", str(tool), str(SHARED / "tools/mktrivydb.go")], check=True, env=env, capture_output=True
    )
    (base / "db").mkdir()
    subprocess.run(
        [str(tool), str(SHARED / "tools/mktrivydb-example.json"), str(base / "db/trivy.db")],
        check=True,
        capture_output=True,
    )
    (base / "db/metadata.json").write_text(
        json.dumps(
            {
                "Version": 2,
                "NextUpdate": "2099-01-01T00:00:00Z",
                "UpdatedAt": "2026-01-01T00:00:00Z",
                "DownloadedAt": "2026-01-01T00:00:00Z",
            }
        )
    )
    return base


def _files(os_id: str, version: str) -> dict[str, bytes]:
    files = {"etc/os-release": f'ID="{os_id}"\nVERSION_ID="{version}"\n'.encode()}
    if os_id == "debian":
        files["etc/debian_version"] = f"{version}.1\n".encode()
        files["var/lib/dpkg/status"] = DPKG.read_bytes()
    elif os_id == "ubuntu":
        files["etc/lsb-release"] = f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={version}\n".encode()
        files["var/lib/dpkg/status"] = DPKG.read_bytes()
    elif os_id == "alpine":
        files["lib/apk/db/installed"] = APK.read_bytes()
    else:
        files["var/lib/rpm/Packages.db"] = RPM.read_bytes()
    return files


@pytest.mark.parametrize(("os_id", "version"), CASES)
def test_eosl_agrees_with_trivy(os_id: str, version: str, trivy_db: Path, tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    files = _files(os_id, version)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    out = subprocess.run(
        [
            "trivy",
            "rootfs",
            "--cache-dir",
            str(trivy_db),
            "--skip-db-update",
            "--offline-scan",
            "--scanners",
            "vuln",
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
    trivy_os = json.loads(out)["Metadata"]["OS"]
    ours = finalize_os([detect(rel, data) for rel, data in files.items() if rel.startswith("etc/")])
    assert ours is not None
    assert (ours.family, ours.version) == (trivy_os["Family"], trivy_os["Name"])
    assert ours.eosl == bool(trivy_os.get("EOSL", False)), f"lockgate eol {ours.eol}, trivy {trivy_os}"
