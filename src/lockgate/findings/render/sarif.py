"""SARIF 2.1.0 (validated against the official schema in tests; usable by GitHub code scanning).

One rule per distinct finding id; ``security-severity`` carries a CVSS-like number so
GitHub ranks results the way lockgate does.
"""

from __future__ import annotations

from typing import Any

from lockgate.findings.model import Finding, FindingKind, ScanReport, Severity
from lockgate.findings.render._common import TOOL_NAME, TOOL_URI, TOOL_VERSION, indented_json, sorted_findings

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.UNKNOWN: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.UNKNOWN: "0.0",
}


def _score(f: Finding) -> str:
    scores = [s for _, _, s in f.cvss]
    return f"{max(scores):.1f}" if scores else _SECURITY_SEVERITY[f.severity]


def _message(f: Finding) -> str:
    if f.kind is FindingKind.VULNERABILITY and f.package is not None:
        fixed = ", ".join(f.fixed_versions) or "no fixed version"
        return (
            f"{f.package.name} {f.installed_version} is affected by {f.id} ({f.severity.name}). "
            f"Fixed in: {fixed}. {f.title}".strip()
        )
    return f"{f.title or f.id} ({f.severity.name})"


def _uri(f: Finding, report: ScanReport) -> str:
    path = f.location.path or (f.package.path if f.package else "") or report.target
    return path.lstrip("/") or "."


def render_sarif(report: ScanReport) -> str:
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for f in sorted_findings(report):
        if f.id not in rule_index:
            rule_index[f.id] = len(rules)
            rule: dict[str, Any] = {
                "id": f.id,
                "name": f.kind.value.title().replace("_", ""),
                "shortDescription": {"text": f.title or f.id},
                "fullDescription": {"text": f.description or f.title or f.id},
                "defaultConfiguration": {"level": _LEVEL[f.severity]},
                "properties": {
                    "security-severity": _score(f),
                    "tags": ["security", f.kind.value, f.severity.name],
                },
            }
            if f.references:
                rule["helpUri"] = f.references[0]
            if f.remediation:
                rule["help"] = {"text": f.remediation}
            rules.append(rule)
        region: dict[str, int] = {"startLine": max(f.location.start_line, 1)}
        if f.location.end_line >= region["startLine"]:
            region["endLine"] = f.location.end_line
        if f.location.column:
            region["startColumn"] = f.location.column
        result: dict[str, Any] = {
            "ruleId": f.id,
            "ruleIndex": rule_index[f.id],
            "level": _LEVEL[f.severity],
            "message": {"text": _message(f)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f, report), "uriBaseId": "ROOTPATH"},
                        "region": region,
                    },
                    "message": {"text": report.target},
                }
            ],
        }
        props: dict[str, Any] = {"kind": f.kind.value, "severity": f.severity.name}
        if f.package is not None:
            props["package"] = f.package.purl or f.package.name
            props["installedVersion"] = f.installed_version
            props["fixedVersions"] = list(f.fixed_versions)
        if f.location.layer:
            props["layer"] = f.location.layer
        result["properties"] = props
        if f.suppressed_by:
            result["suppressions"] = [{"kind": "external", "justification": f.suppressed_by}]
        results.append(result)
    doc = {
        "version": "2.1.0",
        "$schema": SARIF_SCHEMA,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": TOOL_VERSION,
                        "informationUri": TOOL_URI,
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "utf16CodeUnits",
                "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
                "properties": {
                    "target": report.target,
                    "artifactDigest": report.artifact_digest,
                    "coverageGaps": [g.to_dict() for g in report.gaps],
                },
            }
        ],
    }
    return indented_json(doc) + "\n"
