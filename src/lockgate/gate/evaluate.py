"""Apply a policy to a scan report: suppress what exceptions and VEX cover, then decide.

Pure: report + policy + the current date in, report + decision out. Expired
exceptions stop suppressing and are themselves reasons; UNKNOWN severities follow
``unknown_severity``; coverage gaps deny unless the run allows incompleteness.
"""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase

from msgspec.structs import replace

from lockgate.findings.model import Finding, FindingKind, FixStatus, ScanReport, Severity
from lockgate.gate.decision import Decision, Outcome, Reason
from lockgate.gate.licenses import license_findings
from lockgate.gate.policy import ExceptionRule, Policy, UnknownSeverity
from lockgate.gate.vex import VexStatement, load_vex, vex_verdict


def _describe(f: Finding) -> str:
    if f.package is not None:
        return f"{f.id} in {f.package.name} {f.installed_version or f.package.version}"
    where = f.location.path + (f":{f.location.start_line}" if f.location.start_line else "")
    return f"{f.id} at {where}" if where else f.id


def _purl_matches(pattern: str, purl: str) -> bool:
    if not pattern:
        return True
    if not purl:
        return False
    base = purl.split("?", 1)[0]
    if "@" in pattern:
        return fnmatchcase(base, pattern)
    return fnmatchcase(base.split("@", 1)[0], pattern)


def exception_applies(rule: ExceptionRule, f: Finding, target: str) -> bool:
    if rule.id != f.id and rule.id not in f.aliases:
        return False
    if rule.purl and not _purl_matches(rule.purl, f.package.purl if f.package else ""):
        return False
    if rule.image and not fnmatchcase(target, rule.image):
        return False
    path = f.location.path or (f.package.path if f.package else "")
    return not (rule.path and not fnmatchcase(path, rule.path))


def apply_policy(
    report: ScanReport,
    policy: Policy,
    *,
    today: date,
    vex: tuple[VexStatement, ...] = (),
) -> tuple[ScanReport, list[Reason]]:
    """Add licence findings, mark suppressed findings, drop unfixed ones when asked.

    Returns the new report and the reasons produced on the way (expired exceptions).
    """
    reasons: list[Reason] = []
    statements = vex + tuple(s for p in policy.vulnerabilities.vex for s in load_vex(p))
    findings = list(report.findings) + list(license_findings(report.packages, policy.licenses))
    out: list[Finding] = []
    expired_reported: set[int] = set()
    for f in findings:
        if (
            policy.vulnerabilities.ignore_unfixed
            and f.kind is FindingKind.VULNERABILITY
            and f.fix_status is not FixStatus.FIXED
        ):
            continue
        suppressed = ""
        for i, rule in enumerate(policy.exceptions):
            if not exception_applies(rule, f, report.target):
                continue
            if rule.expired(today):
                if i not in expired_reported:
                    expired_reported.add(i)
                    reasons.append(
                        Reason(
                            Outcome.WARN,
                            f"exception for {rule.id} expired on {rule.expires} and no longer suppresses",
                            rule=str(rule.source),
                        )
                    )
                continue
            suppressed = f"exception {rule.source}" + (f": {rule.reason}" if rule.reason else "")
            break
        if not suppressed and f.kind is FindingKind.VULNERABILITY:
            st = vex_verdict(f, report.artifact_digest, statements)
            if st is not None and st.status in ("not_affected", "fixed"):
                suppressed = f"VEX {st.status} ({st.source})"
        out.append(replace(f, suppressed_by=suppressed) if suppressed else f)
    return replace(report, findings=tuple(out)), reasons


def decide(
    report: ScanReport,
    policy: Policy,
    *,
    allow_incomplete: bool = False,
    prior: list[Reason] | None = None,
) -> Decision:
    """The gate's verdict on an already policy-applied report."""
    reasons = list(prior or [])
    thresholds: dict[FindingKind, tuple[Severity | None, str]] = {
        FindingKind.VULNERABILITY: (policy.vulnerabilities.fail_on, str(policy.vulnerabilities.source)),
        FindingKind.SECRET: (policy.secrets.fail_on, str(policy.secrets.source)),
        FindingKind.MALWARE: (policy.malware.fail_on, str(policy.malware.source)),
        FindingKind.MISCONFIGURATION: (policy.misconfig.fail_on, str(policy.misconfig.source)),
        FindingKind.LICENSE: (policy.licenses.severity, str(policy.licenses.source)),
    }
    unknown_mode = policy.vulnerabilities.unknown_severity
    unknown_count = 0
    for f in report.findings:
        if f.suppressed_by:
            continue
        fail_on, rule = thresholds[f.kind]
        if f.kind is FindingKind.VULNERABILITY and f.severity is Severity.UNKNOWN and fail_on is not Severity.UNKNOWN:
            unknown_count += 1
            if unknown_mode is UnknownSeverity.FAIL:
                reasons.append(
                    Reason(Outcome.DENY, f"{_describe(f)} has UNKNOWN severity", f.id, f"{rule} (unknown_severity)")
                )
            continue
        if fail_on is not None and f.severity >= fail_on:
            reasons.append(
                Reason(
                    Outcome.DENY,
                    f"{_describe(f)} is {f.severity.name} (fails at {fail_on.name})",
                    f.id,
                    rule,
                )
            )
    if unknown_count and unknown_mode is UnknownSeverity.WARN:
        reasons.append(
            Reason(
                Outcome.WARN,
                f"{unknown_count} vulnerabilities have UNKNOWN severity",
                rule=f"{policy.vulnerabilities.source} (unknown_severity: warn)",
            )
        )
    for g in report.gaps:
        reasons.append(
            Reason(
                Outcome.WARN if allow_incomplete else Outcome.DENY,
                f"coverage gap: {g.where}: {g.reason}",
                rule="--allow-incomplete" if allow_incomplete else "coverage (use --allow-incomplete to accept)",
            )
        )
    return Decision.of(reasons)
