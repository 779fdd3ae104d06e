"""Test oracle: the CycloneDX document cyclonedx-python-lib builds for a report.

This is the builder ``lockgate.findings.render.cyclonedx`` used before it wrote JSON directly (the
library costs ~0.3 s per run). Tests hold the hand-written emitter to it: same components, purls,
licences (the library's own SPDX id / expression / name classification), properties, dependency
graph and vulnerabilities.
"""

from __future__ import annotations

import json
import warnings
from decimal import Decimal
from typing import Any

from lockgate.findings.model import FindingKind, ScanReport, Severity
from lockgate.findings.render._common import TOOL_NAME, TOOL_VERSION
from lockgate.inventory.model import Package

_SEV = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "high",
    Severity.MEDIUM: "medium",
    Severity.LOW: "low",
    Severity.UNKNOWN: "unknown",
}


def _licenses(lf: Any, texts: tuple[str, ...]) -> list[Any]:
    """CycloneDX licence objects: one expression alone, or several ids/names (never mixed, as the spec says)."""
    from cyclonedx.model.license import DisjunctiveLicense

    out: list[Any] = []
    for text in dict.fromkeys(t.strip() for t in texts if t.strip()):
        try:
            lic = lf.make_from_string(text)
        except Exception:  # an unparsable licence must not drop the component
            lic = DisjunctiveLicense(name=text)
        out.append(lic)
    if len(out) > 1:
        # An expression may not stand beside other licences: keep each as a named licence instead.
        out = [
            DisjunctiveLicense(name=str(lic.value)) if not isinstance(lic, DisjunctiveLicense) else lic for lic in out
        ]
    return out


def _bom_ref(p: Package, i: int) -> str:
    return p.purl or f"{p.ecosystem}:{p.name}@{p.version}#{i}"


