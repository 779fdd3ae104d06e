"""Findings, coverage gaps and scan reports: frozen, typed, JSON-serialisable."""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from lockgate.inventory.model import OSInfo, Package

SCHEMA_VERSION = 1
"""Version of the JSON report schema (``ScanReport.to_dict``)."""


class Severity(enum.IntEnum):
    """Ordered severities; ``UNKNOWN`` is lowest but is never hidden."""

    UNKNOWN = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a severity name case-insensitively (``moderate`` counts as MEDIUM)."""
        t = text.strip().upper()
        aliases = {"MODERATE": "MEDIUM", "IMPORTANT": "HIGH", "NEGLIGIBLE": "LOW", "NONE": "UNKNOWN"}
        t = aliases.get(t, t)
        try:
            return cls[t]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL)") from None


class FindingKind(enum.StrEnum):
    VULNERABILITY = "vulnerability"
    MISCONFIGURATION = "misconfiguration"
    SECRET = "secret"
    MALWARE = "malware"
    LICENSE = "license"


class FixStatus(enum.StrEnum):
    FIXED = "fixed"
    """A fixed version exists."""
    NOT_FIXED = "affected"
    """Affected, no fix released."""
    WONT_FIX = "will_not_fix"
    END_OF_LIFE = "end_of_life"
    UNKNOWN = "unknown"


class Location(msgspec.Struct, frozen=True):
    """Where a finding is: file and line, layer, or Kubernetes resource and container."""

    path: str = ""
    start_line: int = 0
    end_line: int = 0
    column: int = 0
    layer: str = ""
    resource_kind: str = ""
    resource_name: str = ""
    namespace: str = ""
    container: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k in self.__struct_fields__ if (v := getattr(self, k)) not in ("", 0)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Location:
        return cls(**{k: d[k] for k in cls.__struct_fields__ if k in d})


class Finding(msgspec.Struct, frozen=True):
    """One problem found by any scanner."""

    kind: FindingKind
    id: str
    """Advisory id (vulnerabilities) or stable rule id (checks, secrets, malware)."""
    severity: Severity
    title: str = ""
    description: str = ""
    severity_source: str = ""
    """Who rated it: ``debian``, ``nvd``, ``cvss_v3``, ``ghsa``, ``lockgate`` ..."""
    aliases: tuple[str, ...] = ()
    remediation: str = ""
    references: tuple[str, ...] = ()
    location: Location = msgspec.field(default_factory=Location)
    package: Package | None = None
    installed_version: str = ""
    fixed_versions: tuple[str, ...] = ()
    fix_status: FixStatus = FixStatus.UNKNOWN
    cvss: tuple[tuple[str, str, float], ...] = ()
    """(version, vector, base score) triples."""
    suppressed_by: str = ""
    """Why this finding is not counted (exception, VEX), empty when it counts."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind.value,
            "id": self.id,
            "severity": self.severity.name,
        }
        for name in ("title", "description", "severity_source", "remediation", "installed_version"):
            if value := getattr(self, name):
                d[name] = value
        if self.aliases:
            d["aliases"] = list(self.aliases)
        if self.references:
            d["references"] = list(self.references)
        loc = self.location.to_dict()
        if loc:
            d["location"] = loc
        if self.package is not None:
            d["package"] = self.package.to_dict()
        if self.kind is FindingKind.VULNERABILITY:
            d["fixed_versions"] = list(self.fixed_versions)
            d["fix_status"] = self.fix_status.value
        if self.cvss:
            d["cvss"] = [{"version": v, "vector": vec, "score": s} for v, vec, s in self.cvss]
        if self.suppressed_by:
            d["suppressed_by"] = self.suppressed_by
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        pkg = d.get("package")
        return cls(
            kind=FindingKind(d["kind"]),
            id=str(d["id"]),
            severity=Severity[d["severity"]],
            title=str(d.get("title", "")),
            description=str(d.get("description", "")),
            severity_source=str(d.get("severity_source", "")),
            aliases=tuple(d.get("aliases", ())),
            remediation=str(d.get("remediation", "")),
            references=tuple(d.get("references", ())),
            location=Location.from_dict(d.get("location", {})),
            package=Package.from_dict(pkg) if pkg else None,
            installed_version=str(d.get("installed_version", "")),
            fixed_versions=tuple(d.get("fixed_versions", ())),
            fix_status=FixStatus(d.get("fix_status", FixStatus.UNKNOWN.value)),
            cvss=tuple((c["version"], c["vector"], float(c["score"])) for c in d.get("cvss", ())),
            suppressed_by=str(d.get("suppressed_by", "")),
        )


class CoverageGap(msgspec.Struct, frozen=True):
    """Something that could not be read or checked, and why. Never dropped silently."""

    where: str
    """File, layer digest, or component that was not covered."""
    reason: str
    layer: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {"where": self.where, "reason": self.reason}
        if self.layer:
            d["layer"] = self.layer
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CoverageGap:
        return cls(where=str(d["where"]), reason=str(d["reason"]), layer=str(d.get("layer", "")))


class ScanReport(msgspec.Struct, frozen=True):
    """Everything one scan found about one target."""

    target: str
    artifact_type: str
    """``container_image``, ``filesystem``, ``config``, ``sbom``."""
    artifact_digest: str = ""
    os: OSInfo | None = None
    packages: tuple[Package, ...] = ()
    findings: tuple[Finding, ...] = ()
    gaps: tuple[CoverageGap, ...] = ()
    warnings: tuple[str, ...] = ()
    timings: tuple[tuple[str, float], ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()
    """Image facts for reports: repo tags, diff_ids, config digest ..."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "target": self.target,
            "artifact_type": self.artifact_type,
            "artifact_digest": self.artifact_digest,
            "os": self.os.to_dict() if self.os else None,
            "packages": [p.to_dict() for p in self.packages],
            "findings": [f.to_dict() for f in self.findings],
            "gaps": [g.to_dict() for g in self.gaps],
            "warnings": list(self.warnings),
            "timings": {k: round(v, 4) for k, v in self.timings},
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScanReport:
        return cls(
            target=str(d["target"]),
            artifact_type=str(d["artifact_type"]),
            artifact_digest=str(d.get("artifact_digest", "")),
            os=OSInfo.from_dict(d["os"]) if d.get("os") else None,
            packages=tuple(Package.from_dict(p) for p in d.get("packages", ())),
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
            gaps=tuple(CoverageGap.from_dict(g) for g in d.get("gaps", ())),
            warnings=tuple(d.get("warnings", ())),
            timings=tuple((str(k), float(v)) for k, v in d.get("timings", {}).items()),
            metadata=tuple((str(k), str(v)) for k, v in d.get("metadata", {}).items()),
        )
