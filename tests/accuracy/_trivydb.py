"""Trivy as a matching oracle: a Trivy DB written by ``mktrivydb`` from the same corpus advisories.

Conversion (documented because it decides what the comparison can show):

- Debian bullseye lines go to bucket ``debian 11`` -> source package -> id -> ``FixedVersion``.
  Trivy keeps one fixed version per (package, id); when several DSAs fix the same CVE on
  bullseye (regressions), the highest fix by ``dpkg --compare-versions`` is kept, which is what
  "affected by any of the advisories" means. ``<not-affected>`` lines are left out,
  ``<unfixed>``/``<end-of-life>`` become ``""`` (unfixed).
- OSV records (PyPI, Go) go to ``pip::GitHub Security Advisory pip`` / ``go::GitHub Security
  Advisory Go`` -> normalised name -> id -> ``VulnerableVersions``: one constraint string per
  OSV interval (``>=introduced, <fixed`` / ``<=last_affected``), and ``==v`` per listed version of
  records that carry no range.
- Ids: each CVE of a record, or the record's own id when it names none (lockgate's finding ids).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from tests.accuracy._oracle import DebLine, dpkg_lt

PIP_BUCKET = "pip::GitHub Security Advisory pip"
GO_BUCKET = "go::GitHub Security Advisory Go"
METADATA = json.dumps(
    {"Version": 2, "NextUpdate": "2099-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z",
     "DownloadedAt": "2026-01-01T00:00:00Z"}
)  # fmt: skip


def _ids(rec: dict) -> list[str]:  # type: ignore[type-arg]
    cves = sorted({a for a in (rec["id"], *rec.get("aliases", [])) if a.startswith("CVE-")})
    return cves or [rec["id"]]


def osv_constraints(affected: dict, sep: str) -> list[str]:  # type: ignore[type-arg]
    """Trivy ``VulnerableVersions`` strings for one OSV ``affected`` entry (``sep`` joins the bounds)."""
    out: list[str] = []
    has_range = False
    for rng in affected.get("ranges", []):
        if rng["type"] not in ("ECOSYSTEM", "SEMVER"):
            continue
        has_range = True
        lo: str | None = None
        for ev in rng["events"]:
            if "introduced" in ev:
                lo = ev["introduced"]
            elif lo is not None and ("fixed" in ev or "last_affected" in ev):
                hi = f"<{ev['fixed']}" if "fixed" in ev else f"<={ev['last_affected']}"
                out.append(hi if lo == "0" else f">={lo}{sep}{hi}")
                lo = None
        if lo is not None:
            out.append(">=0.0.0" if lo == "0" else f">={lo}")
    if not has_range:
        out += [f"=={v}" for v in affected.get("versions", [])]
    return out


def debian_buckets(lines: dict[str, list[DebLine]]) -> dict[str, dict[str, str]]:
    """source -> id -> fixed version ("" unfixed), one fix per id (the highest by dpkg)."""
    fixes: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for src, lns in lines.items():
        for ln in lns:
            if ln.fixed == "<not-affected>":
                continue
            for i in ln.ids:
                fixes[src][i].append("" if ln.fixed.startswith("<") else ln.fixed)
    pairs = {(a, b) for ids in fixes.values() for fs in ids.values() for a in fs for b in fs if a and b and a != b}
    lt = dpkg_lt(pairs)
    out: dict[str, dict[str, str]] = {}
    for src, ids in fixes.items():
        out[src] = {}
        for i, fs in ids.items():
            if "" in fs:
                out[src][i] = ""
                continue
            best = fs[0]
            for f in fs[1:]:
                if f != best and lt[(best, f)]:
                    best = f
            out[src][i] = best
    return out


def fixture(
    debian: dict[str, dict[str, str]],
    pypi: Iterable[dict],  # type: ignore[type-arg]
    go: Iterable[dict],  # type: ignore[type-arg]
) -> list[dict]:  # type: ignore[type-arg]
    """The mktrivydb JSON document for these advisories."""
    lang: dict[str, dict[str, dict[str, list[str]]]] = {
        PIP_BUCKET: defaultdict(lambda: defaultdict(list)),
        GO_BUCKET: defaultdict(lambda: defaultdict(list)),
    }
    for bucket, records, eco, sep in ((PIP_BUCKET, pypi, "PyPI", ", "), (GO_BUCKET, go, "Go", ", ")):
        for rec in records:
            if rec.get("withdrawn"):
                continue
            for aff in rec.get("affected", []):
                pkg = aff.get("package", {})
                if pkg.get("ecosystem") != eco:
                    continue
                name = str(canonicalize_name(pkg["name"])) if eco == "PyPI" else pkg["name"]
                cons = osv_constraints(aff, sep)
                for i in _ids(rec):
                    lang[bucket][name][i] += cons
    ids = {i for s in debian.values() for i in s} | {i for b in lang.values() for p in b.values() for i in p}
    source = {"ID": "lockgate-corpus", "Name": "lockgate corpus", "URL": "https://example.invalid/"}
    doc: list[dict] = [  # type: ignore[type-arg]
        {"bucket": "data-source", "pairs": [{"key": k, "value": source} for k in ("debian 11", PIP_BUCKET, GO_BUCKET)]},
        {
            "bucket": "debian 11",
            "pairs": [
                {"bucket": src, "pairs": [{"key": i, "value": {"FixedVersion": f}} for i, f in sorted(v.items())]}
                for src, v in sorted(debian.items())
            ],
        },
    ]
    for bucket, pkgs in lang.items():
        doc.append(
            {
                "bucket": bucket,
                "pairs": [
                    {
                        "bucket": name,
                        "pairs": [{"key": i, "value": {"VulnerableVersions": c}} for i, c in sorted(v.items())],
                    }
                    for name, v in sorted(pkgs.items())
                ],
            }
        )
    doc.append(
        {
            "bucket": "vulnerability",
            "pairs": [{"key": i, "value": {"Title": i, "Severity": "HIGH"}} for i in sorted(ids)],
        }
    )
    return doc


def write_trivy_cache(cache: Path, doc: list[dict]) -> Path:  # type: ignore[type-arg]
    """Write ``cache/db/trivy.db`` + ``metadata.json`` with mktrivydb; returns ``cache``."""
    mktrivydb = shutil.which("mktrivydb")
    assert mktrivydb, "mktrivydb is a reference tool of this environment"
    (cache / "db").mkdir(parents=True, exist_ok=True)
    (cache / "fixture.json").write_text(json.dumps(doc))
    subprocess.run(
        [mktrivydb, str(cache / "fixture.json"), str(cache / "db/trivy.db")], check=True, capture_output=True
    )
    (cache / "db/metadata.json").write_text(METADATA)
    return cache


def trivy_image(cache: Path, oci_dir: Path) -> dict:  # type: ignore[type-arg]
    """``trivy image --input OCI_DIR`` offline with the hand-made DB; the JSON report."""
    trivy = shutil.which("trivy")
    assert trivy, "trivy is a reference tool of this environment"
    r = subprocess.run(
        [trivy, "image", "--cache-dir", str(cache), "--skip-db-update", "--offline-scan", "--skip-version-check",
         "--scanners", "vuln", "--cache-backend", "memory", "-q", "-f", "json", "--input", str(oci_dir)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def trivy_pairs(report: dict, result_type: str | None = None) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    """(package name, vulnerability id) from a Trivy JSON report (optionally one result ``Type``)."""
    return {
        (v["PkgName"], v["VulnerabilityID"])
        for r in report.get("Results", [])
        if result_type is None or r.get("Type") == result_type
        for v in r.get("Vulnerabilities") or []
    }
