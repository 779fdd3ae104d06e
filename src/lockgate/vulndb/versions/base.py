"""The common interface of all version comparators.

A comparator orders the version strings of one ecosystem. ``compare`` is total: every
string, valid or not, has a defined place (each module documents where invalid
versions go), so range evaluation never has to special-case bad data.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from lockgate.errors import InputError, LimitExceededError

MAX_VERSION_LENGTH = 1024
"""Longer strings are refused: no real version is this long, and digit runs must stay small."""


class UnknownEcosystemError(InputError):
    """No version ordering is known for the named ecosystem."""


def check_length(version: str) -> None:
    """Refuse absurdly long version strings (raises :class:`LimitExceededError`)."""
    if len(version) > MAX_VERSION_LENGTH:
        raise LimitExceededError(f"version string of {len(version)} characters exceeds {MAX_VERSION_LENGTH}")


def sign(x: int) -> int:
    """-1, 0 or 1 by the sign of ``x``."""
    return (x > 0) - (x < 0)


def cmp_keys(a: Any, b: Any) -> int:
    """Three-way compare of two mutually orderable keys (tuples, ints, strings)."""
    return int(a > b) - int(a < b)


class Comparator(ABC):
    """Orders version strings of one ecosystem.

    ``compare(a, b)`` returns -1, 0 or 1; ``valid(v)`` says whether ``v`` is a
    well-formed version of the ecosystem (a strict check: invalid versions still compare).
    """

    name: str = ""
    """Short name of the version scheme (``dpkg``, ``apk``, ``rpm``, ``pep440`` ...)."""

    @abstractmethod
    def compare(self, a: str, b: str) -> int:
        """-1 when ``a`` sorts before ``b``, 0 when equal, 1 when after."""

    @abstractmethod
    def valid(self, version: str) -> bool:
        """True when ``version`` is well formed for this scheme."""

    def key(self, version: str) -> Any:
        """A sort key for ``version``: keys order (and compare equal) exactly as :meth:`compare` does.

        Schemes whose order fits plain tuples return cached tuples, which compare much
        faster than repeated :meth:`compare` calls; the others wrap :meth:`compare`.
        """
        return functools.cmp_to_key(self.compare)(version)

    def sort_key(self) -> Callable[[str], Any]:
        """A ``key=`` function for :func:`sorted` using this ordering."""
        return self.key

    def sorted(self, versions: Iterable[str]) -> list[str]:
        """``versions`` in ascending order (stable for equal versions)."""
        return sorted(versions, key=self.sort_key())

    def max(self, versions: Iterable[str]) -> str:
        """The greatest of ``versions`` (which must not be empty)."""
        return max(versions, key=self.sort_key())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
