"""Licence findings from the policy's allow/deny lists of SPDX ids.

Licence expressions are split on ``AND``/``OR``/``WITH`` and parentheses; a package is
reported when any id it declares is denied, or (with an allow list) when a conjunctive
term is not allowed. ``OR`` choices pass when any alternative is allowed.
"""

from __future__ import annotations

import re

from lockgate.findings.model import Finding, FindingKind, Location
from lockgate.gate.policy import LicensePolicy
from lockgate.inventory.model import Package

_TOKEN = re.compile(r"\(|\)|\bAND\b|\bOR\b|\bWITH\b|[^\s()]+", re.IGNORECASE)


def _ids(expression: str) -> list[list[str]]:
    """Disjunctive normal form, good enough for policy: list of OR-alternatives, each a list of ids."""
    alternatives: list[list[str]] = [[]]
    skip_next = False
    for tok in _TOKEN.findall(expression):
        up = tok.upper()
        if skip_next:
            skip_next = False
            continue
        if up == "WITH":
            skip_next = True
        elif up == "OR":
            alternatives.append([])
        elif up in ("AND", "(", ")"):
            continue
        else:
            alternatives[-1].append(tok)
    return [a for a in alternatives if a]


def license_findings(packages: tuple[Package, ...], policy: LicensePolicy) -> tuple[Finding, ...]:
    if not policy.deny and not policy.allow:
        return ()
    deny = {d.lower() for d in policy.deny}
    allow = {a.lower() for a in policy.allow}
    out = []
    for p in packages:
        for expr in p.licenses:
            alts = _ids(expr)
            bad: list[str] = []
            denied = [i for alt in alts for i in alt if i.lower() in deny]
            if denied and all(any(i.lower() in deny for i in alt) for alt in alts):
                bad = denied
            elif allow and not any(all(i.lower() in allow for i in alt) for alt in alts):
                bad = [i for alt in alts for i in alt if i.lower() not in allow]
            if bad:
                out.append(
                    Finding(
                        kind=FindingKind.LICENSE,
                        id=f"license:{bad[0]}",
                        severity=policy.severity,
                        title=f"{p.name} {p.version} is licensed {expr}, not allowed by policy ({policy.source})",
                        package=p,
                        installed_version=p.version,
                        location=Location(path=p.path, layer=p.layer),
                        severity_source="policy",
                    )
                )
                break
    return tuple(out)
