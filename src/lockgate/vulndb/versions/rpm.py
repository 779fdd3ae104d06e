"""RPM versions (``[epoch:]version[-release]``), ordered as rpm 4.18's ``rpmverCmp``/``rpmvercmp``.

Hand-written: the ``rpm`` Python bindings are a system package tied to librpm and
not installable into a virtualenv. The epoch is the run of digits before the first
``:`` (a string such as ``a:1`` has no epoch: the colon is part of the version);
the release is what follows the last ``-``. Epochs compare first (missing = 0), then
version and release with ``rpmvercmp``: runs of ASCII digits compare as integers,
runs of ASCII letters as strings, a digit run beats a letter run, every other
character only separates runs, ``~`` sorts before anything (even the end) and ``^``
sorts after the end but before anything else. A missing release sorts before any
release, even an empty one (``1.0 < 1.0- < 1.0-0``), as rpm 4.18's ``rpm.vercmp`` does.
"""

from __future__ import annotations

import functools
import re

from lockgate.vulndb.versions.base import Comparator, check_length

_ALNUM_TILDE_CARET = re.compile(r"[A-Za-z0-9~^]")
_DIGITS = re.compile(r"[0-9]+")
_ALPHA = re.compile(r"[A-Za-z]+")
_EPOCH = re.compile(r"([0-9]*):")
_VALID = re.compile(r"(?:[0-9]+:)?[A-Za-z0-9._+~^]+(?:-[A-Za-z0-9._+~^]+)?\Z")


def _skip(s: str, i: int) -> int:
    m = _ALNUM_TILDE_CARET.search(s, i)
    return m.start() if m else len(s)


def rpmvercmp(a: str, b: str) -> int:
    """rpm's segment-wise comparison of two version (or release) strings."""
    check_length(a)
    check_length(b)
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        i = _skip(a, i)
        j = _skip(b, j)
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        isnum = ca.isascii() and ca.isdigit()
        pattern = _DIGITS if isnum else _ALPHA
        ma = pattern.match(a, i)
        mb = pattern.match(b, j)
        assert ma is not None
        if mb is None:
            return 1 if isnum else -1
        sa, sb = ma.group(0), mb.group(0)
        i, j = ma.end(), mb.end()
        if isnum:
            na, nb = int(sa), int(sb)
            if na != nb:
                return -1 if na < nb else 1
        elif sa != sb:
            return -1 if sa < sb else 1
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


@functools.lru_cache(maxsize=65536)
def split(evr: str) -> tuple[str | None, str, str | None]:
    """``(epoch, version, release)`` as rpm's ``rpmverParse`` splits them."""
    check_length(evr)
    m = _EPOCH.match(evr)
    epoch: str | None = None
    rest = evr
    if m:
        epoch = m.group(1) or "0"
        rest = evr[m.end() :]
    version, hyphen, release = rest.rpartition("-")
    if not hyphen:
        return epoch, rest, None
    return epoch, version, release


class RpmComparator(Comparator):
    """rpm ordering (Red Hat, Rocky, AlmaLinux, SUSE, openSUSE, Mageia, Fedora ...)."""

    name = "rpm"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ea, va, ra = split(a)
        eb, vb, rb = split(b)
        r = rpmvercmp(ea or "0", eb or "0")
        if r:
            return r
        r = rpmvercmp(va, vb)
        if r:
            return r
        if ra is None or rb is None:
            return (ra is not None) - (rb is not None)
        return rpmvercmp(ra, rb)

    def valid(self, version: str) -> bool:
        """Numeric epoch, and version/release made of the characters rpm allows in EVRs."""
        return bool(_VALID.match(version))
