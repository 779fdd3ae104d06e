"""NuGet versions, ordered as ``NuGet.Versioning.VersionComparer.Default``.

Hand-written (no Python port). Up to four numeric parts (missing ones are 0, leading
zeros ignored: ``1.0.01 == 1.0.1.0``), then an optional release label after ``-``:
a version without label sorts after one with a label; labels compare part by part
(``.``-separated), numeric parts as integers and before alphanumeric ones,
alphanumeric parts case-insensitively; more parts win when the shared ones are equal.
Metadata after ``+`` is ignored. Strings NuGet rejects (five numeric parts, odd
characters) compare by the same rules as far as they can be read.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lockgate.vulndb.versions.base import Comparator, check_length

_VALID = re.compile(
    r"\s*[0-9]+(?:\.[0-9]+){0,3}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*\Z"
)
_LEAD = re.compile(r"[0-9.]*")


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[Any, ...]:
    """Sort key of ``version``."""
    check_length(version)
    text = version.strip()
    text = text[1:] if text[:1] in ("v", "V") else text
    text = text.partition("+")[0]
    lead = _LEAD.match(text)
    assert lead is not None
    numbers = [int(p) for p in lead.group(0).split(".") if p]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    label = text[lead.end() :].removeprefix("-")
    if not label:
        return (tuple(numbers), (1,))
    parts = tuple((0, int(p)) if p.isascii() and p.isdigit() else (1, p.upper()) for p in label.split("."))
    return (tuple(numbers), (0, parts))


class NuGetComparator(Comparator):
    """NuGet ordering."""

    name = "nuget"

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
