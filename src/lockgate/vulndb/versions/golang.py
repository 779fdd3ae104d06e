"""Go module versions, ordered as ``golang.org/x/mod/semver`` orders them.

Hand-written port of the rules (no Python port exists). Versions are SemVer with a
``v`` prefix; OSV writes Go versions without it, so the prefix is optional here.
The shorthands ``v1`` and ``v1.2`` mean ``v1.0.0`` and ``v1.2.0``. Build metadata,
including ``+incompatible``, is ignored. Pseudo-versions
(``v0.0.0-20191109021931-daa7c04131f5``, ``v1.2.4-0.20191109021931-...``) are ordinary
pre-releases and sort by their timestamp, below the release they precede. As in
``x/mod``, invalid versions (``(devel)``, ``1.2.3.4``) sort before every valid
version and are equal to each other.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lockgate.vulndb.versions.base import Comparator, check_length

_GO = re.compile(
    r"v?(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?)?)?\Z",
    re.ASCII,
)


@functools.lru_cache(maxsize=65536)
def parse(version: str) -> tuple[Any, ...] | None:
    """Sort key, or None when ``version`` is not a valid Go module version."""
    check_length(version)
    m = _GO.match(version)
    if m is None:
        return None
    major, minor, patch, pre, _build = m.groups()
    if pre is None:
        pre_key: tuple[Any, ...] = (1,)
    else:
        pre_key = (0, tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")))
    return (int(major), int(minor or 0), int(patch or 0), pre_key)


_TOOLCHAIN = re.compile(r"go([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:(beta|rc)([0-9]+))?\Z")


def toolchain_semver(version: str) -> str:
    """Go toolchain release names as the SemVer the Go vulnerability database uses for ``stdlib``.

    ``go1.20`` -> ``1.20.0``, ``go1.20.3`` -> ``1.20.3``, ``go1.21rc2`` -> ``1.21.0-rc.2``,
    ``go1.19beta1`` -> ``1.19.0-beta.1``; anything else (``devel +abc``, ``1.2.3``) is
    returned unchanged.
    """
    m = _TOOLCHAIN.match(version.strip())
    if m is None:
        return version
    major, minor, patch, kind, number = m.groups()
    core = f"{major}.{minor or 0}.{patch or 0}"
    return f"{core}-{kind}.{number}" if kind else core


class GoComparator(Comparator):
    """``golang.org/x/mod/semver`` ordering, ``v`` prefix optional."""

    name = "go"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ka, kb = parse(a), parse(b)
        if ka is None or kb is None:
            return (ka is not None) - (kb is not None)
        return int(ka > kb) - int(ka < kb)

    def key(self, version: str) -> Any:
        """Cached tuple key (see :meth:`Comparator.key`)."""
        k = parse(version)
        return (0,) if k is None else (1, k)

    def valid(self, version: str) -> bool:
        return parse(version) is not None
