"""The real debootstrapped Debian bookworm image: analysis against dpkg-query, flattening
against ``umoci unpack``, zstd layers written by skopeo, and the rootfs as a directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from lockgate.config import Settings
from lockgate.fs.directory import analyze_directory
from lockgate.fs.flatten import flatten
from lockgate.fs.walker import analyze_image
from tests.fixtures.images import BuiltImage

from .helpers import DpkgStatus, OsRelease, layer_reads, open_image, snapshot

pytestmark = pytest.mark.slow


def dpkg_installed(rootfs: Path) -> set[tuple[str, str]]:
    out = subprocess.run(
        ["dpkg-query", f"--admindir={rootfs}/var/lib/dpkg", "-W", "-f", "${Package} ${Version} ${db:Status-Status}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {(n, v) for n, v, s in (line.split(" ") for line in out.splitlines()) if s == "installed"}


@pytest.fixture(scope="module")
def zstd_image(debian_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> str:
    dest = tmp_path_factory.mktemp("zstd") / "oci"
    subprocess.run(
        ["skopeo", "copy", "--dest-compress", "--dest-compress-format", "zstd", debian_image.oci_ref, f"oci:{dest}:z"],
        check=True,
        capture_output=True,
    )
    return f"oci:{dest}:z"


def test_image_analysis_matches_dpkg_query(debian_image: BuiltImage, debian_rootfs: Path) -> None:
    expected = dpkg_installed(debian_rootfs)
    assert len(expected) > 80
    img, src = open_image(debian_image.oci_ref)
    res = analyze_image(img, [OsRelease(), DpkgStatus()], settings=Settings())
    assert {(p.name, p.version) for p in res.packages} == expected
    assert res.os is not None and (res.os.family, res.os.version, res.os.codename) == ("debian", "12", "bookworm")
    assert res.gaps == ()
    assert res.layers == img.config.diff_ids
    assert layer_reads(src, img) == 1


def test_docker_archive_oci_and_zstd_agree(debian_image: BuiltImage, zstd_image: str) -> None:
    results = []
    for ref in (debian_image.oci_ref, debian_image.archive_ref, zstd_image):
        img, _ = open_image(ref)
        results.append(analyze_image(img, [OsRelease(), DpkgStatus()], settings=Settings(), cache=False))
    assert results[0] == results[1] == results[2]
    img, _ = open_image(zstd_image)
    assert img.layers[0].media_type.endswith("+zstd")


def test_directory_analysis_of_the_rootfs(debian_rootfs: Path) -> None:
    res = analyze_directory(debian_rootfs, [OsRelease(), DpkgStatus()], settings=Settings())
    assert {(p.name, p.version) for p in res.packages} == dpkg_installed(debian_rootfs)
    assert {p.layer for p in res.packages} == {""} and res.layers == ()
    assert res.os is not None and res.os.family == "debian"


def test_flatten_equals_umoci_unpack(debian_image: BuiltImage, tmp_path: Path) -> None:
    img, _ = open_image(debian_image.oci_ref)
    ours = tmp_path / "ours"
    result = flatten(img, ours, settings=Settings(), keep_special_bits=True)
    assert result.gaps == ()
    assert result.layers == img.config.diff_ids
    subprocess.run(
        ["umoci", "unpack", "--image", f"{debian_image.oci_dir}:{debian_image.tag}", str(tmp_path / "umoci")],
        check=True,
        capture_output=True,
    )
    got, want = snapshot(ours), snapshot(tmp_path / "umoci" / "rootfs")
    assert len(got) > 5000
    missing, extra = sorted(set(want) - set(got))[:10], sorted(set(got) - set(want))[:10]
    assert not missing and not extra, (missing, extra)
    differing = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not differing, differing[:10]
    # owners too (we run as root, so both apply the archive's numeric owners)
    for rel in (b"etc/shadow", b"usr/bin/passwd", b"var/log"):
        a, b = os.lstat(ours / os.fsdecode(rel)), os.lstat(tmp_path / "umoci/rootfs" / os.fsdecode(rel))
        assert (a.st_uid, a.st_gid) == (b.st_uid, b.st_gid)
