"""OSV ``affected[]`` evaluation: is a package version affected, and what fixes it?

Implements the evaluation in the OSV schema (``IsVulnerable``/``IncludedInRanges``/
``BeforeLimits``) to the letter:

- ``versions``: an exact string match of the installed version against the list.
- each ``ECOSYSTEM`` range uses the ecosystem's ordering, each ``SEMVER`` range
  SemVer precedence whatever the ecosystem; ``GIT`` ranges (and unknown types) need
  a repository to evaluate, so they never match a version; they are counted in
  :attr:`RangeMatch.ignored_ranges` and :attr:`Affected.ignored_ranges`.
- a range applies only below one of its ``limit`` events (none means no limit; a
  limit containing ``*`` is infinity); then its events are sorted by version and
  walked: ``introduced <= v`` opens the affected interval (``"0"`` sorts before
  everything), ``fixed <= v`` and ``last_affected < v`` close it. Events need not be
  sorted in the record.
- The schema leaves the order of events with equal versions open. Here an
  ``introduced`` and a ``fixed`` at the same version cancel out: the walk's state
  is the same after them as before. So ``introduced: X, fixed: X`` alone affects
  nothing, while ``introduced: 0, fixed: X, introduced: X, fixed: Y`` (a fix that was
  immediately re-broken, as in PYSEC-2022-236) stays affected from 0 to Y.

Parse once with :func:`compile_affected` and call :meth:`Affected.match` for many
versions (the matcher's hot path), or use :func:`affected_by` for one-off checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from lockgate.errors import InputError
from lockgate.vulndb.versions import Comparator, comparator_for
from lockgate.vulndb.versions.base import UnknownEcosystemError

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
"""The event kinds of the OSV schema."""


class RangeMatch(msgspec.Struct, frozen=True):
    """Why a version is affected.

    ``fixed`` holds the fixed versions of the matched range that are above the
    version, nearest first (empty: no fix in that range); ``all_fixed`` holds every
    fixed version of the ``affected`` entry, in record order.
    """

    range_type: str
    """``ECOSYSTEM`` or ``SEMVER`` for a range match; ``VERSIONS`` when only the list matched."""
    range_index: int | None
    """Index into ``affected["ranges"]``; None when only the ``versions`` list matched."""
    introduced: str | None
    """The ``introduced`` event that opened the affected interval."""
    fixed: tuple[str, ...]
    last_affected: str | None
    """The ``last_affected`` event bounding the interval, if the range has one above the version."""
    all_fixed: tuple[str, ...]
    in_versions: bool
    """The version is also listed in ``affected["versions"]``."""
    ignored_ranges: int = 0
    """``GIT`` or unknown-type ranges that could not be evaluated."""

    @property
    def fix_available(self) -> bool:
        """True when some fixed version above the installed one is known."""
        return bool(self.fixed)


class Event(msgspec.Struct, frozen=True):
    """One range event."""

    kind: str
    version: str


class Group(msgspec.Struct, frozen=True):
    """Events sharing one version, with that version's precomputed sort key."""

    version: str
    key: Any
    zero: bool
    introduced: bool
    fixed: bool
    last_affected: bool


class Range(msgspec.Struct, frozen=True):
    """One evaluable range: events grouped by equal version, in walk order; limits apart."""

    index: int
    type: str
    comparator: Comparator
    groups: tuple[Group, ...]
    limits: tuple[Any, ...]
    """Sort keys of the ``limit`` events (None for ``*``)."""

    def _before_limits(self, key: Any) -> bool:
        if not self.limits:
            return True
        return any(lim is None or key < lim for lim in self.limits)

    def evaluate(self, version: str) -> Group | None:
        """The ``introduced`` group whose interval holds ``version``, or None."""
        key = self.comparator.key(version)
        if not self._before_limits(key):
            return None
        opened: Group | None = None
        for g in self.groups:
            if g.zero:
                opened = g
                continue
            ge = key >= g.key
            opens = g.introduced and ge
            closes = (g.fixed and ge) or (g.last_affected and key > g.key)
            if opens and closes:
                continue
            if opens:
                opened = g
            elif closes:
                opened = None
        return opened

    def fixed_above(self, version: str) -> tuple[str, ...]:
        """Fixed versions of this range greater than ``version``, ascending."""
        key = self.comparator.key(version)
        return tuple(g.version for g in self.groups if g.fixed and g.key > key)

    def last_affected_from(self, version: str) -> str | None:
        """The lowest ``last_affected`` at or above ``version``."""
        key = self.comparator.key(version)
        return next((g.version for g in self.groups if g.last_affected and g.key >= key), None)


