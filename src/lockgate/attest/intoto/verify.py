"""Verify a supply chain against a signed in-toto layout, as ``in-toto-verify`` does (specification v1.0,
section 5): layout signatures by every given layout key, expiry, per-step links signed by authorised
functionaries up to the step's threshold (links found as ``<step>.<keyid[:8]>.link``), agreement between
a step's links, inspections run in the working directory, and every step's and inspection's artifact rules.
Sublayouts are not supported (a link that is a layout is rejected).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lockgate.attest.intoto.artifacts import record_artifacts
from lockgate.attest.intoto.keys import IntotoKey
from lockgate.attest.intoto.layout import Layout, parse_layout
from lockgate.attest.intoto.link import link_filename
from lockgate.attest.intoto.metadata import Metadata, load_metadata
from lockgate.attest.intoto.rules import Artifacts, apply_rules
from lockgate.errors import InputError, PolicyFailure
from lockgate.trust.keys.model import PublicKey

MAX_LINK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """A passed verification: what was checked."""

    steps: dict[str, tuple[str, ...]]
    """Step name -> keyids whose links were accepted."""
    inspections: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": True,
            "steps": {k: list(v) for k, v in self.steps.items()},
            "inspections": list(self.inspections),
            "notes": list(self.notes),
        }


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_LINK_BYTES:
            raise InputError(f"{what} {path} is larger than {MAX_LINK_BYTES} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise PolicyFailure(f"{what} {path.name} not found") from None


def verify_layout_metadata(md: Metadata, layout_keys: Sequence[PublicKey], now: datetime | None = None) -> Layout:
    """Check the layout is signed by every key in ``layout_keys`` and not expired; return it."""
    if not layout_keys:
        raise InputError("at least one layout key is needed")
    if md.type != "layout":
        raise PolicyFailure(f"the layout file holds {md.type or 'no'} metadata, not a layout")
    for pub in layout_keys:
        ik = IntotoKey.from_public_key(pub)
        if not md.verified_keyids({ik.keyid: ik}):
            raise PolicyFailure(f"layout is not signed by layout key {ik.keyid[:8]} ({pub.source or 'key'})")
    layout = parse_layout(md.signed)
    now = now or datetime.now(UTC)
    if layout.expires is None:
        raise PolicyFailure("layout has no expiry date")
    if layout.expires <= now:
        raise PolicyFailure(f"layout expired at {layout.expires.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    return layout


def _load_step_links(layout: Layout, link_dir: Path, notes: list[str]) -> dict[str, dict[str, Metadata]]:
    """Step name -> {keyid: link} for links that verify with an authorised functionary key."""
    out: dict[str, dict[str, Metadata]] = {}
    for step in layout.steps:
        good: dict[str, Metadata] = {}
        for keyid in step.pubkeys:
            path = link_dir / link_filename(step.name, keyid)
            if not path.is_file():
                continue
            try:
                md = load_metadata(_read(path, "link"), path.name)
            except InputError as e:
                notes.append(f"{path.name}: {e}")
                continue
            if md.type != "link":
                notes.append(f"{path.name}: holds {md.type or 'unknown'} metadata (sublayouts are not supported)")
                continue
            if md.signed.get("name") != step.name:
                notes.append(f"{path.name}: link is for step {md.signed.get('name')!r}, not {step.name!r}")
                continue
            key = layout.keys[keyid]
            if keyid not in md.verified_keyids({keyid: key}):
                notes.append(f"{path.name}: signature does not verify with functionary key {keyid[:8]}")
                continue
            good[keyid] = md
        if len(good) < step.threshold:
            detail = f" ({notes[-1]})" if notes and notes[-1].startswith(step.name + ".") else ""
            raise PolicyFailure(
                f"step {step.name!r}: {len(good)} of {step.threshold} required links signed by authorised "
                f"functionaries{detail}"
            )
        out[step.name] = good
    return out


def _artifacts(md: Metadata, key: str) -> dict[str, dict[str, str]]:
    raw = md.signed.get(key, {})
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise PolicyFailure(f"link {md.signed.get('name')!r}: {key} must map paths to digests")
    return {str(k): {str(a): str(d) for a, d in v.items()} for k, v in raw.items()}


def _reduce(links: dict[str, dict[str, Metadata]]) -> dict[str, tuple[Artifacts, Artifacts]]:
    """One (materials, products) per step; a step's links must agree (threshold constraint)."""
    out: dict[str, tuple[Artifacts, Artifacts]] = {}
    for name, by_key in links.items():
        first: tuple[Artifacts, Artifacts] | None = None
        for keyid, md in by_key.items():
            pair = (_artifacts(md, "materials"), _artifacts(md, "products"))
            if first is None:
                first = pair
            elif pair != first:
                raise PolicyFailure(f"step {name!r}: links disagree on materials or products (link by {keyid[:8]})")
        assert first is not None
        out[name] = first
    return out


def _run_inspection(name: str, run: Sequence[str], workdir: Path, timeout: float) -> tuple[Artifacts, Artifacts]:
    materials = record_artifacts(["."], base_path=workdir)
    try:
        proc = subprocess.run(list(run), cwd=workdir, capture_output=True, check=False, timeout=timeout)
    except FileNotFoundError:
        raise PolicyFailure(f"inspection {name!r}: command {run[0]!r} not found") from None
    except subprocess.TimeoutExpired:
        raise PolicyFailure(f"inspection {name!r}: timed out after {timeout} s") from None
    if proc.returncode != 0:
        raise PolicyFailure(f"inspection {name!r}: command exited with {proc.returncode}")
    return materials, record_artifacts(["."], base_path=workdir)


def verify_pipeline(
    layout_data: bytes,
    layout_keys: Sequence[PublicKey],
    link_dir: Path,
    *,
    workdir: Path | None = None,
    run_inspections: bool = True,
    inspection_timeout: float = 60.0,
    now: datetime | None = None,
) -> PipelineResult:
    """Verify the supply chain; raise PolicyFailure with a one-line reason when any check fails."""
    md = load_metadata(layout_data, "layout")
    layout = verify_layout_metadata(md, layout_keys, now)
    notes: list[str] = []
    links = _load_step_links(layout, link_dir, notes)
    for step in layout.steps:
        for keyid, link in links[step.name].items():
            cmd = link.signed.get("command", [])
            if step.expected_command and list(step.expected_command) != cmd:
                notes.append(
                    f"step {step.name!r}: link by {keyid[:8]} ran {' '.join(map(str, cmd))!r}, "
                    f"expected {' '.join(step.expected_command)!r}"
                )
    reduced = _reduce(links)
    inspected = []
    if run_inspections:
        for insp in layout.inspections:
            reduced[insp.name] = _run_inspection(insp.name, insp.run, workdir or Path.cwd(), inspection_timeout)
            inspected.append(insp.name)
    elif layout.inspections:
        notes.append(f"{len(layout.inspections)} inspection(s) not run")
    items: list[tuple[str, Any]] = [(s.name, s) for s in layout.steps]
    items += [(i.name, i) for i in layout.inspections if i.name in reduced]
    for name, item in items:
        mats, prods = reduced[name]
        kind = "step" if name in links else "inspection"
        apply_rules(item.expected_materials, "materials", mats, prods, reduced, f"{kind} {name!r}")
        apply_rules(item.expected_products, "products", mats, prods, reduced, f"{kind} {name!r}")
    return PipelineResult({k: tuple(v) for k, v in links.items()}, tuple(inspected), tuple(notes))
