"""Python package versions: PEP 440 via :mod:`packaging.version`, plus a defined place for invalid ones.

Valid versions are ordered by ``packaging.version.Version`` (epochs, pre/post/dev
releases, local labels, normalisation such as ``1.0.alpha == 1.0a0``).

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

from packaging.version import InvalidVersion, Version

from lockgate.vulndb.versions.base import Comparator, check_length

_LEGACY_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_MAP = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


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


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[int, Any]:
    """Sort key: ``(1, Version)`` for PEP 440 versions, ``(0, legacy key)`` otherwise."""
    check_length(version)
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, legacy_key(version))


class Pep440Comparator(Comparator):
    """PEP 440 ordering (PyPI)."""

    name = "pep440"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ka, kb = parse(a), parse(b)
        if ka[0] != kb[0]:
            return -1 if ka[0] < kb[0] else 1
        return int(ka[1] > kb[1]) - int(ka[1] < kb[1])

    def key(self, version: str) -> Any:
        """Cached tuple key (see :meth:`Comparator.key`)."""
        return parse(version)

    def valid(self, version: str) -> bool:
        return parse(version)[0] == 1
