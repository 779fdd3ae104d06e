"""Whiteouts and opaque directories, on images built from real folders by make-oci-image.sh.

umoci (a real OCI unpacker) is the oracle for the merged file system."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from lockgate.config import Settings
from lockgate.fs.flatten import flatten
from lockgate.fs.walker import analyze_image
from tests.fixtures.images import BuiltImage, build_image

from .helpers import DpkgStatus, Marker, OsRelease, open_image, snapshot

STATUS_AB = b"""Package: alpha
Status: install ok installed
Version: 1.0-1

Package: beta
Status: install ok installed
Version: 2.0-1
"""
STATUS_C = b"""Package: gamma
Status: install ok installed
Version: 3.0-1
"""


def _write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "l1",
        {
            "etc/os-release": b'ID=debian\nVERSION_ID="12"\n',
            "var/lib/dpkg/status": STATUS_AB,
            "opt/app/secret.txt": b"token SECRET-MARKER\n",
            "var/cache/x/old": b"old",
            "var/cache/x/keep/deep": b"deep",
        },
    )


def _scan(img: BuiltImage) -> tuple[object, list[str]]:
    image, _ = open_image(img.oci_ref)
    res = analyze_image(image, [OsRelease(), DpkgStatus(), Marker()], settings=Settings())
    return res, list(image.config.diff_ids)


def test_deleted_package_db_is_not_reported_restored_one_is(tmp_path: Path, base: Path) -> None:
    l2 = _write(tmp_path / "l2", {"var/lib/dpkg/.wh.status": b"", "opt/app/.wh.secret.txt": b""})
    l3 = _write(tmp_path / "l3", {"var/lib/dpkg/status": STATUS_C})

    two = build_image(tmp_path / "two", base, l2)
    res2, ids2 = _scan(two)
    assert res2.packages == ()  # type: ignore[attr-defined]
    # the secret was deleted too, but it was shipped in layer 1: non-squash results are kept
    assert [(f.location.path, f.location.layer) for f in res2.findings] == [("opt/app/secret.txt", ids2[0])]  # type: ignore[attr-defined]
    assert res2.os is not None and res2.os.family == "debian"  # type: ignore[attr-defined]

    three = build_image(tmp_path / "three", base, l2, l3)
    res3, ids3 = _scan(three)
    assert [(p.name, p.version, p.layer) for p in res3.packages] == [("gamma", "3.0-1", ids3[2])]  # type: ignore[attr-defined]
    assert res3.layers == tuple(ids3)  # type: ignore[attr-defined]

    base_only = build_image(tmp_path / "one", base)
    res1, ids1 = _scan(base_only)
    assert sorted(p.name for p in res1.packages) == ["alpha", "beta"]  # type: ignore[attr-defined]
    assert {p.layer for p in res1.packages} == {ids1[0]}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("upper", "survives"),
    [
        ({"var/lib/.wh..wh..opq": b"", "var/lib/other": b"x"}, False),  # opaque parent hides lower content
        ({"var/lib/.wh.dpkg": b""}, False),  # parent directory deleted
        ({"var/lib/dpkg/other": b"x"}, True),  # same directory re-listed: lower files stay
        ({"var/cache/.wh..wh..opq": b""}, True),  # unrelated opaque dir
    ],
)
def test_opaque_and_parent_whiteouts(tmp_path: Path, base: Path, upper: dict[str, bytes], survives: bool) -> None:
    l2 = _write(tmp_path / "l2", upper)
    res, _ = _scan(build_image(tmp_path / "img", base, l2))
    assert bool(res.packages) is survives  # type: ignore[attr-defined]


def test_parent_replaced_by_file_hides_results(tmp_path: Path, base: Path) -> None:
    l2 = _write(tmp_path / "l2", {"var/lib/.wh.dpkg": b"", "var/lib/dpkg": b"now a file"})
    res, _ = _scan(build_image(tmp_path / "img", base, l2))
    assert res.packages == ()  # type: ignore[attr-defined]


def _umoci_unpack(img: BuiltImage, dest: Path) -> Path:
    subprocess.run(
        ["umoci", "unpack", "--image", f"{img.oci_dir}:{img.tag}", str(dest)], check=True, capture_output=True
    )
    return dest / "rootfs"


def test_flatten_applies_whiteouts_like_umoci(tmp_path: Path, base: Path) -> None:
    l2 = _write(
        tmp_path / "l2",
        {
            "var/lib/dpkg/.wh.status": b"",
            "opt/.wh.app": b"",
            "var/cache/x/.wh..wh..opq": b"",
            "var/cache/x/new": b"new",
            "etc/extra/file": b"e",
        },
    )
    l3 = _write(tmp_path / "l3", {"var/lib/dpkg/status": STATUS_C, "opt/app/again": b"again"})
    img = build_image(tmp_path / "img", base, l2, l3)
    image, _ = open_image(img.oci_ref)
    ours = tmp_path / "ours"
    result = flatten(image, ours, settings=Settings(), keep_special_bits=True)
    assert result.gaps == ()
    theirs = _umoci_unpack(img, tmp_path / "umoci")
    got, want = snapshot(ours), snapshot(theirs)
    assert got == want
    assert b"var/cache/x/old" not in got and b"var/cache/x/keep" not in got and b"var/cache/x/new" in got
    assert b"opt/app/secret.txt" not in got and b"opt/app/again" in got
    assert (ours / "var/lib/dpkg/status").read_bytes() == STATUS_C


def test_diff_ids_match_the_uncompressed_layer_tars(tmp_path: Path, base: Path) -> None:
    """Oracle: sha256 of each layer.tar inside the docker-archive, computed independently."""
    l2 = _write(tmp_path / "l2", {"var/lib/dpkg/.wh.status": b""})
    img = build_image(tmp_path / "img", base, l2)
    with tarfile.open(img.docker_archive) as t:
        manifest = json.load(t.extractfile("manifest.json"))  # type: ignore[arg-type]
        expected = [
            "sha256:" + hashlib.sha256(t.extractfile(name).read()).hexdigest()  # type: ignore[union-attr]
            for name in manifest[0]["Layers"]
        ]
    for ref in (img.oci_ref, img.archive_ref):
        image, _ = open_image(ref)
        res = analyze_image(image, [OsRelease()], settings=Settings(), cache=False)
        assert list(res.layers) == expected


STATUS_ABC = STATUS_AB + b"\n" + STATUS_C
STATUS_A2 = b"Package: alpha\nStatus: install ok installed\nVersion: 1.1-1\n"


def test_package_layer_is_the_layer_that_introduced_it(tmp_path: Path, base: Path) -> None:
    """An updated status file keeps earlier packages on their original layer (Trivy does the same)."""
    upd = _write(tmp_path / "upd", {"var/lib/dpkg/status": STATUS_ABC})
    img = build_image(tmp_path / "two", base, upd)
    res, ids = _scan(img)
    got = {(p.name, p.version): p.layer for p in res.packages}  # type: ignore[attr-defined]
    assert got == {("alpha", "1.0-1"): ids[0], ("beta", "2.0-1"): ids[0], ("gamma", "3.0-1"): ids[1]}

    bump = _write(tmp_path / "bump", {"var/lib/dpkg/status": STATUS_A2})
    res, ids = _scan(build_image(tmp_path / "bump-img", base, upd, bump))
    assert {(p.name, p.version): p.layer for p in res.packages} == {("alpha", "1.1-1"): ids[2]}  # type: ignore[attr-defined]

    gone = _write(tmp_path / "gone", {"var/lib/dpkg/.wh.status": b""})
    back = _write(tmp_path / "back", {"var/lib/dpkg/status": STATUS_AB})
    res, ids = _scan(build_image(tmp_path / "again", base, upd, gone, back))
    assert {p.layer for p in res.packages} == {ids[3]}  # deleted, then installed again: a new origin  # type: ignore[attr-defined]
