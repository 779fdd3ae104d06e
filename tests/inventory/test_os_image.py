"""OS inventory of a real image (debootstrapped Debian bookworm, OCI layout) through the image
walker, compared with ``trivy image`` on the same layout: OS, packages, purls and licences."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from lockgate.config import Settings
from lockgate.fs.walker import analyze_image
from lockgate.inventory.finalize import finalize, finalize_os
from lockgate.inventory.registry import os_analyzers
from lockgate.oci.image import load_image, opened
from lockgate.oci.targets import open_source


def _trivy_image(oci_dir: Path, tmp_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "trivy",
            "image",
            "--input",
            str(oci_dir),
            "--cache-dir",
            str(tmp_path / "trivy-cache"),
            "--scanners",
            "license",
            "--list-all-pkgs",
            "--format",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def test_debian_image_matches_trivy(debian_image: Any, tmp_path: Path) -> None:
    with opened(open_source(debian_image.oci_ref)) as source:
        image = load_image(source)
        analysis = analyze_image(image, os_analyzers(), settings=Settings(cache_dir=tmp_path / "cache"))
    assert not analysis.gaps, analysis.gaps
    os = finalize_os(analysis.os)
    packages = finalize(analysis.packages, os)
    report = _trivy_image(debian_image.oci_dir, tmp_path)

    assert os is not None
    trivy_os = report["Metadata"]["OS"]
    assert (os.family, os.version) == (trivy_os["Family"], trivy_os["Name"])
    assert os.eol == "2028-06-30"
    assert os.codename == "bookworm"

    trivy_pkgs = {p["Name"]: p for r in report["Results"] if r.get("Class") == "os-pkgs" for p in r["Packages"]}
    assert len(trivy_pkgs) > 50
    ours = {p.name: p for p in packages}
    assert set(ours) == set(trivy_pkgs)
    for name, tp in trivy_pkgs.items():
        pkg = ours[name]
        assert pkg.purl == tp["Identifier"]["PURL"], name
        assert pkg.source_name == tp.get("SrcName", name), name
        assert pkg.layer, name  # the layer that introduced it is known
    # every package Trivy finds a licence for has one here too
    assert [n for n, tp in trivy_pkgs.items() if tp.get("Licenses") and not ours[n].licenses] == []
