"""Alpine package versions, ordered as apk-tools 3 (``src/version.c``) orders them.

Hand-written: no Python library implements apk ordering. The grammar is
``digit{.digit}...{letter}{_suffix{digit}}...{~hash}{-r#}``. A version is read as tokens
(initial number, ``.number``, one letter, ``_suffix[number]``, ``~commit-hash``,
``-rN``); two versions compare token by token while the token kinds agree:

- numbers numerically, except that a ``.number`` with a leading zero on either side
  compares as a string (Gentoo rule: ``1.01 < 1.1``);
- suffixes by rank ``alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p``;
- commit hashes as strings.

When kinds differ, a pre-release suffix sorts lower, otherwise the version whose next
token has the lower kind sorts higher (``1.0.1 > 1.0``, ``1.0 > 1.0_alpha``).

Invalid versions: apk-tools 3 stops at the first token its grammar refuses and calls
everything after it equal, so ``6.0.2p1-r0 == 6.0.2p1-r1`` (old Alpine openssh
releases). A scanner must still order such real-world versions, so when either side
is invalid lockgate orders by parts instead, as OSV's reference implementation
(osv-scalibr) does: numeric components, one letter, ``_suffix`` list, ``-rN``, then
a leftover tail sorts below no tail; two invalid versions equal so far compare as
plain strings (OSV compares them as strings outright, which is not transitive).
Numbers are unbounded (apk uses 64-bit integers; versions beyond that are not real).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from lockgate.vulndb.versions.base import Comparator, check_length
from lockgate.vulndb.versions.base import cmp_keys as _cmp

INITIAL_DIGIT, DIGIT, LETTER, SUFFIX, SUFFIX_NO, COMMIT_HASH, REVISION_NO, END, INVALID = range(9)

_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
_SUFFIX_NONE = 5
_HEX = frozenset("0123456789abcdef")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")


class Token(NamedTuple):
    """One token: its kind, its text and, for numbers and suffixes, its value."""

    kind: int
    text: str = ""
    number: int = 0


def _digits(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    return end


@functools.lru_cache(maxsize=65536)
def tokenize(version: str) -> tuple[Token, ...]:
    """Tokens of ``version``; the last one is ``END`` (valid) or ``INVALID``."""
    check_length(version)
    out: list[Token] = []
    end = _digits(version, 0)
    if end == 0:
        return (Token(INVALID),)
    out.append(Token(INITIAL_DIGIT, version[:end], int(version[:end])))
    kind = INITIAL_DIGIT
    pos = end
    while True:
        if pos >= len(version):
            out.append(Token(END))
            return tuple(out)
        ch = version[pos]
        tok: Token | None = None
        if ch in _LOWER:
            if kind <= DIGIT:
                tok = Token(LETTER, ch, ord(ch))
                pos += 1
        elif ch == "." or ch in _DIGITS:
            start = pos + 1 if ch == "." else pos
            if (ch == "." and kind <= DIGIT) or (ch != "." and kind in (INITIAL_DIGIT, DIGIT, SUFFIX)):
                new_kind = SUFFIX_NO if kind == SUFFIX else DIGIT
                end = _digits(version, start)
                if end > start:
                    tok = Token(new_kind, version[start:end], int(version[start:end]))
                    pos = end
        elif ch == "_":
            if kind <= SUFFIX_NO:
                end = pos + 1
                while end < len(version) and version[end] in _LOWER:
                    end += 1
                rank = _SUFFIXES.get(version[pos + 1 : end])
                if rank is not None:
                    tok = Token(SUFFIX, version[pos + 1 : end], rank)
                    pos = end
        elif ch == "~":
            if kind < COMMIT_HASH:
                end = pos + 1
                while end < len(version) and version[end] in _HEX:
                    end += 1
                if end > pos + 1:
                    tok = Token(COMMIT_HASH, version[pos + 1 : end])
                    pos = end
        elif ch == "-" and kind < REVISION_NO and version.startswith("-r", pos):
            end = _digits(version, pos + 2)
            if end > pos + 2:
                tok = Token(REVISION_NO, version[pos + 2 : end], int(version[pos + 2 : end]))
                pos = end
        if tok is None:
            out.append(Token(INVALID))
            return tuple(out)
        out.append(tok)
        kind = tok.kind


def _token_cmp(a: Token, b: Token) -> int:
    if a.kind == DIGIT and (a.text[:1] == "0" or b.text[:1] == "0"):
        return (a.text > b.text) - (a.text < b.text)
    if a.kind in (INITIAL_DIGIT, DIGIT, SUFFIX_NO, REVISION_NO, LETTER, SUFFIX):
        return (a.number > b.number) - (a.number < b.number)
    return (a.text > b.text) - (a.text < b.text)


def compare_tokens(ta: tuple[Token, ...], tb: tuple[Token, ...], *, fuzzy: bool = False) -> int:
    """apk's comparison over token lists; ``fuzzy`` makes ``b`` match as a prefix (``~``)."""
    i = 0
    while True:
        a, b = ta[i], tb[i]
        if a.kind != b.kind or a.kind >= END:
            break
        r = _token_cmp(a, b)
        if r:
            return r
        i += 1
    if a.kind == b.kind:
        return 0
    if b.kind == END and fuzzy:
        return 0
    if a.kind == SUFFIX and a.number < _SUFFIX_NONE:
        return -1
    if b.kind == SUFFIX and b.number < _SUFFIX_NONE:
        return 1
    if a.kind > b.kind:
        return -1
    if b.kind > a.kind:
        return 1
    return 0


