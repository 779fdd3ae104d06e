"""Composer / Packagist versions, ordered as PHP's ``version_compare`` (what OSV uses).

Hand-written: PHP's algorithm, not a library. A leading ``v``/``V`` is dropped; ``-``,
``_`` and ``+`` become ``.``; a ``.`` is inserted wherever digits and non-digits meet
(``1.0rc1`` -> ``1.0.rc.1``). Parts compare pairwise: numbers numerically, anything
else by its special form (matched by prefix), in PHP's documented order: any other
word ``< dev < alpha = a < beta = b < RC = rc < # (a number) < pl = p``. When one
version runs out, a following number makes the longer one greater and a following word is
compared against ``#`` (so ``1.0 < 1.0.0``, ``1.0-beta < 1.0``, ``1.0 < 1.0pl1``).
``dev-<branch>`` versions therefore sort below every release.

Composer's own normaliser pads releases to four numbers (``1.0 == 1.0.0.0``); OSV's
Packagist ordering is plain ``version_compare``, where ``1.0 < 1.0.0``, and advisories
are written for it, so that padding is not applied.
"""

from __future__ import annotations

import functools
import re

from lockgate.vulndb.versions.base import Comparator, check_length

_SEPARATORS = re.compile(r"[-_+]")
_NONDIGIT_DIGIT = re.compile(r"([^\d.])(\d)")
_DIGIT_NONDIGIT = re.compile(r"(\d)([^\d.])")

_SPECIAL = (
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("#", 4),
    ("pl", 5),
    ("p", 5),
)
_VALID = re.compile(
    r"v?[0-9]+(?:\.[0-9]+){0,3}(?:[-_.]?(?:stable|beta|b|RC|rc|alpha|a|patch|pl|p)(?:[.-]?[0-9]+)*)?(?:[-.]?dev)?\Z"
    r"|dev-.+\Z|.+-dev\Z",
    re.IGNORECASE,
)


def canonical(version: str) -> tuple[str, ...]:
    """``version`` split into ``version_compare`` parts."""
    text = version[1:] if version[:1] in ("v", "V") else version
    text = _SEPARATORS.sub(".", text)
    text = _NONDIGIT_DIGIT.sub(r"\1.\2", text)
    text = _DIGIT_NONDIGIT.sub(r"\1.\2", text)
    return tuple(text.split("."))


def _special(part: str) -> int:
    for name, rank in _SPECIAL:
        if part.startswith(name):
            return rank
    return -1


def _is_number(part: str) -> bool:
    return part.isascii() and part.isdigit()


def _compare_parts(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    for x, y in zip(a, b, strict=False):
        if _is_number(x) and _is_number(y):
            r = (int(x) > int(y)) - (int(x) < int(y))
        else:
            sx = 4 if _is_number(x) else _special(x)
            sy = 4 if _is_number(y) else _special(y)
            r = (sx > sy) - (sx < sy)
        if r:
            return r
    if len(a) > len(b):
        return 1 if _is_number(a[len(b)]) else _compare_parts(a[len(b) :], ("#",))
    if len(a) < len(b):
        return -1 if _is_number(b[len(a)]) else _compare_parts(("#",), b[len(a) :])
    return 0


@functools.lru_cache(maxsize=65536)
def _parts(version: str) -> tuple[str, ...]:
    check_length(version)
    return canonical(version)


class ComposerComparator(Comparator):
    """PHP ``version_compare`` ordering (Packagist)."""

    name = "composer"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        return _compare_parts(_parts(a), _parts(b))

    def valid(self, version: str) -> bool:
        """Accepted by Composer's version parser (releases with stability suffixes, or branches)."""
        return bool(_VALID.match(version.strip()))
