"""Directory analysis: same analysers, symlinks never followed, limits become gaps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lockgate.config import Limits, Settings
from lockgate.errors import NotFoundError
from lockgate.fs.directory import analyze_directory
from lockgate.fs.model import FileType

from .helpers import DpkgStatus, Marker, OsRelease, Recorder

STATUS = b"Package: alpha\nStatus: install ok installed\nVersion: 1.0\n"


def test_symlinks_are_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc/os-release").write_bytes(b"ID=host\n")
    (outside / "key").write_bytes(b"SECRET-MARKER")
    root = tmp_path / "root"
    root.mkdir()
    (root / "etc").symlink_to(outside / "etc")  # absolute link out of the tree
    (root / "key").symlink_to("../outside/key")
    (root / "loop").symlink_to("loop")
    rec = Recorder()
    res = analyze_directory(root, [OsRelease(), Marker(), rec], settings=Settings())
    assert res.os is None and res.findings == () and res.gaps == ()
    assert {(e.path, e.type, e.linkname) for e in rec.seen} == {
        ("etc", FileType.SYMLINK, str(outside / "etc")),
        ("key", FileType.SYMLINK, "../outside/key"),
        ("loop", FileType.SYMLINK, "loop"),
    }


def test_files_and_metadata(tmp_path: Path) -> None:
    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_bytes(STATUS)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/tool").write_bytes(b"#!/bin/sh\n")
    os.chmod(tmp_path / "bin/tool", 0o4755)
    os.mkfifo(tmp_path / "pipe")  # must never be opened (it would block)
    (tmp_path / os.fsdecode(b"caf\xe9")).write_bytes(b"SECRET-MARKER")
    rec = Recorder()
    res = analyze_directory(tmp_path, [DpkgStatus(), Marker(), rec], settings=Settings())
    assert [(p.name, p.version, p.path, p.layer) for p in res.packages] == [("alpha", "1.0", "var/lib/dpkg/status", "")]
    assert [f.location.path for f in res.findings] == ["caf\\xe9"]
    seen = {e.path: e for e in rec.seen}
    assert seen["bin/tool"].mode == 0o4755 and seen["bin/tool"].size == 10
    assert seen["pipe"].type is FileType.FIFO
    assert seen["var/lib"].type is FileType.DIR


def test_over_limit_file_is_a_gap(tmp_path: Path) -> None:
    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_bytes(STATUS * 100)
    (tmp_path / "big").write_bytes(b"SECRET-MARKER" + b"x" * 5000)  # Marker caps at 4096 bytes
    res = analyze_directory(tmp_path, [DpkgStatus(), Marker()], settings=Settings(limits=Limits(max_file_bytes=1000)))
    assert res.packages == ()
    got = sorted((g.where, g.reason) for g in res.gaps)
    assert got == [
        ("big", "file is 5013 bytes, over the 4096-byte limit of test-marker"),
        ("var/lib/dpkg/status", "file is 5700 bytes, over the 1000-byte limit of test-dpkg"),
        ("var/lib/dpkg/status", "file is 5700 bytes, over the 4096-byte limit of test-marker"),
    ]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        analyze_directory(tmp_path / "nope", [Recorder()], settings=Settings())


def test_directory_swapped_for_a_symlink_is_not_entered(tmp_path: Path) -> None:
    """The race a hostile tree could play (dir listed, then replaced by a symlink) is refused."""
    import errno

    from lockgate.fs.directory import _open_dir

    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "sneaky").symlink_to(outside)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.close(_open_dir(fd, "real"))
        with pytest.raises(OSError) as e:
            _open_dir(fd, "sneaky")
        assert e.value.errno in (errno.ELOOP, errno.ENOTDIR)
    finally:
        os.close(fd)
