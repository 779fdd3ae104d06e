"""Maven versions, ordered by the POM "version order specification" (``ComparableVersion``).

Hand-written (no Python port). The version is lower-cased and split into tokens at
``.`` and ``-`` and at every switch between digits and letters (such a switch counts
as ``-``); each token remembers its separator. Empty tokens are ``0``; ``cr`` means
``rc``; ``ga``, ``final`` and ``release`` mean the empty qualifier; ``a``, ``b``, ``m``
directly followed by digits mean ``alpha``, ``beta``, ``milestone``. Trailing "null"
tokens (``0``, empty, ``final``, ``ga``) are trimmed from the end and again before
each remaining ``-``, so ``1.0 == 1 == 1.0.0-ga``.

Tokens compare pairwise; the shorter version is padded with null tokens (``0`` after
``.``, empty after ``-``). With the same separator, numbers compare numerically and
beat qualifiers; qualifiers order
``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp``,
then unknown qualifiers alphabetically. With different separators,
``.qualifier < -qualifier < -number < .number``.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from lockgate.vulndb.versions.base import Comparator, check_length

_KEYWORDS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_KEYWORD_RANK = {k: i for i, k in enumerate(_KEYWORDS)}
_SWITCH = re.compile(r"[0-9]+|[^0-9]+")
_ALIASES = {"cr": "rc", "ga": "", "final": "", "release": ""}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_NULLS = frozenset({"0", "", "final", "ga"})


class Token(NamedTuple):
    """One token: separator (``""`` for the first, ``.`` or ``-``) and value."""

    prefix: str
    value: str
    number: int | None
    null: bool = False


def _token(prefix: str, value: str) -> Token:
    if value.isascii() and value.isdigit():
        return Token(prefix, str(int(value)), int(value))
    return Token(prefix, value, None)


@functools.lru_cache(maxsize=65536)
def tokenize(version: str) -> tuple[Token, ...]:
    """Normalised, trimmed tokens of ``version``."""
    check_length(version)
    tokens: list[Token] = []
    raw = re.split(r"([.-])", version.lower())
    for i in range(0, len(raw), 2):
        prefix = raw[i - 1] if i else ""
        pieces = _SWITCH.findall(raw[i]) or [""]
        for j, piece in enumerate(pieces):
            value = piece or "0"
            value = _ALIASES.get(value, value)
            if j + 1 < len(pieces):
                value = _SHORT.get(value, value)
            tokens.append(_token(prefix if j == 0 else "-", value))
    i = len(tokens) - 1
    while i > 0:
        if tokens[i].value in _NULLS:
            del tokens[i]
            i -= 1
            continue
        while i >= 0 and tokens[i].prefix != "-":
            i -= 1
        i -= 1
    return tuple(tokens)


def _pad(other: Token) -> Token:
    if other.prefix == "-":
        return Token("-", "", None, True)
    # "sp" is the one qualifier above the release, so the padding must read as "" there
    return Token(".", "", None, True) if other.value == "sp" else Token(".", "0", 0, True)


def _separator_rank(t: Token) -> int:
    numeric = t.number is not None
    if t.prefix == "-":
        return 2 if numeric else 1
    return 3 if numeric else 0


def _less(a: Token, b: Token) -> bool:
    if a.prefix != b.prefix:
        return _separator_rank(a) < _separator_rank(b)
    if a.number is not None and b.number is not None:
        return a.number < b.number
    if a.number is not None and not a.null:
        return False
    if b.number is not None and not b.null:
        return True
    ra = _KEYWORD_RANK.get(a.value, len(_KEYWORDS))
    rb = _KEYWORD_RANK.get(b.value, len(_KEYWORDS))
    if ra == rb == len(_KEYWORDS):
        return a.value < b.value
    return ra < rb


class MavenComparator(Comparator):
    """Maven ordering."""

    name = "maven"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ta, tb = tokenize(a), tokenize(b)
        for i in range(max(len(ta), len(tb))):
            x = ta[i] if i < len(ta) else _pad(tb[i])
            y = tb[i] if i < len(tb) else _pad(ta[i])
            if x.prefix == y.prefix and x.value == y.value:
                continue
            return -1 if _less(x, y) else 1
        return 0

    def valid(self, version: str) -> bool:
        """Maven accepts any non-blank version string."""
        return bool(version.strip())
