"""Per-layer analysis records and the whiteout-aware merge into one :class:`ImageAnalysis`.

A layer's record is everything later steps need without reading the layer again: each
analyser's results keyed by path, and a :class:`LayerIndex` of the paths the layer
writes, deletes (``.wh.``) or makes opaque. Merging walks the layers bottom-up: a
``squash`` analyser's result for a path survives only while no later layer replaces or
deletes that path; results of non-squash analysers (secrets, malware) are all kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec.structs import replace

from lockgate.findings.model import CoverageGap, Finding
from lockgate.fs.model import AnalysisResult, Analyzer
from lockgate.fs.paths import parents
from lockgate.inventory.model import OSInfo, Package


class ImageAnalysis(msgspec.Struct, frozen=True):
    """What the analysers found in an image (whiteouts applied) or a directory."""

    os: OSInfo | None = None
    packages: tuple[Package, ...] = ()
    findings: tuple[Finding, ...] = ()
    gaps: tuple[CoverageGap, ...] = ()
    layers: tuple[str, ...] = ()
    """diff_ids lockgate computed while streaming (the config's claim for unreadable layers)."""


class LayerIndex(msgspec.Struct, frozen=True):
    """The shape of one layer: what it writes, deletes and hides."""

    nondirs: frozenset[str] = frozenset()
    dirs: frozenset[str] = frozenset()
    whiteouts: frozenset[str] = frozenset()
    opaque: frozenset[str] = frozenset()
    gaps: tuple[CoverageGap, ...] = ()
    """Entries skipped while reading the layer (hostile names, unsupported types ...)."""

    def hides(self, path: str) -> bool:
        """True when this layer replaces or deletes a lower layer's ``path``."""
        if path in self.nondirs or path in self.whiteouts or "" in self.opaque:
            return True
        for parent in parents(path):
            if parent in self.nondirs or parent in self.whiteouts or parent in self.opaque:
                return True
        return False

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": sorted(self.nondirs),
            "d": sorted(self.dirs),
            "w": sorted(self.whiteouts),
            "o": sorted(self.opaque),
            "g": [g.to_dict() for g in self.gaps],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerIndex:
        return cls(
            nondirs=frozenset(d["n"]),
            dirs=frozenset(d["d"]),
            whiteouts=frozenset(d["w"]),
            opaque=frozenset(d["o"]),
            gaps=tuple(CoverageGap.from_dict(g) for g in d["g"]),
        )


Items = tuple[tuple[str, AnalysisResult], ...]
"""(path, result) pairs of one analyser in one layer, in tar order."""


def items_to_json(items: Items) -> list[Any]:
    return [[p, r.to_dict()] for p, r in items]


def items_from_json(data: list[Any]) -> Items:
    return tuple((str(p), AnalysisResult.from_dict(r)) for p, r in data)


class LayerRecord(msgspec.Struct, frozen=True):
    """Everything known about one layer after analysis (fresh or from the cache)."""

    digest: str
    diff_id: str
    index: LayerIndex
    results: dict[str, Items] = msgspec.field(default_factory=dict)
    """Analyser name -> its results in this layer."""
    gaps: tuple[CoverageGap, ...] = ()
    """Layer-level problems (truncated, bomb, ...); not cached."""


def _relabel_gap(g: CoverageGap, old: str, new: str) -> CoverageGap:
    return replace(g, layer=new) if g.layer == old else g


def relabel(result: AnalysisResult, old: str, new: str) -> AnalysisResult:
    """``result`` with every layer reference ``old`` replaced by ``new``."""
    if old == new:
        return result
    pkgs = tuple(replace(p, layer=new) if p.layer == old else p for p in result.packages)
    finds = tuple(
        replace(f, location=replace(f.location, layer=new)) if f.location.layer == old else f for f in result.findings
    )
    gaps = tuple(_relabel_gap(g, old, new) for g in result.gaps)
    return AnalysisResult(packages=pkgs, os=result.os, findings=finds, gaps=gaps)


def relabel_index(index: LayerIndex, old: str, new: str) -> LayerIndex:
    return replace(index, gaps=tuple(_relabel_gap(g, old, new) for g in index.gaps))


def _replaced_in_place(index: LayerIndex, path: str) -> bool:
    """True when ``index`` writes ``path`` anew without deleting it first (an update, like dpkg's status)."""
    if path not in index.nondirs or path in index.whiteouts or "" in index.opaque:
        return False
    return not any(p in index.whiteouts or p in index.opaque or p in index.nondirs for p in parents(path))


def merge(records: Sequence[LayerRecord], analyzers: Sequence[Analyzer]) -> ImageAnalysis:
    """Squash per-layer records bottom-up into one :class:`ImageAnalysis`.

    A package found again, same ecosystem/name/version, in an updated copy of the same file
    keeps the layer that first introduced it (as Trivy attributes layers); a file deleted and
    created again starts afresh.
    """
    order = {a.name: i for i, a in enumerate(analyzers)}
    squash = [a for a in analyzers if a.squash]
    keep_all = [a for a in analyzers if not a.squash]
    # (analyser, path) -> (layer position, result) for results still visible
    alive: dict[tuple[str, str], tuple[int, AnalysisResult]] = {}
    # (analyser, path) -> package key -> layer that introduced that package
    origin: dict[tuple[str, str], dict[tuple[str, str, str], str]] = {}
    kept: list[tuple[int, int, str, AnalysisResult]] = []
    gaps: list[CoverageGap] = []
    for pos, rec in enumerate(records):
        gaps.extend(rec.index.gaps)
        gaps.extend(rec.gaps)
        idx = rec.index
        carried: dict[tuple[str, str], dict[tuple[str, str, str], str]] = {}
        if alive:
            for key in [
                k
                for k, (lower, _) in alive.items()
                if idx.hides(k[1]) or (k[1] in idx.dirs and k[1] not in records[lower].index.dirs)
            ]:
                if _replaced_in_place(idx, key[1]):
                    carried[key] = origin.get(key, {})
                del alive[key]
                origin.pop(key, None)
        for a in squash:
            for path, res in rec.results.get(a.name, ()):
                key = (a.name, path)
                before = carried.get(key, {})
                origin[key] = {p.key: before.get(p.key, p.layer) for p in res.packages}
                alive[key] = (pos, res)
        for a in keep_all:
            for path, res in rec.results.get(a.name, ()):
                kept.append((pos, order[a.name], path, res))
    visible = sorted(
        ((pos, order[name], path, name, res) for (name, path), (pos, res) in alive.items()),
        key=lambda t: (t[0], t[1], t[2]),
    )
    os_info: OSInfo | None = None
    os_rank: tuple[int, int] | None = None
    packages: list[Package] = []
    findings: list[Finding] = []
    for pos, rank, path, name, res in visible:
        first = origin.get((name, path), {})
        for p in res.packages:
            layer = first.get(p.key, p.layer)
            packages.append(p if layer == p.layer else replace(p, layer=layer))
        findings.extend(res.findings)
        gaps.extend(res.gaps)
        if res.os is not None and (os_rank is None or (-pos, rank) < os_rank):
            os_info, os_rank = res.os, (-pos, rank)
    for *_, res in sorted(kept, key=lambda t: (t[0], t[1], t[2])):
        packages.extend(res.packages)
        findings.extend(res.findings)
        gaps.extend(res.gaps)
    return ImageAnalysis(
        os=os_info,
        packages=tuple(packages),
        findings=tuple(findings),
        gaps=tuple(gaps),
        layers=tuple(r.diff_id for r in records),
    )


__all__ = [
    "ImageAnalysis",
    "Items",
    "LayerIndex",
    "LayerRecord",
    "merge",
    "relabel",
]
