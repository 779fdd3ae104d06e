"""flatten on small images built from folders: special bits, owners, fifos, duplicates across layers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from lockgate.config import Settings
from lockgate.fs.flatten import flatten
from tests.fixtures.images import TarBuilder, build_image, write_layout

from .helpers import open_image


def _special_image(tmp_path: Path) -> str:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    for name, mode in (("su", 0o4755), ("wall", 0o2755), ("plain", 0o755)):
        (root / "usr/bin" / name).write_bytes(b"#!/bin/sh\n")
        os.chown(root / "usr/bin" / name, 0, 5 if name == "wall" else 0)  # chown clears setgid: do it first
        os.chmod(root / "usr/bin" / name, mode)
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    (root / "var/mail").mkdir(parents=True)
    os.chmod(root / "var/mail", 0o2775)
    return build_image(tmp_path / "img", root).oci_ref


def test_setuid_and_setgid_dropped_by_default(tmp_path: Path) -> None:
    img, _ = open_image(_special_image(tmp_path))
    out = tmp_path / "out"
    flatten(img, out, settings=Settings())
    mode = {n: stat.S_IMODE((out / "usr/bin" / n).stat().st_mode) for n in ("su", "wall", "plain")}
    assert mode == {"su": 0o755, "wall": 0o755, "plain": 0o755}
    assert stat.S_IMODE((out / "tmp").stat().st_mode) == 0o1777  # sticky bit is harmless and kept
    assert stat.S_IMODE((out / "var/mail").stat().st_mode) == 0o2775  # setgid on directories is kept
    if os.geteuid() == 0:
        assert (out / "usr/bin/wall").stat().st_gid == 5


def test_special_bits_kept_when_asked(tmp_path: Path) -> None:
    img, _ = open_image(_special_image(tmp_path))
    out = tmp_path / "out"
    flatten(img, out, settings=Settings(), keep_special_bits=True)
    assert stat.S_IMODE((out / "usr/bin/su").stat().st_mode) == 0o4755
    assert stat.S_IMODE((out / "usr/bin/wall").stat().st_mode) == 0o2755


def test_replacements_across_layers(tmp_path: Path) -> None:
    l1 = TarBuilder().dir("d").file("d/inner", b"1").file("f", b"file").symlink("s", "f").fifo("p").bytes()
    l2 = (
        TarBuilder()
        .file("d", b"dir became a file")
        .dir("f")
        .file("f/x", b"file became a dir")
        .file("s", b"now a file")
        .bytes()
    )
    img, _ = open_image(write_layout(tmp_path / "img", [l1, l2]).oci_ref)
    out = tmp_path / "out"
    res = flatten(img, out, settings=Settings())
    assert res.gaps == ()
    assert (out / "d").read_bytes() == b"dir became a file"
    assert (out / "f/x").read_bytes() == b"file became a dir"
    assert not (out / "s").is_symlink() and (out / "s").read_bytes() == b"now a file"
    assert stat.S_ISFIFO(os.lstat(out / "p").st_mode)
