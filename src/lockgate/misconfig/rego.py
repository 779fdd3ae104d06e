"""Custom rules in Rego, conftest style, evaluated with regopy (rego-cpp) over the scanned objects.

Every ``.rego`` file under the given paths is loaded; for each package, the rule sets ``deny``,
``violation`` (HIGH) and ``warn`` (MEDIUM) are queried once per Kubernetes object with the
object as ``input``. A result is a message string or an object with ``msg`` and optionally
``id``/``rule``, ``severity`` and ``title``. Rego v1 syntax works (``import rego.v1``, ``if``,
``contains``); v0 where rego-cpp parses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lockgate.errors import ConfigError, InputError
from lockgate.findings.model import CoverageGap, Finding, FindingKind, Location, Severity

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
SETS = {"deny": Severity.HIGH, "violation": Severity.HIGH, "warn": Severity.MEDIUM}


def _rego_files(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*.rego") if not x.name.endswith("_test.rego")))
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError(f"Rego policy {p} not found")
    if not out:
        raise ConfigError(f"no .rego files in {', '.join(paths)}")
    return out


def _results(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict) and value and all(v is True for v in value.values()):
        value = list(value)  # v0 partial set ``deny[msg]``: rego-cpp returns {msg: true}
    elif isinstance(value, dict) and not value:
        return
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            yield {"msg": item}
        elif isinstance(item, dict):
            yield item


def dockerfile_input(text: str) -> list[dict[str, Any]]:
    """A Dockerfile as conftest presents it: ``[{"Cmd": "from", "Value": [...], "Flags": [...], "Stage": 0}]``."""
    from lockgate.misconfig.dockerfile import parse

    out: list[dict[str, Any]] = []
    stage = -1
    for ins in parse(text):
        if ins.keyword == "FROM":
            stage += 1
        value = list(ins.json_args) if ins.json_args is not None else ins.args.split()
        out.append(
            {
                "Cmd": ins.keyword.lower(),
                "Flags": list(ins.flags),
                "Value": value,
                "Stage": max(stage, 0),
                "StartLine": ins.line,
                "EndLine": ins.end_line,
                "Original": f"{ins.keyword} {ins.args}".strip(),
            }
        )
    return out


def terraform_input(text: str, where: str) -> dict[str, Any]:
    """A ``.tf`` file as python-hcl2 parses it (what conftest's HCL2 parser also produces)."""
    from hcl2.api import loads

    try:
        doc = loads(text)
    except Exception as e:  # lark raises many exception types for bad input
        raise InputError(f"{where}: invalid HCL: {' '.join(str(e).split())[:200]}") from None
    return dict(doc)


def run_rego(
    paths: Sequence[str], documents: Sequence[tuple[object, Location]]
) -> tuple[list[Finding], list[CoverageGap]]:
    """Findings from conftest-style ``deny``/``warn``/``violation`` rules over the scanned documents.

    ``documents`` are (input, location) pairs: Kubernetes objects, Dockerfiles in conftest's
    instruction-list form, Terraform files as HCL-to-JSON.
    """
    try:
        import regopy
    except ImportError:
        raise ConfigError("custom Rego rules need regopy (pip install regopy)") from None

    files = _rego_files(paths)
    interp = regopy.Interpreter()
    packages: list[str] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read Rego policy {f}: {e}") from None
        m = _PACKAGE.search(text)
        if m is None:
            raise ConfigError(f"{f}: no package declaration")
        try:
            interp.add_module(str(f), text)
        except regopy.RegoError as e:
            first = next((ln.strip() for ln in str(e).splitlines() if "errormsg" in ln), str(e)[:200])
            raise ConfigError(f"{f}: invalid Rego: {first}") from None
        if m.group(1) not in packages:
            packages.append(m.group(1))
    findings: list[Finding] = []
    gaps: list[CoverageGap] = []
    for doc_input, loc in documents:
        interp.set_input(json.loads(json.dumps(doc_input, default=str)))  # YAML timestamps etc. as strings
        for pkg in packages:
            raw = str(interp.query(f"data.{pkg}"))
            try:
                out = json.loads(raw)
            except ValueError:
                raise ConfigError(f"Rego evaluation failed for package {pkg}: {' '.join(raw.split())[:300]}") from None
            if "errors" in out or "expressions" not in out:
                raise ConfigError(f"Rego evaluation failed for package {pkg}: {' '.join(raw.split())[:300]}")
            doc = out["expressions"][0] if out["expressions"] else {}
            if not isinstance(doc, dict):
                continue
            for set_name, default_sev in SETS.items():
                for r in _results(doc.get(set_name, [])):
                    rid = str(r.get("id") or r.get("rule") or f"REGO-{pkg}.{set_name}")
                    try:
                        sev = Severity.parse(str(r["severity"])) if r.get("severity") else default_sev
                    except ValueError:
                        sev = default_sev
                    msg = str(r.get("msg") or r.get("message") or set_name)
                    findings.append(
                        Finding(
                            kind=FindingKind.MISCONFIGURATION,
                            id=rid,
                            severity=sev,
                            title=str(r.get("title") or msg),
                            description=msg,
                            severity_source=f"rego:{pkg}",
                            location=loc,
                        )
                    )
    return findings, gaps
