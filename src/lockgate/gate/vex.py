"""OpenVEX: suppress a finding only when product AND subcomponent match — never by id alone.

A statement with status ``not_affected`` or ``fixed`` suppresses finding F when the
statement's vulnerability names F's id or one of its aliases, one of its products is
the scanned image (by ``sha256:`` digest or a ``pkg:oci/...@sha256:...`` purl), and one
of that product's subcomponents matches F's package purl (compared without qualifiers,
version included when the statement gives one). Later statements override earlier ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import msgspec

from lockgate.errors import InputError
from lockgate.findings.model import Finding

SUPPRESSING = frozenset({"not_affected", "fixed"})


class VexStatement(msgspec.Struct, frozen=True):
    vulnerability_ids: frozenset[str]
    products: tuple[tuple[str, tuple[str, ...]], ...]
    """(product id, subcomponent ids)."""
    status: str
    justification: str
    source: str
    timestamp: str = ""


def _purl_base(purl: str) -> str:
    """purl without qualifiers/subpath, percent-decoded, lowercased type."""
    base = purl.split("?", 1)[0].split("#", 1)[0]
    return unquote(base)


def _digest_of(product: str) -> str:
    if product.startswith("sha256:"):
        return product
    if product.startswith("pkg:oci/") and "@" in product:
        return unquote(product.split("@", 1)[1].split("?", 1)[0])
    return ""


def load_vex(path: Path) -> tuple[VexStatement, ...]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such VEX file") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a JSON OpenVEX document: {e}") from None
    if not isinstance(doc, dict) or not str(doc.get("@context", "")).startswith("https://openvex.dev/ns"):
        raise InputError(f"{path}: not an OpenVEX document (missing @context https://openvex.dev/ns...)")
    out = []
    for i, st in enumerate(doc.get("statements") or []):
        if not isinstance(st, dict):
            raise InputError(f"{path}: statement {i} is not an object")
        vuln = st.get("vulnerability")
        ids: set[str] = set()
        if isinstance(vuln, dict):
            ids.add(str(vuln.get("name") or vuln.get("@id") or ""))
            ids.update(str(a) for a in vuln.get("aliases") or [])
        elif isinstance(vuln, str):
            ids.add(vuln)
        ids.discard("")
        products = []
        for prod in st.get("products") or []:
            pid = prod.get("@id", "") if isinstance(prod, dict) else str(prod)
            subs = (
                tuple(str(s.get("@id", "")) for s in (prod.get("subcomponents") or []) if isinstance(s, dict))
                if isinstance(prod, dict)
                else ()
            )
            products.append((str(pid), subs))
        status = str(st.get("status", ""))
        if not ids or not products or not status:
            raise InputError(f"{path}: statement {i} lacks vulnerability, products or status")
        out.append(
            VexStatement(
                vulnerability_ids=frozenset(ids),
                products=tuple(products),
                status=status,
                justification=str(st.get("justification", "") or st.get("impact_statement", "")),
                source=f"{path}#statement{i}",
                timestamp=str(st.get("timestamp", "") or doc.get("timestamp", "")),
            )
        )
    return tuple(out)


def _subcomponent_matches(sub: str, pkg_purl: str) -> bool:
    if not sub or not pkg_purl:
        return False
    want, have = _purl_base(sub), _purl_base(pkg_purl)
    if "@" in want.rsplit("/", 1)[-1]:
        return want.lower() == have.lower()
    return want.lower() == have.split("@", 1)[0].lower()


def vex_verdict(finding: Finding, image_digest: str, statements: tuple[VexStatement, ...]) -> VexStatement | None:
    """The last statement that applies to ``finding`` in the image, if any."""
    if finding.package is None or not image_digest:
        return None
    ids = {finding.id, *finding.aliases}
    hit = None
    for st in statements:
        if not (st.vulnerability_ids & ids):
            continue
        for product, subs in st.products:
            if _digest_of(product) != image_digest:
                continue
            if any(_subcomponent_matches(s, finding.package.purl) for s in subs):
                hit = st
    return hit


def statement_dict(st: VexStatement) -> dict[str, Any]:
    return {"source": st.source, "status": st.status, "justification": st.justification}
