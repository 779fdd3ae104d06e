"""SemVer 2.0.0 precedence, npm flavour (also used for crates.io, Hex and OSV ``SEMVER`` ranges), and Pub's variant.

Hand-written (the ``semver`` PyPI packages are strict and reject what npm's loose
mode accepts). Rules:

- Versions are read with node-semver's loose grammar: leading ``v``/``=``/blanks are
  ignored (``v1.2.3 == =1.2.3 == 1.2.3``), numbers may have leading zeros and the
  pre-release hyphen is optional (``1.2.3beta``; so ``1.2.31.2.3`` reads, as in node,
  as ``1.2.3-1.2.3``). ``major.minor.patch`` compare numerically.
- A pre-release (``-alpha.1``) sorts before the release. Identifiers compare one by one: numeric ones
  as integers, numeric before alphanumeric, alphanumeric ones in ASCII order; a
  longer list wins when all shared identifiers are equal.
- Build metadata (``+...``) is ignored (SemVer item 10), except in :data:`PUB`,
  where, as in Dart's ``pub_semver``, a version without build sorts before the same
  version with one and builds compare like pre-release identifiers.

Versions that are not SemVer still get a place: numeric dot-separated components as
far as they go (missing ones are 0, a fourth or later component compares
numerically too), the rest read as pre-release and build. This keeps sloppy
advisory data (``1.2``, ``2.0.0.1``) ordered sensibly.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lockgate.vulndb.versions.base import Comparator, check_length

_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z",
    re.ASCII,
)
_LOOSE_PREFIX = re.compile(r"[v=\s]*")
_LEAD = re.compile(r"[0-9.]*")
_NONNUM = r"[0-9]*[a-zA-Z-][a-zA-Z0-9-]*"
_PRE_ID = rf"(?:{_NONNUM}|[0-9]+)"
# node-semver's LOOSE expression (src/internal/re.js), byte for byte in meaning
_NODE_LOOSE = re.compile(
    rf"[v=\s]*([0-9]+)\.([0-9]+)\.([0-9]+)(?:-?({_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*))?\Z",
    re.ASCII,
)
_MAX_SAFE = 2**53 - 1

_Ident = tuple[int, int | str]


def _ident(text: str) -> _Ident:
    if text.isascii() and text.isdigit():
        return (0, int(text))
    return (1, text)


def _idents(text: str) -> tuple[_Ident, ...]:
    return tuple(_ident(p) for p in text.split("."))


@functools.lru_cache(maxsize=65536)
def parse(version: str, build_orders: bool = False) -> tuple[Any, ...]:
    """Sort key of ``version`` (see the module docstring)."""
    check_length(version)
    text = version.strip()
    m = _NODE_LOOSE.match(text)
    if m is not None:
        numbers = [int(m.group(1)), int(m.group(2)), int(m.group(3))]
        pre, build = m.group(4) or "", m.group(5) or ""
    else:
        text = _LOOSE_PREFIX.sub("", text, count=1)
        lead = _LEAD.match(text)
        assert lead is not None
        numbers = [int(p) for p in lead.group(0).split(".") if p]
        tail = text[lead.end() :]
        while len(numbers) > 3 and numbers[-1] == 0:
            numbers.pop()
        while len(numbers) < 3:
            numbers.append(0)
        pre, _, build = tail.partition("+")
        pre = pre.removeprefix("-")
    pre_key: tuple[Any, ...] = (0, _idents(pre)) if pre else (1,)
    key: tuple[Any, ...] = (tuple(numbers), pre_key)
    if build_orders:
        key += ((1, _idents(build)) if build else (0,),)
    return key


class SemverComparator(Comparator):
    """SemVer 2 precedence with npm's loose parsing; ``build_orders`` gives Pub's variant."""

    def __init__(self, name: str = "semver", *, build_orders: bool = False) -> None:
        self.name = name
        self._build_orders = build_orders

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ka, kb = parse(a, self._build_orders), parse(b, self._build_orders)
        return int(ka > kb) - int(ka < kb)

    def key(self, version: str) -> Any:
        """Cached tuple key (see :meth:`Comparator.key`)."""
        return parse(version, self._build_orders)

    def valid(self, version: str) -> bool:
        """node-semver's strict ``valid()``: SemVer 2.0.0, optional ``v``, surrounding blanks allowed.

        Like node, numbers above 2**53-1 and strings over 256 characters are refused.
        """
        if len(version) > 256:
            return False
        text = version.strip()
        text = text[1:] if text[:1] == "v" else text
        m = _SEMVER.match(text)
        return m is not None and all(int(g) <= _MAX_SAFE for g in m.groups()[:3])


SEMVER = SemverComparator("semver")
PUB = SemverComparator("pub", build_orders=True)
