"""NVD CVE JSON 2.0 records, used only to enrich severity: CVE id -> CVSS vectors.

Reads ``vulnerabilities[].cve.metrics.cvssMetricV40/V31/V30/V2`` (API responses and the
yearly feed files share this shape; a bare ``{"cve": {...}}`` record is accepted too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from lockgate.vulndb.osv.ingest import ImportIssue
from lockgate.vulndb.store import NvdMetric, NvdRecord

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
_METRIC_KEYS = (("cvssMetricV40", "4.0"), ("cvssMetricV31", "3.1"), ("cvssMetricV30", "3.0"), ("cvssMetricV2", "2.0"))


def is_nvd(doc: Any) -> bool:
    """True for an NVD CVE API 2.0 document (or one bare ``cve`` record)."""
    if not isinstance(doc, Mapping):
        return False
    if "vulnerabilities" in doc and str(doc.get("format", "NVD_CVE")).startswith("NVD_CVE"):
        return True
    return isinstance(doc.get("cve"), Mapping) and "id" in doc["cve"]


def parse_nvd(doc: Mapping[str, Any], where: str, issues: list[ImportIssue]) -> Iterator[NvdRecord]:
    """(CVE id, metrics) for every record that carries at least one CVSS vector."""
    items = doc.get("vulnerabilities") if "vulnerabilities" in doc else [doc]
    if not isinstance(items, list):
        issues.append(ImportIssue(where, "'vulnerabilities' is not a list"))
        return
    for i, item in enumerate(items):
        cve = item.get("cve") if isinstance(item, Mapping) else None
        cid = cve.get("id") if isinstance(cve, Mapping) else None
        label = f"{where}:vulnerabilities[{i}]"
        if not isinstance(cve, Mapping) or not isinstance(cid, str) or not _CVE.match(cid):
            issues.append(ImportIssue(label, f"missing or malformed cve.id {cid!r}"))
            continue
        metrics = cve.get("metrics") or {}
        if not isinstance(metrics, Mapping):
            issues.append(ImportIssue(f"{label} ({cid})", "metrics is not a mapping"))
            continue
        out = []
        for key, version in _METRIC_KEYS:
            for m in metrics.get(key) or []:
                data = m.get("cvssData") if isinstance(m, Mapping) else None
                vector = data.get("vectorString") if isinstance(data, Mapping) else None
                if not isinstance(vector, str) or not vector:
                    issues.append(ImportIssue(f"{label} ({cid})", f"{key} entry without cvssData.vectorString"))
                    continue
                out.append(
                    NvdMetric(
                        version=str(data.get("version", version)) if isinstance(data, Mapping) else version,
                        vector=vector,
                        source=str(m.get("source", "")),
                        primary=str(m.get("type", "Primary")) == "Primary",
                    )
                )
        if out:
            yield NvdRecord(cid, tuple(out))
