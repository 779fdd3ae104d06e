"""Severity of one vulnerability, in a fixed order of trust, with the source recorded.

1. For OS packages, the distro's own rating (Debian urgency, Ubuntu priority, ...): it
   reflects how the vulnerability affects that distro's build.
2. CVSS vectors, v4 before v3.x before v2, from the advisory first and then from NVD
   enrichment, scored with the ``cvss`` library (never trusting a score a feed claims). The
   advisory database stores the scores lockgate computed when it imported the records; the
   library is imported only for vectors the database does not have.
3. The ecosystem's own rating (GHSA ``database_specific.severity``).
4. Otherwise ``UNKNOWN`` -- reported, never hidden.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import msgspec

from lockgate.findings.model import Severity
from lockgate.vulndb.model import Advisory, SeverityEntry, ecosystem_base
from lockgate.vulndb.store import CVSS_TYPES, NvdMetric

StoredScore = Callable[[str], tuple[str, float] | None]
"""Looks a vector's (CVSS version, base score) up in the advisory database (``Store.cvss_score``):
``("", 0.0)`` for a vector that does not parse, None for one the database does not have."""

_DISTRO_WORDS: Mapping[str, Severity] = {
    "unimportant": Severity.LOW,
    "negligible": Severity.LOW,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "high": Severity.HIGH,
    "important": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
_VERSION_RANK = {"4": 3, "3": 2, "2": 1}


class Rating(msgspec.Struct, frozen=True):
    """A severity, who gave it, and every CVSS vector known for the vulnerability."""

    severity: Severity
    source: str
    cvss: tuple[tuple[str, str, float], ...] = ()


def distro_word(text: str) -> Severity | None:
    """A distro urgency/priority word as a severity (``unimportant`` -> LOW); None if unrated."""
    return _DISTRO_WORDS.get(text.strip().rstrip("*").strip().lower())


@functools.lru_cache(maxsize=8192)
def compute_score(vector: str) -> tuple[str, float] | None:
    """(CVSS version, base score) of a vector string by the ``cvss`` library; None when it does not parse."""
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    v = vector.strip()
    try:
        if v.startswith("CVSS:4"):
            c4 = CVSS4(v)
            version, score = "4.0", float(c4.base_score)
        elif v.startswith("CVSS:3"):
            c3 = CVSS3(v)
            version, score = v[5:8], float(c3.base_score)
        else:
            c2 = CVSS2(v.removeprefix("(").removesuffix(")"))
            version, score = "2.0", float(c2.base_score)
    except (CVSSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    return version, score


def score_vector(vector: str, stored: StoredScore | None = None) -> tuple[str, float, Severity] | None:
    """(CVSS version, base score, severity) of a vector string; None when it does not parse.

    ``stored`` answers from the scores computed at import; vectors it does not know are
    scored here (importing the ``cvss`` library).
    """
    got = stored(vector) if stored is not None else None
    if got is None:
        got = compute_score(vector)
    elif not got[0]:
        return None
    return None if got is None else (got[0], got[1], _from_score(got[0], got[1]))


def _from_score(version: str, score: float) -> Severity:
    if score <= 0:
        return Severity.UNKNOWN
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    if version.startswith("2") or score < 9.0:
        return Severity.HIGH
    return Severity.CRITICAL


def _distro(entries: Iterable[Mapping[str, Any]]) -> tuple[Severity, str] | None:
    best: tuple[Severity, str] | None = None
    for e in entries:
        source = ecosystem_base(str(e.get("package", {}).get("ecosystem", ""))).lower() or "distro"
        words: list[str] = []
        for section in ("ecosystem_specific", "database_specific"):
            d = e.get(section) or {}
            if isinstance(d, Mapping):
                words.extend(str(d[k]) for k in ("urgency", "severity", "priority") if isinstance(d.get(k), str))
        for s in e.get("severity") or ():
            if isinstance(s, Mapping) and str(s.get("type", "")) not in CVSS_TYPES:
                words.append(str(s.get("score", "")))
        for w in words:
            sev = distro_word(w)
            if sev is not None and (best is None or sev > best[0]):
                best = (sev, source)
    return best


def _distro_typed(advisories: Iterable[Advisory]) -> tuple[Severity, str] | None:
    """Advisory-level non-CVSS severity entries, e.g. OSV Ubuntu's ``{"type": "Ubuntu", "score": "medium"}``."""
    best: tuple[Severity, str] | None = None
    for a in advisories:
        for s in a.severity:
            sev = distro_word(s.score) if s.type not in CVSS_TYPES else None
            if sev is not None and (best is None or sev > best[0]):
                best = (sev, s.type.lower())
    return best


def _entry_vectors(entries: Iterable[Mapping[str, Any]]) -> list[SeverityEntry]:
    out = []
    for e in entries:
        for s in e.get("severity") or ():
            if isinstance(s, Mapping) and str(s.get("type")) in CVSS_TYPES:
                out.append(SeverityEntry(str(s["type"]), str(s.get("score", ""))))
    return out


def rate(
    advisories: Sequence[Advisory],
    entries: Sequence[Mapping[str, Any]],
    *,
    os_package: bool,
    cve: str | None = None,
    nvd: Callable[[str], tuple[NvdMetric, ...]] | None = None,
    stored: StoredScore | None = None,
) -> Rating:
    """Rate one vulnerability from the advisories (and their matched ``affected`` entries) that report it.

    ``stored`` looks up the CVSS scores computed at import (see :func:`score_vector`).
    """
    # every vector, advisory ones first, then NVD (primary before secondary)
    # (version, vector, score, severity, source label, trust rank: advisory 0, NVD primary 1, other scorer 2)
    vectors: list[tuple[str, str, float, Severity, str, int]] = []
    seen: set[str] = set()
    own = [s for a in advisories for s in a.severity if s.type in CVSS_TYPES] + _entry_vectors(entries)
    for s in own:
        scored = score_vector(s.score, stored)
        if scored and s.score not in seen:
            seen.add(s.score)
            vectors.append((scored[0], s.score, scored[1], scored[2], "cvss_v", 0))
    if cve and nvd is not None:
        for m in sorted(nvd(cve), key=lambda m: not m.primary):
            scored = score_vector(m.vector, stored)
            if scored and m.vector not in seen:
                seen.add(m.vector)
                vectors.append((scored[0], m.vector, scored[1], scored[2], "nvd_cvss_v", 1 if m.primary else 2))
    triples = tuple((v[0], v[1], v[2]) for v in vectors)

    if os_package and (d := _distro(entries) or _distro_typed(advisories)) is not None:
        return Rating(d[0], d[1], triples)
    rated = [v for v in vectors if v[3] is not Severity.UNKNOWN]
    if rated:
        best_rank = max(_VERSION_RANK[v[0][0]] for v in rated)
        top = [v for v in rated if _VERSION_RANK[v[0][0]] == best_rank]
        # the advisory's own vectors of that version win over NVD's (primary before others); then the higher score
        chosen = min(top, key=lambda v: (v[5], -v[2]))
        return Rating(chosen[3], f"{chosen[4]}{chosen[0][0]}", triples)
    for a in advisories:
        word = a.database_specific.get("severity")
        if isinstance(word, str):
            try:
                sev = Severity.parse(word)
            except ValueError:
                continue
            if sev is not Severity.UNKNOWN:
                src = "ghsa" if any(i.startswith("GHSA-") for i in a.ids) else (a.source or "advisory")
                return Rating(sev, src, triples)
    return Rating(Severity.UNKNOWN, "", triples)
