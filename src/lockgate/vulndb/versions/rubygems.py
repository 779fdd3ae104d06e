"""RubyGems versions, ordered as ``Gem::Version#<=>``.

Hand-written (no Python port). A version is scanned into segments: runs of digits
(integers) and runs of letters (strings); ``-`` means ``.pre.``. Trailing zero
segments are dropped from the release part and from the pre-release part
(``canonical_segments``), then segments compare pairwise with missing ones read as 0:
a string segment sorts before a number (``1.0.a < 1.0``), strings compare bytewise,
numbers numerically. So ``1.0.a2 == 1.0.a.2`` and ``1.0 == 1.0.0``. Strings that
``Gem::Version`` would reject still compare by the same segment scan.
"""

from __future__ import annotations

import functools
import re
from itertools import zip_longest

from lockgate.vulndb.versions.base import Comparator, check_length

_SEGMENT = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE)
_VALID = re.compile(r"\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\Z")

_Seg = tuple[int, int | str]
_ZERO: _Seg = (1, 0)


def _strip_zeros(segs: list[_Seg]) -> list[_Seg]:
    while segs and segs[-1] == _ZERO:
        segs.pop()
    return segs


@functools.lru_cache(maxsize=65536)
def canonical_segments(version: str) -> tuple[_Seg, ...]:
    """``Gem::Version#canonical_segments``, each as ``(0, str)`` or ``(1, int)``."""
    check_length(version)
    text = version.strip().replace("-", ".pre.")
    segs: list[_Seg] = [(1, int(s)) if s[0].isdigit() else (0, s) for s in _SEGMENT.findall(text)]
    first_str = next((i for i, s in enumerate(segs) if s[0] == 0), len(segs))
    return tuple(_strip_zeros(segs[:first_str]) + _strip_zeros(segs[first_str:]))


class RubyGemsComparator(Comparator):
    """``Gem::Version`` ordering (RubyGems)."""

    name = "rubygems"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ca, cb = canonical_segments(a), canonical_segments(b)
        for x, y in zip_longest(ca, cb, fillvalue=_ZERO):
            if x != y:
                if x[0] != y[0]:
                    return -1 if x[0] < y[0] else 1
                return -1 if x[1] < y[1] else 1  # type: ignore[operator]
        return 0

    def valid(self, version: str) -> bool:
        """``Gem::Version.correct?``."""
        return bool(_VALID.match(version))
