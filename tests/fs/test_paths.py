"""Archive path normalisation and whiteout classification."""

from __future__ import annotations

import pytest

from lockgate.fs.paths import UnsafePathError, Whiteout, classify, normalize, normalize_link_target, parents


@pytest.mark.parametrize(
    ("name", "clean"),
    [("./etc/passwd", "etc/passwd"), ("etc//x/./y/", "etc/x/y"), ("./", ""), ("/", ""), (".", ""), ("a", "a")],
)
def test_normalize(name: str, clean: str) -> None:
    assert normalize(name) == clean


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "a/..", "a\x00b", "//etc"])
def test_normalize_rejects(name: str) -> None:
    with pytest.raises(UnsafePathError):
        normalize(name)


def test_link_targets_are_root_relative() -> None:
    assert normalize_link_target("/usr/bin/x") == "usr/bin/x"
    with pytest.raises(UnsafePathError):
        normalize_link_target("../../etc/passwd")
    with pytest.raises(UnsafePathError):
        normalize_link_target("/")


def test_classify() -> None:
    assert classify("a/b/.wh.c") == (Whiteout.DELETE, "a/b/c")
    assert classify(".wh.top") == (Whiteout.DELETE, "top")
    assert classify("a/.wh..wh..opq") == (Whiteout.OPAQUE, "a")
    assert classify(".wh..wh..opq") == (Whiteout.OPAQUE, "")
    assert classify("a/.wh..wh.plnk") == (Whiteout.META, "a/.wh..wh.plnk")
    assert classify("a/b.wh.c") == (Whiteout.NONE, "a/b.wh.c")
    with pytest.raises(UnsafePathError):
        classify("a/.wh...")


def test_parents() -> None:
    assert list(parents("a/b/c")) == ["a/b", "a"]
    assert list(parents("a")) == []


def test_printable() -> None:
    import os

    from lockgate.fs.paths import printable

    assert printable("etc/passwd") == "etc/passwd"
    assert printable("café/ü") == "café/ü"
    assert printable(os.fsdecode(b"caf\xe9")) == "caf\\xe9"