def build_bom(report: ScanReport) -> Any:
    """The ``cyclonedx.model.bom.Bom`` for a report."""
    from cyclonedx.factory.license import LicenseFactory
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.contact import OrganizationalEntity
    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
    from cyclonedx.model.tool import Tool
    from cyclonedx.model.vulnerability import (
        BomTarget,
        BomTargetVersionRange,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilityReference,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.tools.tools.add(Tool(vendor="lockgate", name=TOOL_NAME, version=TOOL_VERSION))
    main_type = ComponentType.CONTAINER if report.artifact_type == "container_image" else ComponentType.APPLICATION
    root = Component(name=report.target, type=main_type, bom_ref=report.artifact_digest or report.target)
    if report.artifact_digest.startswith("sha256:"):
        root.hashes.add(HashType(alg=HashAlgorithm.SHA_256, content=report.artifact_digest.split(":", 1)[1]))
        root.version = report.artifact_digest
    for k, v in report.metadata:
        root.properties.add(Property(name=f"lockgate:{k}", value=v))
    bom.metadata.component = root
    os_comp = None
    if report.os is not None:
        os_comp = Component(
            name=report.os.family,
            version=report.os.version,
            type=ComponentType.OPERATING_SYSTEM,
            bom_ref=f"os:{report.os.family}@{report.os.version}",
        )
        bom.components.add(os_comp)
    lf = LicenseFactory()
    by_ref: dict[str, Component] = {}
    by_purl_name: dict[str, Component] = {}
    for i, p in enumerate(report.packages):
        ref = _bom_ref(p, i)
        if ref in by_ref:
            ref = f"{ref}#{i}"
        purl = None
        if p.purl:
            try:
                purl = PackageURL.from_string(p.purl)
            except ValueError:
                purl = None
        c = Component(name=p.name, version=p.version, type=ComponentType.LIBRARY, purl=purl, bom_ref=ref)
        for lic in _licenses(lf, p.licenses):
            c.licenses.add(lic)
        props = [("lockgate:ecosystem", p.ecosystem), ("lockgate:path", p.path), ("lockgate:layer", p.layer)]
        if p.source_name:
            props.append(("lockgate:source_name", p.source_name))
        if p.source_version:
            props.append(("lockgate:source_version", p.source_version))
        if p.arch:
            props.append(("lockgate:arch", p.arch))
        for name, value in props:
            if value:
                c.properties.add(Property(name=name, value=value))
        if p.ecosystem in ("deb", "apk", "rpm") and report.os is not None:
            c.supplier = OrganizationalEntity(name=report.os.family)
        bom.components.add(c)
        by_ref[ref] = c
        by_purl_name.setdefault(f"{p.ecosystem}/{p.name}", c)
    for i, p in enumerate(report.packages):
        if not p.dependencies:
            continue
        parent = by_ref.get(_bom_ref(p, i))
        if parent is None:
            continue
        deps = [by_ref.get(d) or by_purl_name.get(f"{p.ecosystem}/{d}") for d in p.dependencies]
        bom.register_dependency(parent, [d for d in deps if d is not None and d is not parent])
    bom.register_dependency(root, list(by_ref.values()) + ([os_comp] if os_comp else []))
    for f in report.findings:
        if f.kind is not FindingKind.VULNERABILITY or f.package is None:
            continue
        target_ref = next(
            (r for r, c in by_ref.items() if c.name == f.package.name and c.version == f.package.version),
            None,
        )
        ratings = [
            VulnerabilityRating(
                severity=VulnerabilitySeverity(_SEV[f.severity]),
                source=VulnerabilitySource(name=f.severity_source or "lockgate"),
            )
        ]
        for ver, vector, score in f.cvss:
            method = {
                "2": VulnerabilityScoreSource.CVSS_V2,
                "3.0": VulnerabilityScoreSource.CVSS_V3,
                "3.1": VulnerabilityScoreSource.CVSS_V3_1,
                "4.0": VulnerabilityScoreSource.CVSS_V4,
            }.get(ver, VulnerabilityScoreSource.OTHER)
            ratings.append(VulnerabilityRating(score=Decimal(str(score)), method=method, vector=vector))
        vuln = Vulnerability(
            id=f.id,
            description=f.title or None,
            detail=f.description or None,
            recommendation=(f"Upgrade to {', '.join(f.fixed_versions)}" if f.fixed_versions else None),
            ratings=ratings,
            references=[VulnerabilityReference(id=a, source=VulnerabilitySource(name="alias")) for a in f.aliases],
            affects=[
                BomTarget(
                    ref=target_ref or f.package.purl or f.package.name,
                    versions=[
                        BomTargetVersionRange(
                            version=f.installed_version or f.package.version,
                            status=ImpactAnalysisAffectedStatus.AFFECTED,
                        )
                    ],
                )
            ],
        )
        bom.vulnerabilities.add(vuln)
    return bom


def render_with_library(report: ScanReport) -> str:
    """The library's CycloneDX 1.6 JSON for ``report``."""
    from cyclonedx.output.json import JsonV1Dot6

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return JsonV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n"


def comparable(text: str) -> dict[str, Any]:
    """A CycloneDX JSON document without what differs per run: serial number, timestamp, vulnerability bom-refs.

    Vulnerabilities are sorted by content: the library orders those sharing an id by their random bom-ref.
    """
    doc: dict[str, Any] = json.loads(text)
    doc.pop("serialNumber")
    doc["metadata"].pop("timestamp")
    vulns = doc.get("vulnerabilities", [])
    for v in vulns:
        v.pop("bom-ref")
    vulns.sort(key=lambda v: json.dumps(v, sort_keys=True))
    return doc


def library_licence(text: str) -> dict[str, Any]:
    """How the library's ``LicenseFactory`` classifies one licence text, as CycloneDX JSON."""
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model.license import LicenseExpression

    lic = LicenseFactory().make_from_string(text)
    if isinstance(lic, LicenseExpression):
        return {"expression": lic.value}
    return {"license": {"id": lic.id}} if lic.id else {"license": {"name": lic.name}}
