"""Debian package versions (``[epoch:]upstream[-revision]``), ordered exactly as dpkg's ``verrevcmp``.

Hand-written because no maintained Python library implements dpkg ordering without
binding libapt. Each of upstream and revision is split into alternating non-digit and
digit runs; non-digit runs compare character by character with ``~`` before the end of
the run, the end before letters, and letters before all other characters; digit runs
compare as integers. The epoch compares first, as an integer.

Strings dpkg rejects outright (empty, non-numeric epoch, empty revision) still get a
place in the ordering: they are read as epoch 0 with the whole string as the upstream
part. :meth:`DpkgComparator.valid` reports them (and strings dpkg only warns about) as
invalid.
"""

from __future__ import annotations

import functools
import re
from itertools import zip_longest

from lockgate.vulndb.versions.base import Comparator, check_length

_RUN = re.compile(r"([^0-9]*)([0-9]*)")
_UPSTREAM_OK = re.compile(r"[0-9][A-Za-z0-9.+~:-]*\Z")
_REVISION_OK = re.compile(r"[A-Za-z0-9.+~]+\Z")

_Part = tuple[tuple[tuple[int, ...], int], ...]
_FILL = ((0,), 0)


def _order(ch: str) -> int:
    if ch.isascii() and ch.isalpha():
        return ord(ch)
    if ch == "~":
        return -1
    return ord(ch) + 256


def _runs(text: str) -> _Part:
    """Alternating (non-digit weights + terminator, integer) runs of ``text``."""
    out: list[tuple[tuple[int, ...], int]] = []
    pos = 0
    while pos < len(text):
        m = _RUN.match(text, pos)
        assert m is not None
        letters, digits = m.group(1), m.group(2)
        out.append(((*(_order(c) for c in letters), 0), int(digits) if digits else 0))
        pos = m.end()
    return tuple(out)


def split(version: str) -> tuple[int, str, str, bool]:
    """``(epoch, upstream, revision, ok)``; ``ok`` is False when dpkg would refuse the string."""
    check_length(version)
    text = version.strip(" \t")
    if not text or any(c.isspace() for c in text):
        return 0, text, "", False
    epoch = 0
    rest = text
    if ":" in text:
        head, _, tail = text.partition(":")
        if not head.isascii() or not head.isdigit() or not tail or int(head) > 2**31 - 1:
            return 0, text, "", False
        epoch, rest = int(head), tail
    upstream, hyphen, revision = rest.rpartition("-")
    if not hyphen:
        upstream, revision = rest, ""
    elif not revision or not upstream:
        return 0, text, "", False
    return epoch, upstream, revision, True


@functools.lru_cache(maxsize=65536)
def _parse(version: str) -> tuple[int, _Part, _Part]:
    check_length(version)
    epoch, upstream, revision, _ = split(version)
    return epoch, _runs(upstream), _runs(revision)


def _flat(runs: _Part) -> _Part:
    # A missing run reads as the terminator ((0,), 0); trailing ones are dropped and one
    # is appended, so plain tuple comparison gives verrevcmp's answer.
    out = list(runs)
    while out and out[-1] == _FILL:
        out.pop()
    out.append(_FILL)
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def sort_key(version: str) -> tuple[int, _Part, _Part]:
    """A tuple ordering exactly like :meth:`DpkgComparator.compare`."""
    epoch, upstream, revision = _parse(version)
    return epoch, _flat(upstream), _flat(revision)


def _cmp_runs(a: _Part, b: _Part) -> int:
    if a == b:
        return 0
    for x, y in zip_longest(a, b, fillvalue=_FILL):
        if x != y:
            if x[0] != y[0]:
                return -1 if x[0] < y[0] else 1
            return -1 if x[1] < y[1] else 1
    return 0


def verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of two upstream (or two revision) strings."""
    return _cmp_runs(_runs(a), _runs(b))


class DpkgComparator(Comparator):
    """dpkg ordering (Debian, Ubuntu and other dpkg-based distributions)."""

    name = "dpkg"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ka, kb = sort_key(a), sort_key(b)
        return int(ka > kb) - int(ka < kb)

    def key(self, version: str) -> tuple[int, _Part, _Part]:
        return sort_key(version)

    def valid(self, version: str) -> bool:
        """No error and no warning from dpkg's ``parseversion`` (``dpkg --validate-version``)."""
        _, upstream, revision, ok = split(version)
        if not ok:
            return False
        return bool(_UPSTREAM_OK.match(upstream)) and (not revision or bool(_REVISION_OK.match(revision)))
