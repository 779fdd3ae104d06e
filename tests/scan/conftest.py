"""A realistic vulnerable image and a small advisory DB, shared by the scan tests.

The image holds a real Alpine package database from the corpus (Alpine 3.4-era musl,
openssl 1.0.2h ...) and dist-info metadata of old PyPI releases; the DB is built with
``lockgate db import`` from the corpus's Alpine v3.4 secdb and PyPI advisories.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.fixtures.images import build_image

OLD_PYPI = (("Jinja2", "2.10", "BSD-3-Clause"), ("requests", "2.19.0", "Apache-2.0"), ("PyYAML", "5.3", "MIT"))


@dataclass(frozen=True)
class ScanEnv:
    image: str
    oci_dir: Path
    docker_archive: Path
    db: Path
    root: Path


def lockgate(*args: str, env_cache: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    if env_cache is not None:
        env["LOCKGATE_CACHE_DIR"] = str(env_cache)
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args], capture_output=True, text=True, env=env, check=check
    )


def make_rootfs(root: Path) -> Path:
    fs = root / "rootfs"
    (fs / "etc").mkdir(parents=True)
    (fs / "etc/os-release").write_text('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\n')
    (fs / "etc/alpine-release").write_text("3.4.6\n")
    (fs / "lib/apk/db").mkdir(parents=True)
    # The corpus DB carries one deliberately broken stanza (no version) for parser tests; drop it here so
    # the scan is complete (the parser tests cover the broken case).
    stanzas = (CORPUS / "pkgdb/apk/trivy/installed").read_text().split("\n\n")
    kept = [st for st in stanzas if "P:invalidPackageWithoutAVersion" not in st]
    (fs / "lib/apk/db/installed").write_text("\n\n".join(kept))
    site = fs / "usr/lib/python3.5/site-packages"
    for name, version, lic in OLD_PYPI:
        d = site / f"{name}-{version}.dist-info"
        d.mkdir(parents=True)
        (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: {lic}\n")
    return fs


@pytest.fixture(scope="session")
def scan_env(tmp_path_factory: pytest.TempPathFactory) -> ScanEnv:
    root = tmp_path_factory.mktemp("scan-env")
    built = build_image(root / "img", make_rootfs(root), tag="demo", repo_tag="lockgate/demo:1")
    db = root / "db" / "lockgate.db"
    r = lockgate(
        "db",
        "import",
        "--db",
        str(db),
        str(CORPUS / "alpine-secdb/v3.4"),
        str(CORPUS / "osv/pypi"),
        env_cache=root / "cache",
    )
    assert r.returncode == 0, r.stderr
    return ScanEnv(
        image=f"oci:{built.oci_dir}:demo",
        oci_dir=built.oci_dir,
        docker_archive=built.docker_archive,
        db=db,
        root=root,
    )
