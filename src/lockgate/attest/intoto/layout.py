"""The in-toto layout: functionary keys, steps (with thresholds and expected commands), inspections,
artifact rules and the expiry date (in-toto specification v1.0, section 4.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lockgate.attest.intoto.keys import IntotoKey
from lockgate.attest.intoto.metadata import Metadata, sign_metadata
from lockgate.attest.intoto.rules import Rule, parse_rule
from lockgate.errors import InputError
from lockgate.trust.keys.model import Signer


@dataclass(frozen=True, slots=True)
class Step:
    """A step functionaries perform (``pubkeys`` authorised, ``threshold`` distinct links required)."""

    name: str
    pubkeys: tuple[str, ...]
    threshold: int = 1
    expected_command: tuple[str, ...] = ()
    expected_materials: tuple[Rule, ...] = ()
    expected_products: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Inspection:
    """A command the verifier runs itself, whose artifacts are checked like a step's."""

    name: str
    run: tuple[str, ...]
    expected_materials: tuple[Rule, ...] = ()
    expected_products: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Layout:
    """A parsed layout."""

    expires: datetime | None
    keys: dict[str, IntotoKey] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    inspections: tuple[Inspection, ...] = ()
    readme: str = ""


def parse_time(text: Any, what: str) -> datetime:
    """An ISO 8601 UTC time as in-toto writes it (``2030-01-01T00:00:00Z``)."""
    if not isinstance(text, str):
        raise InputError(f"{what} must be an ISO 8601 time string")
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{what} {text!r} is not an ISO 8601 time") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _rules(raw: Any, where: str) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError(f"{where} must be a list of rules")
    return tuple(parse_rule(r, f"{where}[{i}]") for i, r in enumerate(raw))


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise InputError(f"{where} must be a list of strings")
    return tuple(raw)


def parse_layout(signed: dict[str, Any]) -> Layout:
    """Validate the ``signed`` part of a layout."""
    if signed.get("_type") != "layout":
        raise InputError(f"not an in-toto layout (_type {signed.get('_type')!r})")
    expires = parse_time(signed["expires"], "layout expires") if "expires" in signed else None
    keys_raw = signed.get("keys", {})
    if not isinstance(keys_raw, dict):
        raise InputError("layout keys must be an object")
    keys = {kid: IntotoKey.from_dict(kid, k) for kid, k in keys_raw.items()}
    steps = []
    names: set[str] = set()
    for i, s in enumerate(signed.get("steps", []) or []):
        w = f"layout steps[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not s["name"]:
            raise InputError(f"{w} needs a name")
        if s["name"] in names:
            raise InputError(f"{w}: duplicate step or inspection name {s['name']!r}")
        names.add(s["name"])
        pubkeys = _strings(s.get("pubkeys"), f"{w}.pubkeys")
        unknown = [k for k in pubkeys if k not in keys]
        if unknown:
            raise InputError(f"{w}: pubkey {unknown[0][:16]} is not in the layout's keys")
        threshold = s.get("threshold", 1)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
            raise InputError(f"{w}.threshold must be a positive integer")
        steps.append(
            Step(
                s["name"],
                pubkeys,
                threshold,
                _strings(s.get("expected_command"), f"{w}.expected_command"),
                _rules(s.get("expected_materials"), f"{w}.expected_materials"),
                _rules(s.get("expected_products"), f"{w}.expected_products"),
            )
        )
    inspections = []
    for i, s in enumerate(signed.get("inspect", []) or []):
        w = f"layout inspect[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not s["name"]:
            raise InputError(f"{w} needs a name")
        if s["name"] in names:
            raise InputError(f"{w}: duplicate step or inspection name {s['name']!r}")
        names.add(s["name"])
        run = _strings(s.get("run"), f"{w}.run")
        if not run:
            raise InputError(f"{w}.run must name a command")
        inspections.append(
            Inspection(
                s["name"],
                run,
                _rules(s.get("expected_materials"), f"{w}.expected_materials"),
                _rules(s.get("expected_products"), f"{w}.expected_products"),
            )
        )
    readme = signed.get("readme", "")
    return Layout(expires, keys, tuple(steps), tuple(inspections), readme if isinstance(readme, str) else "")


def load_layout(md: Metadata) -> Layout:
    """The layout inside loaded metadata."""
    return parse_layout(md.signed)


def normalize_layout(signed: dict[str, Any]) -> dict[str, Any]:
    """Fill in the fields in-toto's ``Layout.to_dict()`` always writes.

    in-toto re-serialises the parsed layout before checking its signature, so a layout signed without
    (say) ``readme`` or a step's ``_type`` would not verify there.
    """
    doc = dict(signed)
    doc.setdefault("readme", "")
    doc.setdefault("keys", {})
    step_defaults = {"_type": "step", "pubkeys": [], "threshold": 1, "expected_command": [],
                     "expected_materials": [], "expected_products": []}  # fmt: skip
    insp_defaults = {"_type": "inspection", "run": [], "expected_materials": [], "expected_products": []}
    if isinstance(doc.get("steps", []), list):
        doc["steps"] = [step_defaults | st if isinstance(st, dict) else st for st in doc.get("steps", [])]
    if isinstance(doc.get("inspect", []), list):
        doc["inspect"] = [insp_defaults | i if isinstance(i, dict) else i for i in doc.get("inspect", [])]
    return doc


def sign_layout(
    signed: dict[str, Any], signers: Sequence[Signer], *, dsse: bool = False, expires: datetime | None = None
) -> bytes:
    """Sign a layout (e.g. an unsigned template's ``signed``); ``expires`` defaults to the template's, else 30 days."""
    doc = normalize_layout(signed)
    if expires is not None:
        doc["expires"] = expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif "expires" not in doc:
        doc["expires"] = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    parse_layout(doc)
    return sign_metadata(doc, signers, dsse=dsse)
