"""Image hardening checks on a real debootstrap rootfs; ``find`` is the oracle for file modes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from lockgate.config import Settings
from lockgate.fs.directory import analyze_directory
from lockgate.fs.model import FileEntry, FileType
from lockgate.misconfig.imageconfig import ImageHardeningAnalyzer, check_image, check_image_config
from lockgate.oci.model import ImageConfig


def _find(root: Path, *expr: str) -> set[str]:
    out = subprocess.run(["find", ".", *expr], cwd=root, capture_output=True, text=True, check=True).stdout
    return {"/" + line[2:] for line in out.splitlines() if line.startswith("./")}


def test_filesystem_checks_match_find(debian_rootfs: Path) -> None:
    analysis = analyze_directory(debian_rootfs, [ImageHardeningAnalyzer()], settings=Settings())
    by_rule: dict[str, set[str]] = {}
    for f in analysis.findings:
        by_rule.setdefault(f.id, set()).add(f.location.path)
    setuid = _find(debian_rootfs, "-type", "f", "(", "-perm", "-4000", "-o", "-perm", "-2000", ")")
    assert setuid and by_rule.get("LG-IMG-002", set()) == setuid
    writable = _find(debian_rootfs, "(", "-type", "f", "-o", "-type", "d", ")", "-perm", "-0002") - _find(
        debian_rootfs, "-type", "d", "-perm", "-1000"
    )
    assert by_rule.get("LG-IMG-003", set()) == writable
    assert {"/bin/sh", "/bin/bash"} & by_rule["LG-IMG-004"] or {"/usr/bin/sh", "/usr/bin/bash"} & by_rule["LG-IMG-004"]
    assert {"/usr/bin/apt-get", "/usr/bin/dpkg"} <= by_rule["LG-IMG-005"]


def test_config_checks() -> None:
    raw = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"User": "0:0", "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}}},
            "rootfs": {"type": "layers", "diff_ids": []},
        }
    ).encode()
    ids = sorted(f.id for f in check_image_config(ImageConfig.parse(raw), "img"))
    assert ids == ["LG-IMG-001", "LG-IMG-006", "LG-IMG-007"]
    good = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"User": "10001", "Healthcheck": {"Test": ["CMD", "true"]}},
            "rootfs": {"type": "layers", "diff_ids": []},
        }
    ).encode()
    cfg = ImageConfig.parse(good)
    entries = [
        FileEntry("tmp", mode=0o1777, type=FileType.DIR),
        FileEntry("srv/drop", mode=0o777, type=FileType.DIR, layer="sha256:ab"),
        FileEntry("usr/bin/passwd", mode=0o4755),
        FileEntry("bin/sh", type=FileType.SYMLINK, linkname="busybox", mode=0o777),
    ]
    found = {(f.id, f.location.path) for f in check_image(cfg, entries, "img")}
    assert found == {
        ("LG-IMG-003", "/srv/drop"),
        ("LG-IMG-002", "/usr/bin/passwd"),
        ("LG-IMG-004", "/bin/sh"),
    }
