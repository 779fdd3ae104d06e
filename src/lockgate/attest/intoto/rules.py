"""Artifact rules (in-toto specification v1.0, section 4.3.3) and their evaluation.

Each rule consumes artifacts from a queue (the link's materials or products); the queue starts full and
artifacts no rule consumed are allowed. ``MATCH`` consumes artifacts whose digest equals the named step's
material/product at the same (prefix-adjusted) path; ``CREATE``/``DELETE``/``MODIFY`` consume artifacts the
step created / deleted / changed; ``ALLOW`` consumes; ``DISALLOW`` fails on any match left in the queue;
``REQUIRE`` fails unless that exact path is still in the queue. Patterns are ``fnmatch`` globs (``*`` also
crosses ``/``), as in the reference implementation.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lockgate.errors import InputError, PolicyFailure

Artifacts = Mapping[str, Mapping[str, str]]
SIMPLE = ("CREATE", "DELETE", "MODIFY", "ALLOW", "DISALLOW", "REQUIRE")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule; MATCH rules also carry prefixes, the destination type and step."""

    type: str
    pattern: str
    source_prefix: str = ""
    dest_type: str = ""
    """``MATERIALS`` or ``PRODUCTS`` (MATCH only)."""
    dest_prefix: str = ""
    dest_name: str = ""

    def __str__(self) -> str:
        if self.type != "MATCH":
            return f"{self.type} {self.pattern}"
        src = f" IN {self.source_prefix}" if self.source_prefix else ""
        dst = f" IN {self.dest_prefix}" if self.dest_prefix else ""
        return f"MATCH {self.pattern}{src} WITH {self.dest_type}{dst} FROM {self.dest_name}"


def parse_rule(raw: Any, where: str) -> Rule:
    """Parse ``["MATCH", pattern, ("IN", prefix)?, "WITH", MATERIALS|PRODUCTS, ("IN", prefix)?, "FROM", step]``
    or ``[CREATE|DELETE|MODIFY|ALLOW|DISALLOW|REQUIRE, pattern]``."""
    if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(x, str) for x in raw):
        raise InputError(f"{where}: a rule is a list of strings")
    kind = raw[0].upper()
    if kind in SIMPLE:
        if len(raw) != 2:
            raise InputError(f"{where}: {kind} takes exactly one pattern")
        return Rule(kind, raw[1])
    if kind != "MATCH":
        raise InputError(f"{where}: unknown rule type {raw[0]!r}")
    toks = [t for t in raw]
    up = [t.upper() for t in raw]
    try:
        pattern = toks[1]
        i = 2
        src = ""
        if up[i] == "IN":
            src, i = toks[i + 1], i + 2
        if up[i] != "WITH":
            raise IndexError
        dest_type = up[i + 1]
        i += 2
        dst = ""
        if up[i] == "IN":
            dst, i = toks[i + 1], i + 2
        if up[i] != "FROM" or i + 2 != len(toks):
            raise IndexError
        step = toks[i + 1]
    except IndexError:
        raise InputError(f"{where}: malformed MATCH rule {' '.join(raw)!r}") from None
    if dest_type not in ("MATERIALS", "PRODUCTS"):
        raise InputError(f"{where}: MATCH ... WITH {dest_type} must be MATERIALS or PRODUCTS")
    return Rule("MATCH", pattern, src, dest_type, dst, step)


def _prefix(p: str) -> str:
    return p if not p or p.endswith("/") else p + "/"


def apply_rules(
    rules: tuple[Rule, ...],
    queue_source: str,
    materials: Artifacts,
    products: Artifacts,
    links: Mapping[str, tuple[Artifacts, Artifacts]],
    item: str,
) -> None:
    """Check one item's materials (``queue_source="materials"``) or products against ``rules``.

    ``links`` maps step/inspection name -> (materials, products). Raises PolicyFailure with a one-line reason.
    """
    artifacts = materials if queue_source == "materials" else products
    queue = set(artifacts)
    for rule in rules:
        filtered = set(fnmatch.filter(queue, rule.pattern))
        consumed: set[str] = set()
        if rule.type == "MATCH":
            consumed = _match(rule, queue, artifacts, links)
        elif rule.type == "ALLOW":
            consumed = filtered
        elif rule.type == "CREATE":
            consumed = {p for p in filtered if p in products and p not in materials}
        elif rule.type == "DELETE":
            consumed = {p for p in filtered if p in materials and p not in products}
        elif rule.type == "MODIFY":
            consumed = {p for p in filtered if p in materials and p in products and materials[p] != products[p]}
        elif rule.type == "DISALLOW":
            if filtered:
                raise PolicyFailure(f"{item}: {queue_source[:-1]} {sorted(filtered)[0]!r} disallowed by rule '{rule}'")
        elif rule.type == "REQUIRE" and rule.pattern not in queue:  # a literal path, as in-toto reads it
            raise PolicyFailure(f"{item}: required {queue_source[:-1]} {rule.pattern!r} missing (rule '{rule}')")
        queue -= consumed


def _match(
    rule: Rule, queue: set[str], artifacts: Artifacts, links: Mapping[str, tuple[Artifacts, Artifacts]]
) -> set[str]:
    dest_link = links.get(rule.dest_name)
    if dest_link is None:
        return set()
    dest = dest_link[0] if rule.dest_type == "MATERIALS" else dest_link[1]
    src_prefix, dst_prefix = _prefix(rule.source_prefix), _prefix(rule.dest_prefix)
    consumed = set()
    for path in queue:
        if src_prefix:
            if not path.startswith(src_prefix):
                continue
            rel = path[len(src_prefix) :]
        else:
            rel = path
        if not fnmatch.fnmatch(rel, rule.pattern):
            continue
        dest_path = dst_prefix + rel
        if dest_path in dest and dict(dest[dest_path]) == dict(artifacts[path]):
            consumed.add(path)
    return consumed