class Affected(msgspec.Struct, frozen=True):
    """A compiled OSV ``affected[]`` entry; :meth:`match` is cheap to call repeatedly."""

    ecosystem: str
    ranges: tuple[Range, ...]
    versions: frozenset[str]
    all_fixed: tuple[str, ...]
    ignored_ranges: int
    unevaluable: str | None = None
    """Why ECOSYSTEM ranges could not be compiled (unknown ecosystem), if so."""

    def match(self, version: str) -> RangeMatch | None:
        """How ``version`` is affected, or None when it is not.

        Raises :class:`UnknownEcosystemError` when the answer depends on ``ECOSYSTEM``
        ranges of an ecosystem without known version ordering.
        """
        in_versions = version in self.versions
        for rng in self.ranges:
            opened = rng.evaluate(version)
            if opened is not None:
                return RangeMatch(
                    range_type=rng.type,
                    range_index=rng.index,
                    introduced=opened.version,
                    fixed=rng.fixed_above(version),
                    last_affected=rng.last_affected_from(version),
                    all_fixed=self.all_fixed,
                    in_versions=in_versions,
                    ignored_ranges=self.ignored_ranges,
                )
        if in_versions:
            fixed: list[str] = []
            for rng in self.ranges:
                fixed.extend(f for f in rng.fixed_above(version) if f not in fixed)
            return RangeMatch(
                range_type="VERSIONS",
                range_index=None,
                introduced=None,
                fixed=tuple(fixed),
                last_affected=None,
                all_fixed=self.all_fixed,
                in_versions=True,
                ignored_ranges=self.ignored_ranges,
            )
        if self.unevaluable is not None:
            raise UnknownEcosystemError(self.unevaluable)
        return None


def _events(raw: Any, where: str) -> list[Event]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InputError(f"{where}: 'events' must be a list")
    out: list[Event] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise InputError(f"{where}: event {i} is not an object")
        found = False
        for kind in EVENT_KINDS:
            value = item.get(kind)
            if value is None:
                continue
            if not isinstance(value, str) or not value:
                raise InputError(f"{where}: event {i} has a non-string or empty {kind!r}")
            out.append(Event(kind, value))
            found = True
        if not found:
            raise InputError(f"{where}: event {i} has none of {', '.join(EVENT_KINDS)}")
    return out


def _is_zero(e: Event) -> bool:
    return e.kind == "introduced" and e.version == "0"


def _groups(events: list[Event], comparator: Comparator) -> tuple[Group, ...]:
    """Events sorted by version (``introduced: "0"`` first) and grouped by equal version."""
    keyed = sorted(
        ((0 if _is_zero(e) else 1, comparator.key(e.version), i, e) for i, e in enumerate(events)),
        key=lambda t: (t[0], t[1], t[2]),
    )
    out: list[tuple[str, Any, bool, set[str]]] = []
    for rank, key, _, ev in keyed:
        zero = rank == 0
        if out and not zero and not out[-1][2] and out[-1][1] == key:
            out[-1][3].add(ev.kind)
        else:
            out.append((ev.version, key, zero, {ev.kind}))
    return tuple(
        Group(v, k, zero, "introduced" in kinds, "fixed" in kinds, "last_affected" in kinds)
        for v, k, zero, kinds in out
    )


def compile_affected(ecosystem: str, affected: Mapping[str, Any]) -> Affected:
    """Validate and pre-sort one OSV ``affected[]`` entry for ``ecosystem``.

    Raises :class:`InputError` for malformed ranges or events (one line naming the
    range and event).
    """
    if not isinstance(affected, Mapping):
        raise InputError("OSV affected entry must be an object")
    raw_versions = affected.get("versions") or []
    if not isinstance(raw_versions, Sequence) or isinstance(raw_versions, str):
        raise InputError("OSV affected 'versions' must be a list")
    versions = frozenset(v for v in raw_versions if isinstance(v, str))
    raw_ranges = affected.get("ranges") or []
    if not isinstance(raw_ranges, Sequence) or isinstance(raw_ranges, str):
        raise InputError("OSV affected 'ranges' must be a list")
    ranges: list[Range] = []
    all_fixed: list[str] = []
    ignored = 0
    unevaluable: str | None = None
    for index, raw in enumerate(raw_ranges):
        where = f"OSV range {index}"
        if not isinstance(raw, Mapping):
            raise InputError(f"{where} is not an object")
        rtype = str(raw.get("type", "")).upper()
        events = _events(raw.get("events", []), where)
        if rtype not in ("ECOSYSTEM", "SEMVER"):
            ignored += 1
            continue
        all_fixed.extend(e.version for e in events if e.kind == "fixed" and e.version not in all_fixed)
        if rtype == "SEMVER":
            comparator = comparator_for("semver")
        else:
            try:
                comparator = comparator_for(ecosystem)
            except UnknownEcosystemError as exc:
                unevaluable = f"{exc} (needed by ECOSYSTEM range {index})"
                continue
        groups = _groups([e for e in events if e.kind != "limit"], comparator)
        limits = tuple(None if "*" in e.version else comparator.key(e.version) for e in events if e.kind == "limit")
        ranges.append(Range(index, rtype, comparator, groups, limits))
    return Affected(ecosystem, tuple(ranges), versions, tuple(all_fixed), ignored, unevaluable)


def affected_by(ecosystem: str, version: str, affected: Mapping[str, Any]) -> RangeMatch | None:
    """How ``version`` of a package in ``ecosystem`` is affected by one OSV ``affected[]`` entry.

    Returns None when not affected. ``SEMVER`` ranges use SemVer precedence whatever
    the ecosystem; ``GIT`` ranges are skipped. Raises :class:`InputError` for
    malformed entries and :class:`UnknownEcosystemError` when ``ECOSYSTEM`` ranges of
    an unknown ecosystem decide the answer.
    """
    return compile_affected(ecosystem, affected).match(version)
