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


def _reference_normalize(name: str) -> str | None:
    """The plain algorithm (no fast path); None where normalize must raise."""
    from lockgate.fs.paths import MAX_PATH_CHARS, MAX_PATH_DEPTH

    if "\x00" in name or len(name) > MAX_PATH_CHARS:
        return None
    stripped = name.rstrip("/")
    if name.startswith("/") and stripped:
        return None
    parts = [p for p in stripped.split("/") if p not in ("", ".")]
    if ".." in parts or len(parts) > MAX_PATH_DEPTH:
        return None
    return "/".join(parts)


def _check(name: str) -> None:
    expected = _reference_normalize(name)
    if expected is None:
        with pytest.raises(UnsafePathError):
            normalize(name)
    else:
        assert normalize(name) == expected, name


def test_normalize_fast_path_agrees_with_the_plain_algorithm() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=3000, derandomize=True, deadline=None)
    @given(st.text(alphabet="ab./\x00", max_size=12))
    def agree(name: str) -> None:
        _check(name)

    agree()
    for name in ("./" + "a/" * 255 + "b", "a/" * 255 + "b", "a/" * 256 + "b", "x" * 4096, "x" * 4097, "./.wh.x"):
        _check(name)
