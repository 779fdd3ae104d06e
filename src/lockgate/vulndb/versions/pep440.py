"""Python package versions: PEP 440 ordering, plus a defined place for invalid ones.

Valid versions are ordered as ``packaging.version.Version`` orders them (epochs,
pre/post/dev releases, local labels, normalisation such as ``1.0.alpha == 1.0a0``).
Plain releases (``2.31.0``, ``v1.0``: digits and dots only, the vast majority) and releases
with pre, post or dev parts in canonical spelling (``5.2b1``, ``1.0.post1``, ``2.0rc1.dev3``,
as advisories write their bounds) are keyed without importing ``packaging``, whose import
compiles a large regular expression; every other string (epochs, local labels, other
spellings, invalid versions) goes through ``packaging``. Both produce the same plain-tuple
key, mirroring ``Version``'s own comparison key, so keys of the two kinds compare with each
other.

Strings that are not PEP 440 (old releases such as ``0.1-bulbasaur`` still exist on
PyPI) sort before every valid version, and among themselves by the legacy scheme
setuptools and pip used before PEP 440 (``LegacyVersion``, removed from ``packaging``
22): runs of digits compare numerically, ``pre``/``preview``/``rc`` count as ``c``,
``dev`` sorts first, and pre-release words sort before the final release. This is
what OSV's reference implementation does, so advisories and scanners agree.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lockgate.vulndb.versions.base import Comparator, check_length

_LEGACY_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_MAP = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}

# The parts of packaging's comparison key after (epoch, release), as plain tuples:
# pre: (0,) no pre but a dev release (-infinity), (1, letter, n) a pre release, (2,) none (+infinity);
# post: (0,) none (-infinity), (1, n); dev: (0, n), (1,) none (+infinity);
# local: (0,) none (-infinity), (1, parts) with a number part (1, n) above a word part (0, word).
_FINAL = ((2,), (0,), (1,), (0,))
"""Pre, post, dev and local parts of a plain release."""


def _legacy_parts(text: str) -> list[str]:
    parts: list[str] = []
    for raw in _LEGACY_PART.split(text):
        part = _LEGACY_MAP.get(raw, raw)
        if not part or part == ".":
            continue
        parts.append(part.zfill(8) if part[:1] in "0123456789" else "*" + part)
    parts.append("*final")
    return parts


def legacy_key(text: str) -> tuple[str, ...]:
    """The pre-PEP 440 sort key of ``text``."""
    out: list[str] = []
    for part in _legacy_parts(text.lower()):
        if part.startswith("*"):
            if part < "*final":
                while out and out[-1] == "*final-":
                    out.pop()
            while out and out[-1] == "00000000":
                out.pop()
        out.append(part)
    return tuple(out)


def _trim(release: tuple[int, ...]) -> tuple[int, ...]:
    """``release`` without trailing zeros (``1.0.0`` equals ``1``)."""
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    return release[:end]


def plain_release(version: str) -> tuple[int, ...] | None:
    """The release numbers of a plain release (``2.31.0``, `` v1.0 ``), None for anything else.

    Plain means what PEP 440 accepts with no epoch, pre, post, dev or local part:
    surrounding whitespace, an optional ``v``, then ASCII digit runs separated by dots.
    """
    s = version.strip()
    if s[:1] in ("v", "V"):
        s = s[1:]
    parts = s.split(".")
    for p in parts:
        if not (p.isascii() and p.isdigit()):
            return None
    return tuple(map(int, parts))


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _cut(text: str, tag: str) -> tuple[str, int | None] | None:
    """``text`` without a trailing ``tag`` + number, and that number; None when ``tag`` is not followed by one."""
    head, sep, tail = text.rpartition(tag)
    if not sep:
        return text, None
    n = _number(tail)
    return None if n is None else (head, n)


def _simple_key(version: str) -> tuple[Any, ...] | None:
    """The key of a plain release with optional canonical ``{a|b|rc}N``, ``.postN``, ``.devN``; else None."""
    release = plain_release(version)
    if release is not None:
        return (1, 0, _trim(release), *_FINAL)
    s = version.strip()
    if s[:1] in ("v", "V"):
        s = s[1:]
    if (cut := _cut(s, ".dev")) is None:
        return None
    s, dev = cut
    if (cut := _cut(s, ".post")) is None:
        return None
    s, post = cut
    pre: tuple[Any, ...] | None = None
    for letter in ("a", "b", "rc"):
        head, sep, tail = s.partition(letter)
        if sep:
            if (n := _number(tail)) is None:
                return None
            s, pre = head, (1, letter, n)
            break
    release = plain_release(s) if s[:1].isdigit() and s == s.strip() else None
    if release is None or (pre is None and post is None and dev is None):
        return None
    if pre is None:
        pre = (0,) if dev is not None and post is None else (2,)
    return (1, 0, _trim(release), pre, (0,) if post is None else (1, post), (1,) if dev is None else (0, dev), (0,))


def _full_key(version: str) -> tuple[Any, ...]:
    from packaging.version import InvalidVersion, Version

    try:
        v = Version(version)
    except InvalidVersion:
        return (0, legacy_key(version))
    if v.pre is not None:
        pre: tuple[Any, ...] = (1, *v.pre)
    elif v.dev is not None and v.post is None:
        pre = (0,)
    else:
        pre = (2,)
    post = (0,) if v.post is None else (1, v.post)
    dev = (1,) if v.dev is None else (0, v.dev)
    if v.local is None:
        local: tuple[Any, ...] = (0,)
    else:  # Version.local is the normalised label: parts joined by "."
        local = (1, tuple((1, int(p)) if p.isdigit() else (0, p) for p in v.local.split(".")))
    return (1, v.epoch, _trim(v.release), pre, post, dev, local)


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[Any, ...]:
    """Sort key: ``(1, epoch, release, pre, post, dev, local)`` for PEP 440 versions, ``(0, legacy key)`` otherwise.

    Valid keys order (and compare equal) exactly as ``packaging.version.Version`` does.
    """
    check_length(version)
    key = _simple_key(version)
    return key if key is not None else _full_key(version)


class Pep440Comparator(Comparator):
    """PEP 440 ordering (PyPI)."""

    name = "pep440"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ka, kb = parse(a), parse(b)
        return int(ka > kb) - int(ka < kb)

    def key(self, version: str) -> Any:
        """Cached tuple key (see :meth:`Comparator.key`)."""
        return parse(version)

    def valid(self, version: str) -> bool:
        return bool(parse(version)[0] == 1)
