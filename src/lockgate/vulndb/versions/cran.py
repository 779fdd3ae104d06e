"""CRAN (and Bioconductor) versions: R's ``package_version`` ordering.

Integers separated by ``.`` or ``-`` compare left to right; when one version is a
prefix of the other, the longer one is greater (``0.1.0 < 0.1.0.0``). Non-numeric
parts (invalid in R) are read as their digits, or as -1 when they have none.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lockgate.vulndb.versions.base import Comparator, check_length

_VALID = re.compile(r"[0-9]+(?:[.-][0-9]+)+\Z")


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[int, ...]:
    """The integer components of ``version``."""
    check_length(version)
    out = []
    for part in re.split(r"[.-]", version.strip()):
        digits = "".join(c for c in part if c.isascii() and c.isdigit())
        out.append(int(digits) if digits else -1)
    return tuple(out)


class CranComparator(Comparator):
    """R ``package_version`` ordering (CRAN, Bioconductor)."""

    name = "cran"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ka, kb = parse(a), parse(b)
        return int(ka > kb) - int(ka < kb)

    def key(self, version: str) -> Any:
        """Cached tuple key (see :meth:`Comparator.key`)."""
        return parse(version)

    def valid(self, version: str) -> bool:
        """R needs at least two components (``1.0``, ``0.1-2``)."""
        return bool(_VALID.match(version))
