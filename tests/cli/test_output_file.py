"""``-o FILE``: written atomically next to the target, as an ordinary file, with no leftovers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lockgate.cli._common import write_output
from lockgate.errors import ConfigError


def test_atomic_write_mode_and_no_leftovers(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        out = tmp_path / "report.json"
        out.write_text("old")
        write_output('{"new": true}', out)
        assert out.read_text() == '{"new": true}'
        assert out.stat().st_mode & 0o777 == 0o640  # 0666 minus the umask, like any file the user creates
        assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    finally:
        os.umask(old)


def test_symlink_target_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    write_output(b"report", link)
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and link.read_bytes() == b"report"


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        write_output("x", tmp_path / "nope" / "r.json")
    assert list(tmp_path.iterdir()) == []
