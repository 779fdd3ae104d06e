"""Rule metadata, scan options and raw check hits shared by every misconfiguration family."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lockgate.findings.model import Severity

if TYPE_CHECKING:
    from lockgate.gate.policy import MisconfigPolicy

FAMILIES = ("pss", "kubernetes", "rbac", "dockerfile", "terraform", "image")
"""Rule families, in the order the rules reference lists them."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One check: stable id and everything a report or the rules reference needs."""

    id: str
    title: str
    severity: Severity
    family: str
    description: str
    remediation: str
    references: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()
    """Framework controls this rule maps to, as ``framework:control`` (``k8s-nsa:...``, ``docker-cis:4.1``)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.name,
            "family": self.family,
            "description": self.description,
            "remediation": self.remediation,
            "references": list(self.references),
            "compliance": list(self.compliance),
        }


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule violated at a path inside one document (turned into a Finding by the scanner)."""

    rule_id: str
    message: str
    path: tuple[str | int, ...] = ()
    """Key/index path from the document (or object) root to the offending field."""
    container: str = ""
    line: int = 0
    """Direct line number, for inputs without a path (Dockerfiles, Terraform)."""
    aliases: tuple[str, ...] = ()
    """Other rule ids the same defect violates (baseline checks a restricted check replaced)."""


@dataclass(frozen=True, slots=True)
class MisconfigOptions:
    """What to check and how: built from CLI flags or the policy file's ``misconfig:`` section."""

    pss_level: str = "restricted"
    """``privileged`` (no PSS findings), ``baseline`` or ``restricted``."""
    pss_version: str = "latest"
    """``vX.Y`` or ``latest``."""
    disable: tuple[str, ...] = ()
    """Rule ids (or family names) not to report."""
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    allowed_registries: tuple[str, ...] = ()
    """Image registries/prefixes allowed; empty disables the allow-list rule."""
    ignore_file: str = ""
    """Path of a ``.lockgateignore``-style file (rule id, optional path glob and expiry)."""
    rego_paths: tuple[str, ...] = field(default=())
    """Files or directories with custom Rego rules (conftest style)."""

    @classmethod
    def from_policy(cls, policy: MisconfigPolicy, **extra: object) -> MisconfigOptions:
        """Options from the policy file section (``fail_on`` stays with the gate)."""
        return cls(
            pss_level=policy.pss_level,
            pss_version=policy.pss_version,
            disable=tuple(policy.disable),
            severity_overrides=tuple(policy.severity_overrides),
            **extra,  # type: ignore[arg-type]
        )
