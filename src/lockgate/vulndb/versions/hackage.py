"""Hackage versions: Haskell's ``Data.Version`` ordering.

Dot-separated integers compare left to right; a prefix sorts first (``1.0 < 1.0.0``).
Non-numeric parts (invalid on Hackage) are read as -1.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lockgate.vulndb.versions.base import Comparator, check_length

_VALID = re.compile(r"[0-9]+(?:\.[0-9]+)*\Z")


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[int, ...]:
    """The integer components of ``version``."""
    check_length(version)
    return tuple(int(p) if p.isascii() and p.isdigit() else -1 for p in version.strip().split("."))


class HackageComparator(Comparator):
    """``Data.Version`` ordering (Hackage)."""

    name = "hackage"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ka, kb = parse(a), parse(b)
        return int(ka > kb) - int(ka < kb)

    def key(self, version: str) -> Any:
        """Cached tuple key (see :meth:`Comparator.key`)."""
        return parse(version)

    def valid(self, version: str) -> bool:
        return bool(_VALID.match(version))
