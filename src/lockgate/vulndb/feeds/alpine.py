"""Alpine secdb (``secdb.alpinelinux.org/v3.N/main.json`` and the older YAML) to OSV-shaped advisories.

``secfixes`` maps a fixed package version to the vulnerability ids it fixes on that branch.
Each id becomes one advisory ``ALPINE-<id>`` (alias ``<id>``) with one ``affected`` entry
per (branch, package): ecosystem ``Alpine:v3.N``, one ``introduced 0 / fixed V`` range per
listed fix (a package that lists the same CVE under two versions stays affected below the
higher one). A fix version ``0`` means "never affected" and produces nothing. Entries such
as ``CVE-2016-9932 XSA-200`` keep the first id and record the rest as aliases; malformed ids
are reported and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lockgate.vulndb.model import Advisory, Affected, Event, PackageRef, Range
from lockgate.vulndb.osv.ingest import ImportIssue

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_OTHER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$")
_BRANCH = re.compile(r"^(?:v\d+\.\d+|edge)$")
_APK_VERSION = re.compile(r"^\d[A-Za-z0-9._+~-]*$")


def is_secdb(doc: Any) -> bool:
    """True when a decoded document has the secdb shape."""
    return isinstance(doc, Mapping) and "packages" in doc and "distroversion" in doc


def _vuln_ids(text: str) -> tuple[str, tuple[str, ...]] | str:
    """(id, extra aliases) or a reason why the entry is unusable."""
    tokens = text.split()
    if not tokens:
        return "empty vulnerability id"
    first = tokens[0]
    if first.upper().startswith("CVE"):
        if not _CVE.match(first):
            return f"malformed CVE id {first!r}"
    elif not _OTHER_ID.match(first):
        return f"malformed vulnerability id {first!r}"
    return first, tuple(tokens[1:])


def convert(docs: Iterable[tuple[str, Any]], issues: list[ImportIssue], *, modified: str) -> Iterator[Advisory]:
    """Advisories from secdb documents given as (where, decoded document)."""
    fixes: dict[str, dict[tuple[str, str], set[str]]] = {}
    extra_aliases: dict[str, set[str]] = {}
    for where, doc in docs:
        branch = str(doc.get("distroversion", ""))
        if not _BRANCH.match(branch):
            issues.append(ImportIssue(where, f"distroversion {branch!r} is not an Alpine branch like v3.20"))
            continue
        ecosystem = f"Alpine:{branch}"
        packages = doc.get("packages") or []
        if not isinstance(packages, list):
            issues.append(ImportIssue(where, "'packages' is not a list"))
            continue
        for i, item in enumerate(packages):
            pkg = item.get("pkg") if isinstance(item, Mapping) else None
            name = pkg.get("name") if isinstance(pkg, Mapping) else None
            if not isinstance(pkg, Mapping) or not isinstance(name, str) or not name:
                issues.append(ImportIssue(f"{where}:packages[{i}]", "entry without pkg.name"))
                continue
            secfixes = pkg.get("secfixes") or {}
            if not isinstance(secfixes, Mapping):
                issues.append(ImportIssue(f"{where}:{name}", "secfixes is not a mapping"))
                continue
            for version, ids in secfixes.items():
                label = f"{where}:{name}@{version}"
                if not isinstance(version, str):
                    issues.append(ImportIssue(label, f"fix version {version!r} is not a string"))
                    continue
                if version == "0":  # never affected on this branch
                    continue
                if not _APK_VERSION.match(version):
                    issues.append(ImportIssue(label, f"{version!r} is not an apk version"))
                    continue
                for entry in ids or []:
                    parsed = _vuln_ids(str(entry))
                    if isinstance(parsed, str):
                        issues.append(ImportIssue(label, parsed))
                        continue
                    vid, more = parsed
                    fixes.setdefault(vid, {}).setdefault((ecosystem, name), set()).add(version)
                    extra_aliases.setdefault(vid, set()).update(more)
    for vid in sorted(fixes):
        affected = tuple(
            Affected(
                package=PackageRef(eco, name),
                ranges=tuple(
                    Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", v))) for v in sorted(versions)
                ),
            )
            for (eco, name), versions in sorted(fixes[vid].items())
        )
        yield Advisory(
            id=f"ALPINE-{vid}",
            modified=modified,
            source="alpine-secdb",
            aliases=(vid, *sorted(extra_aliases[vid])),
            affected=affected,
        )
