"""Parse and validate OSV records (JSON or YAML already decoded) into :class:`Advisory`.

Hand-written rather than JSON-Schema driven: the checks are the few that matter for
matching (ids, package names, range events, version strings), and each failure gives a
one-line reason that names the field, which the import summary shows next to the file.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from lockgate.errors import InputError
from lockgate.vulndb.model import Advisory, Affected, Event, PackageRef, Range, Reference, SeverityEntry

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")
EVENT_KINDS = frozenset({"introduced", "fixed", "last_affected", "limit"})
RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER", "GIT"})


def _text(value: Any, where: str, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise InputError(f"missing {where}")
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    raise InputError(f"{where} must be a string, not {type(value).__name__}")


def _version(value: Any, where: str) -> str:
    # YAML turns unquoted ``1.10`` into the float 1.1: refusing floats avoids silently wrong ranges.
    if isinstance(value, str):
        if not value.strip():
            raise InputError(f"{where} is an empty version")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{where} must be a version string, not {type(value).__name__} {value!r}")


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{where} must be a list, not {type(value).__name__}")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    return tuple(_text(v, f"{where}[{i}]", required=True) for i, v in enumerate(_list(value, where)))


def _severity(value: Any, where: str) -> tuple[SeverityEntry, ...]:
    out = []
    for i, s in enumerate(_list(value, where)):
        m = _mapping(s, f"{where}[{i}]")
        out.append(
            SeverityEntry(
                type=_text(m.get("type"), f"{where}[{i}].type", required=True),
                score=_text(m.get("score"), f"{where}[{i}].score", required=True),
            )
        )
    return tuple(out)


def _range(value: Any, where: str) -> Range:
    m = _mapping(value, where)
    rtype = _text(m.get("type"), f"{where}.type", required=True)
    if rtype not in RANGE_TYPES:
        raise InputError(f"{where}.type {rtype!r} is not ECOSYSTEM, SEMVER or GIT")
    events = []
    raw_events = _list(m.get("events"), f"{where}.events")
    if not raw_events:
        raise InputError(f"{where}.events is empty")
    for j, e in enumerate(raw_events):
        em = _mapping(e, f"{where}.events[{j}]")
        if len(em) != 1:
            raise InputError(f"{where}.events[{j}] must have exactly one of {', '.join(sorted(EVENT_KINDS))}")
        ((kind, val),) = em.items()
        if kind not in EVENT_KINDS:
            raise InputError(f"{where}.events[{j}] has unknown event {kind!r}")
        events.append(Event(kind, _version(val, f"{where}.events[{j}].{kind}")))
    if rtype != "GIT" and not any(e.kind == "introduced" for e in events):
        raise InputError(f"{where} has no 'introduced' event")
    repo = _text(m.get("repo"), f"{where}.repo")
    if rtype == "GIT" and not repo:
        raise InputError(f"{where} is a GIT range without 'repo'")
    return Range(
        type=rtype,
        events=tuple(events),
        repo=repo,
        database_specific=dict(_mapping(m.get("database_specific"), f"{where}.database_specific")),
    )


def _affected(value: Any, where: str) -> Affected:
    m = _mapping(value, where)
    pm = _mapping(m.get("package"), f"{where}.package")
    ecosystem = _text(pm.get("ecosystem"), f"{where}.package.ecosystem")
    name = _text(pm.get("name"), f"{where}.package.name")
    if pm and (not ecosystem.strip() or not name.strip()):
        raise InputError(f"{where}.package needs both 'ecosystem' and 'name'")
    ranges = tuple(_range(r, f"{where}.ranges[{i}]") for i, r in enumerate(_list(m.get("ranges"), f"{where}.ranges")))
    versions = tuple(_version(v, f"{where}.versions[{i}]") for i, v in enumerate(_list(m.get("versions"), "versions")))
    return Affected(
        package=PackageRef(ecosystem=ecosystem, name=name, purl=_text(pm.get("purl"), f"{where}.package.purl")),
        ranges=ranges,
        versions=versions,
        severity=_severity(m.get("severity"), f"{where}.severity"),
        ecosystem_specific=dict(_mapping(m.get("ecosystem_specific"), f"{where}.ecosystem_specific")),
        database_specific=dict(_mapping(m.get("database_specific"), f"{where}.database_specific")),
    )


def parse_osv(doc: Any, *, source: str = "osv") -> Advisory:
    """Validate one decoded OSV record and convert it; raises InputError naming the bad field."""
    if not isinstance(doc, Mapping):
        raise InputError(f"an OSV record must be a mapping, not {type(doc).__name__}")
    adv_id = _text(doc.get("id"), "id", required=True)
    if not _ID.match(adv_id):
        raise InputError(f"id {adv_id[:80]!r} is not a valid advisory id")
    modified = _text(doc.get("modified"), "modified", required=True)
    aliases = _strings(doc.get("aliases"), "aliases")
    references = []
    for i, r in enumerate(_list(doc.get("references"), "references")):
        rm = _mapping(r, f"references[{i}]")
        references.append(
            Reference(type=_text(rm.get("type"), f"references[{i}].type"), url=_text(rm.get("url"), f"references[{i}]"))
        )
    ds = dict(_mapping(doc.get("database_specific"), "database_specific"))
    src = str(ds.pop("lockgate_source", "") or source)
    return Advisory(
        id=adv_id,
        modified=modified,
        source=src,
        published=_text(doc.get("published"), "published"),
        withdrawn=_text(doc.get("withdrawn"), "withdrawn"),
        aliases=tuple(a for a in aliases if a != adv_id),
        related=_strings(doc.get("related"), "related"),
        summary=_text(doc.get("summary"), "summary"),
        details=_text(doc.get("details"), "details"),
        severity=_severity(doc.get("severity"), "severity"),
        affected=tuple(_affected(a, f"affected[{i}]") for i, a in enumerate(_list(doc.get("affected"), "affected"))),
        references=tuple(references),
        database_specific=ds,
    )
