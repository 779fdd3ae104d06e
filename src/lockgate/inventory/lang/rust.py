"""Rust crates from ``Cargo.lock`` (lock versions 1 to 4, stdlib ``tomllib``).

Binaries built with cargo-auditable are handled by :mod:`lockgate.inventory.lang.binary`.
Dependencies are written as ``name`` (the only package of that name) or ``name version
[(source)]``; the latter become purls, the former are resolved like every format's names.
"""

from __future__ import annotations

from lockgate.inventory.lang._common import Collector, Format, LangAnalyzer, as_dict, as_str, load_toml, make_purl

ECO = "crates.io"


def _dep(spec: str) -> str:
    """``name`` stays a name; ``name version [(source)]`` pins one package: its purl."""
    parts = spec.split(" ")
    return make_purl(ECO, parts[0], parts[1]) if len(parts) > 1 else parts[0]


def parse_cargo_lock(content: bytes, col: Collector) -> None:
    """``Cargo.lock``: every ``[[package]]`` with a name and version."""
    doc = load_toml(content)
    for raw in doc.get("package", []) or []:
        p = as_dict(raw)
        name, version = as_str(p.get("name")), as_str(p.get("version"))
        if not name or not version:
            col.problem("package entry without name or version")
            continue
        deps = [_dep(d) for d in p.get("dependencies", []) or [] if isinstance(d, str)]
        source = as_str(p.get("source"))
        meta = {"source": source} if source else {"source": "local"}
        col.add(ECO, name, version, dependencies=deps, metadata=meta)


FORMATS = (Format("Cargo.lock", ECO, lambda p, n: n == "Cargo.lock", parse_cargo_lock, names=("Cargo.lock",)),)


def analyzer() -> LangAnalyzer:
    """The Rust lock-file analyser."""
    return LangAnalyzer("lang-rust", 1, FORMATS, max_size=32 * 1024 * 1024)
