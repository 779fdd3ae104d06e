"""Compliance views: group misconfiguration findings by a framework's controls, pass/fail per control.

Frameworks: ``pss-baseline``, ``pss-restricted`` (one control per Pod Security Standards check),
``k8s-nsa`` (NSA/CISA Kubernetes Hardening Guidance topics) and ``docker-cis`` (CIS Docker
Benchmark section 4, container images and build files). A control fails when a finding of one
of its rules counts (is not suppressed); a control without any lockgate rule is "manual".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lockgate.errors import ConfigError
from lockgate.findings.model import FindingKind, ScanReport

FRAMEWORKS: dict[str, tuple[str, dict[str, str]]] = {
    "k8s-nsa": (
        "NSA/CISA Kubernetes Hardening Guidance v1.2",
        {
            "non-root": "Use containers built to run applications as non-root users",
            "immutable-filesystem": "Run containers with immutable file systems",
            "privileged": "Prevent privileged containers",
            "privilege-escalation": "Prevent privilege escalation",
            "capabilities": "Drop unneeded Linux capabilities",
            "host-namespaces": "Do not share host process, IPC or network namespaces",
            "host-path": "Restrict host filesystem access",
            "host-ports": "Restrict host ports",
            "seccomp": "Enable seccomp",
            "pod-security": "Enforce Pod Security admission",
            "namespaces": "Separate resources with namespaces",
            "network-policies": "Use network policies to isolate resources",
            "network-exposure": "Limit and encrypt external exposure (Services, Ingress TLS)",
            "resource-policies": "Set resource requests and limits",
            "secrets": "Keep secrets out of manifests",
            "service-account-tokens": "Disable automatic service account token mounting",
            "rbac": "Use least-privilege RBAC",
            "image-provenance": "Use immutable, trusted image references",
        },
    ),
    "docker-cis": (
        "CIS Docker Benchmark, section 4 (container images and build files)",
        {
            "4.1": "Ensure that a user for the container has been created",
            "4.2": "Ensure that containers use only trusted base images",
            "4.3": "Ensure that unnecessary packages are not installed in the container",
            "4.4": "Ensure images are scanned and rebuilt to include security patches",
            "4.5": "Ensure Content trust for Docker is Enabled",
            "4.6": "Ensure that HEALTHCHECK instructions have been added to container images",
            "4.7": "Ensure update instructions are not used alone in Dockerfiles",
            "4.8": "Ensure setuid and setgid permissions are removed",
            "4.9": "Ensure that COPY is used instead of ADD in Dockerfiles",
            "4.10": "Ensure secrets are not stored in Dockerfiles",
            "4.11": "Ensure only verified packages are installed",
        },
    ),
}


def _pss(level: str) -> tuple[str, dict[str, str]]:
    from lockgate.misconfig.kubernetes.pss import CHECKS
    from lockgate.misconfig.rules import all_rules

    rules = all_rules()
    ids = [c.id for c in CHECKS if level == "restricted" or c.level == "baseline"]
    return f"Kubernetes Pod Security Standards ({level})", {i: rules[f"PSS-{i}"].title for i in ids}


@dataclass(frozen=True, slots=True)
class ControlResult:
    id: str
    name: str
    status: str
    """``PASS``, ``FAIL`` or ``MANUAL`` (no automated rule)."""
    rules: tuple[str, ...]
    findings: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status, "rules": list(self.rules),
                "findings": self.findings}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    framework: str
    title: str
    controls: tuple[ControlResult, ...]

    def to_dict(self) -> dict[str, Any]:
        counts = {s: sum(c.status == s for c in self.controls) for s in ("PASS", "FAIL", "MANUAL")}
        return {"framework": self.framework, "title": self.title, "summary": counts,
                "controls": [c.to_dict() for c in self.controls]}  # fmt: skip

    def render_table(self) -> str:
        w = max([len(c.id) for c in self.controls] + [7])
        lines = [self.title, "", f"{'CONTROL':<{w}}  STATUS  FINDINGS  NAME"]
        lines += [f"{c.id:<{w}}  {c.status:<6}  {c.findings:>8}  {c.name}" for c in self.controls]
        s = self.to_dict()["summary"]
        lines += ["", f"{s['PASS']} passed, {s['FAIL']} failed, {s['MANUAL']} manual"]
        return "\n".join(lines)


def evaluate(report: ScanReport, framework: str) -> ComplianceReport:
    """Per-control pass/fail of ``report``'s misconfiguration findings for ``framework``."""
    from lockgate.misconfig.rules import all_rules

    if framework in ("pss-baseline", "pss-restricted"):
        title, controls = _pss(framework.removeprefix("pss-"))
    elif framework in FRAMEWORKS:
        title, controls = FRAMEWORKS[framework]
    else:
        names = ", ".join(["pss-baseline", "pss-restricted", *FRAMEWORKS])
        raise ConfigError(f"unknown compliance framework {framework!r} (use one of: {names})")
    by_control: dict[str, list[str]] = {c: [] for c in controls}
    for rule in all_rules().values():
        for tag in rule.compliance:
            fw, _, control = tag.partition(":")
            if fw == framework and control in by_control:
                by_control[control].append(rule.id)
    counted = [f for f in report.findings if f.kind is FindingKind.MISCONFIGURATION and not f.suppressed_by]
    results = []
    for cid, name in controls.items():
        rules = tuple(by_control[cid])
        n = sum(1 for f in counted if f.id in rules or set(f.aliases) & set(rules))
        status = "MANUAL" if not rules else ("FAIL" if n else "PASS")
        results.append(ControlResult(cid, name, status, rules, n))
    return ComplianceReport(framework, title, tuple(results))
