"""Debian licences from usr/share/doc/*/copyright: unit cases and a comparison with Trivy on the host."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from lockgate.fs.model import FileEntry
from lockgate.inventory.finalize import finalize, finalize_os
from lockgate.inventory.model import OSInfo, Package
from lockgate.inventory.os.dpkg_copyright import DpkgCopyrightAnalyzer, normalize_debian_license, parse_copyright
from lockgate.inventory.registry import os_analyzers
from tests.inventory.conftest import run_analyzer

DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: 2020 Someone
License: GPL-2+ or Artistic, and BSD-3-clause
 This program is free software ...

Files: lib/*
License: LGPL-2.1+ with OpenSSL exception
"""
FREE_FORM = """This package was debianized by someone.
On Debian systems, the complete text of the GNU General Public License version 3
can be found in `/usr/share/common-licenses/GPL-3'.
"""


def test_dep5_and_free_form() -> None:
    assert parse_copyright(DEP5) == (
        "GPL-2.0-or-later",
        "Artistic",
        "BSD-3-Clause",
        "LGPL-2.1+ with OpenSSL exception",
    )
    assert parse_copyright(FREE_FORM) == ("GPL-3.0-only",)
    assert normalize_debian_license("Expat") == "MIT"
    assert normalize_debian_license("GFDL-NIV-1.3+") == "GFDL-1.3-no-invariants-or-later"
    assert normalize_debian_license("LicenseRef-custom") == "LicenseRef-custom"


def test_record_is_joined_in_finalize() -> None:
    analyzer = DpkgCopyrightAnalyzer()
    assert not analyzer.required(FileEntry("usr/share/doc/demo/changelog.gz"))
    assert not analyzer.required(FileEntry("usr/share/doc/demo/sub/copyright"))
    result = run_analyzer(analyzer, "usr/share/doc/demo/copyright", FREE_FORM.encode())
    installed = Package("deb", "demo", "1.0-1", arch="amd64", path="var/lib/dpkg/status")
    other = Package("deb", "other", "2.0-1", arch="amd64", path="var/lib/dpkg/status")
    out = finalize([*result.packages, installed, other], OSInfo("debian", "12.5"))
    assert [(p.name, p.licenses) for p in out] == [("demo", ("GPL-3.0-only",)), ("other", ())]
    assert not run_analyzer(analyzer, "usr/share/doc/demo/copyright", b"\x00\x01binary")


def test_host_licences_close_to_trivy(tmp_path: Path) -> None:
    """Real copyright files of the host's packages; Trivy reads the same files.

    Trivy maps more free-text names to SPDX (some by guess, e.g. ``Artistic`` to
    ``Artistic-2.0``); lockgate keeps names it cannot map as written. The test requires that
    no package Trivy gives licences to is left without any, and that most packages agree exactly.
    """
    root = tmp_path / "rootfs"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy("/var/lib/dpkg/status", root / "var/lib/dpkg/status")
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    for doc in Path("/usr/share/doc").iterdir():
        src = doc / "copyright"
        if doc.is_symlink() or not src.is_file() or src.is_symlink():
            continue
        (root / "usr/share/doc" / doc.name).mkdir(parents=True)
        shutil.copy(src, root / "usr/share/doc" / doc.name / "copyright")
    report = json.loads(
        subprocess.run(
            [
                "trivy",
                "rootfs",
                "--cache-dir",
                str(tmp_path / "cache"),
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
    )
    trivy = {
        p["Name"]: set(p.get("Licenses") or [])
        for r in report["Results"]
        if r.get("Class") == "os-pkgs"
        for p in r["Packages"]
    }
    analyzers = os_analyzers()
    found: list[Package] = []
    for file in root.rglob("*"):
        if file.is_file():
            entry = FileEntry(file.relative_to(root).as_posix(), file.stat().st_size)
            for a in analyzers:
                if a.required(entry):
                    found.extend(a.analyze(entry, file.read_bytes()).packages)
    ours = {p.name: set(p.licenses) for p in finalize(found, finalize_os(OSInfo("debian", "12")))}
    assert set(ours) == set(trivy)
    with_licences = [n for n, lic in trivy.items() if lic]
    assert len(with_licences) > 20
    assert [n for n in with_licences if not ours[n]] == []
    same = sum(1 for n in with_licences if ours[n] == trivy[n])
    assert same / len(with_licences) > 0.6, f"only {same}/{len(with_licences)} agree"