def fuzzy_match(version: str, prefix: str) -> bool:
    """apk's ``~`` operator: ``version`` equals ``prefix`` on every token ``prefix`` has."""
    return compare_tokens(tokenize(version), tokenize(prefix), fuzzy=True) == 0


_NUMBERS = re.compile(r"(?:[0-9]+\.?)*")
_SUFFIX_FIND = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)([0-9]*)")
_HASH = re.compile(r"~[0-9a-f]+")
_BUILD = re.compile(r"-r([0-9]*)")


class Parts(NamedTuple):
    """A version read part by part (the lenient reading used for invalid versions)."""

    invalid: bool
    components: tuple[tuple[str, int, int], ...]
    letter: str
    suffixes: tuple[tuple[int, int], ...]
    build: int
    remainder: str


@functools.lru_cache(maxsize=65536)
def parts(version: str) -> Parts:
    """Read ``version`` leniently as numbers, letter, suffixes, hash, ``-rN`` and a remainder."""
    check_length(version)
    rest = version
    numbers = _NUMBERS.match(rest)
    components: list[tuple[str, int, int]] = []
    if numbers and numbers.group(0):
        for index, text in enumerate(numbers.group(0).split(".")):
            if not text:
                break
            components.append((text, int(text), index))
        rest = rest[numbers.end() :]
    letter = ""
    if rest[:1] in _LOWER and rest:
        letter, rest = rest[0], rest[1:]
    suffixes: list[tuple[int, int]] = []
    for m in list(_SUFFIX_FIND.finditer(rest)):
        suffixes.append((_SUFFIXES[m.group(1)], int(m.group(2) or "0")))
        if rest.startswith(m.group(0)):
            rest = rest[len(m.group(0)) :]
    hash_ = _HASH.match(rest)
    if hash_:
        rest = rest[hash_.end() :]
    invalid = False
    build = 0
    if rest:
        b = _BUILD.match(rest)
        if b is None:
            invalid = True
        else:
            build = int(b.group(1) or "0")
            rest = rest[b.end() :]
    return Parts(invalid, tuple(components), letter, tuple(suffixes), build, rest)


def compare_parts(a: Parts, b: Parts, original_a: str, original_b: str) -> int:
    """Order two leniently read versions (see the module docstring)."""
    zero = ("0", 0, 0)
    for i in range(max(len(a.components), len(b.components))):
        ca = a.components[i] if i < len(a.components) else zero
        cb = b.components[i] if i < len(b.components) else zero
        as_text = ca[2] and cb[2] and (ca[0][0] == "0" or cb[0][0] == "0")
        r = _cmp(ca[0], cb[0]) if as_text else _cmp(ca[1], cb[1])
        if r:
            return r
    if a.letter != b.letter:
        return -1 if not a.letter else 1 if not b.letter else _cmp(a.letter, b.letter)
    none = (_SUFFIX_NONE, 0)
    for i in range(max(len(a.suffixes), len(b.suffixes))):
        r = _cmp(
            a.suffixes[i] if i < len(a.suffixes) else none,
            b.suffixes[i] if i < len(b.suffixes) else none,
        )
        if r:
            return r
    r = _cmp(a.build, b.build)
    if r:
        return r
    if bool(a.remainder) != bool(b.remainder):
        return 1 if not a.remainder else -1
    if a.invalid and b.invalid:
        return _cmp(original_a, original_b)
    return 0


_ADVISORY_FORM = re.compile(
    r"(?:[0-9]+\.)*[0-9]+[a-zA-Z]?(?:_?(?:alpha|beta|rc|pre|cvs|svn|git|hg|p)[0-9]*)?(?:[-.]r[0-9]+)?\Z"
)


def advisory_form(version: str) -> bool:
    """True for the version shapes Alpine's security data really contains.

    Besides valid apk versions these include ``6.6.2p1-r0`` (suffix without ``_``) and
    ``10.2.22.r0`` (revision after ``.``), which OSV's Alpine converter accepts too;
    they order by the lenient reading described above.
    """
    return bool(_ADVISORY_FORM.match(version))


class ApkComparator(Comparator):
    """apk-tools ordering (Alpine, Wolfi, Chainguard)."""

    name = "apk"

    def compare(self, a: str, b: str) -> int:
        if a == b:
            return 0
        ta, tb = tokenize(a), tokenize(b)
        if ta[-1].kind == END and tb[-1].kind == END:
            return compare_tokens(ta, tb)
        return compare_parts(parts(a), parts(b), a, b)

    def valid(self, version: str) -> bool:
        """apk's ``apk_version_validate``."""
        return tokenize(version)[-1].kind == END
