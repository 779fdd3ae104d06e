"""The one policy file (``lockgate-policy.yaml``): typed, validated, with source lines.

Sections: ``vulnerabilities``, ``exceptions``, ``licenses``, ``misconfig``, ``secrets``,
``malware``, ``trust``. Unknown keys are errors (a typo must not silently weaken a
gate). Every rule remembers the line it came from so decisions can cite it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec

from lockgate._internal.structs import PartialEq
from lockgate._internal.yamlsafe import LinePath, load_with_lines, read_text
from lockgate.config import Limits
from lockgate.errors import ConfigError, InputError
from lockgate.findings.model import Severity

SECRETS_KEYS = ("fail_on", "rules", "allow", "disable_rules", "builtin_allow", "max_size")
MALWARE_KEYS = (
    "fail_on",
    "bundled_rules",
    "rule_dirs",
    "hash_lists",
    "hashes",
    "clamd",
    "heuristics",
    "setuid_heuristic",
    "max_size",
    "yara_timeout",
)
SECTIONS = ("vulnerabilities", "exceptions", "licenses", "misconfig", "secrets", "malware", "trust")


class UnknownSeverity(enum.StrEnum):
    FAIL = "fail"
    WARN = "warn"
    IGNORE = "ignore"


class Source(msgspec.Struct, frozen=True):
    """Where a rule came from, for the evidence chain."""

    file: str = ""
    line: int = 0

    def __str__(self) -> str:
        if not self.file:
            return "command line"
        return f"{self.file}:{self.line}" if self.line else self.file


class VulnerabilityPolicy(msgspec.Struct, frozen=True):
    fail_on: Severity | None = None
    ignore_unfixed: bool = False
    unknown_severity: UnknownSeverity = UnknownSeverity.WARN
    vex: tuple[Path, ...] = ()
    source: Source = msgspec.field(default_factory=Source)


class ExceptionRule(msgspec.Struct, frozen=True):
    """Suppress findings with ``id`` (or an alias), optionally scoped by purl, image and path."""

    id: str
    reason: str
    purl: str = ""
    image: str = ""
    path: str = ""
    expires: date | None = None
    source: Source = msgspec.field(default_factory=Source)

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires


class LicensePolicy(msgspec.Struct, frozen=True):
    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    """When non-empty, every licence not listed is a finding."""
    severity: Severity = Severity.HIGH
    source: Source = msgspec.field(default_factory=Source)


class ThresholdPolicy(PartialEq, frozen=True):
    _uncompared = frozenset({"scanner"})

    fail_on: Severity | None = None
    source: Source = msgspec.field(default_factory=Source)
    scanner: dict[str, Any] = msgspec.field(default_factory=dict)
    """The section's other keys (custom rules, allow-lists, hash lists ...), validated by the scanner."""


class MisconfigPolicy(msgspec.Struct, frozen=True):
    pss_level: str = "restricted"
    pss_version: str = "latest"
    disable: tuple[str, ...] = ()
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    fail_on: Severity | None = None
    source: Source = msgspec.field(default_factory=Source)


class Policy(msgspec.Struct, frozen=True):
    """A parsed policy file. ``Policy()`` is the empty policy (nothing fails)."""

    vulnerabilities: VulnerabilityPolicy = msgspec.field(default_factory=VulnerabilityPolicy)
    exceptions: tuple[ExceptionRule, ...] = ()
    licenses: LicensePolicy = msgspec.field(default_factory=LicensePolicy)
    misconfig: MisconfigPolicy = msgspec.field(default_factory=MisconfigPolicy)
    secrets: ThresholdPolicy = msgspec.field(default_factory=ThresholdPolicy)
    malware: ThresholdPolicy = msgspec.field(default_factory=ThresholdPolicy)
    trust: tuple[dict[str, Any], ...] = ()
    """Raw trust scopes; interpreted by ``lockgate.trust.policy``."""
    path: str = ""


class _Reader:
    def __init__(self, file: str, lines: dict[LinePath, int]) -> None:
        self.file = file
        self.lines = lines

    def src(self, *path: str | int) -> Source:
        return Source(self.file, self.lines.get(tuple(path), 0))

    def fail(self, path: tuple[str | int, ...], msg: str) -> ConfigError:
        line = self.lines.get(path, 0)
        where = f"{self.file}:{line}" if line else self.file
        return ConfigError(f"{where}: {'.'.join(map(str, path))}: {msg}")

    def mapping(self, value: Any, path: tuple[str | int, ...], allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, "expected a mapping")
        for k in value:
            if k not in allowed:
                raise self.fail((*path, k), f"unknown key (allowed: {', '.join(allowed)})")
        return value

    def severity(self, value: Any, path: tuple[str | int, ...]) -> Severity | None:
        if value is None:
            return None
        try:
            return Severity.parse(str(value))
        except ValueError as e:
            raise self.fail(path, str(e)) from None

    def strings(self, value: Any, path: tuple[str | int, ...]) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise self.fail(path, "expected a list of strings")
        return tuple(value)

    def boolean(self, value: Any, path: tuple[str | int, ...]) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(path, "expected true or false")
        return value

    def day(self, value: Any, path: tuple[str | int, ...]) -> date | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(path, f"invalid date {value!r} (use YYYY-MM-DD)") from None


def parse_exceptions(items: Any, r: _Reader, base: tuple[str | int, ...]) -> tuple[ExceptionRule, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise r.fail(base, "expected a list")
    out = []
    for i, raw in enumerate(items):
        p = (*base, i)
        m = r.mapping(
            {"id": raw} if isinstance(raw, str) else raw, p, ("id", "reason", "purl", "image", "path", "expires")
        )
        if not m.get("id"):
            raise r.fail(p, "exception needs an 'id'")
        out.append(
            ExceptionRule(
                id=str(m["id"]),
                reason=str(m.get("reason", "")),
                purl=str(m.get("purl", "") or ""),
                image=str(m.get("image", "") or ""),
                path=str(m.get("path", "") or ""),
                expires=r.day(m.get("expires"), (*p, "expires")),
                source=r.src(*p),
            )
        )
    return tuple(out)


def parse_policy(
    text: str, *, file: str = "policy", base_dir: Path | None = None, limits: Limits | None = None
) -> Policy:
    """Parse policy YAML text; ``base_dir`` resolves relative paths (VEX files)."""
    lim = limits or Limits()
    data, lines = load_with_lines(text, what=file, max_aliases=lim.max_yaml_aliases)
    r = _Reader(file, lines)
    top = r.mapping(data, (), SECTIONS)
    v = r.mapping(
        top.get("vulnerabilities"), ("vulnerabilities",), ("fail_on", "ignore_unfixed", "unknown_severity", "vex")
    )
    unknown = str(v.get("unknown_severity", "warn")).lower()
    if unknown not in {u.value for u in UnknownSeverity}:
        raise r.fail(("vulnerabilities", "unknown_severity"), "expected fail, warn or ignore")
    bd = base_dir or Path()
    vuln = VulnerabilityPolicy(
        fail_on=r.severity(v.get("fail_on"), ("vulnerabilities", "fail_on")),
        ignore_unfixed=r.boolean(v.get("ignore_unfixed"), ("vulnerabilities", "ignore_unfixed")),
        unknown_severity=UnknownSeverity(unknown),
        vex=tuple(bd / x for x in r.strings(v.get("vex"), ("vulnerabilities", "vex"))),
        source=r.src("vulnerabilities"),
    )
    lic = r.mapping(top.get("licenses"), ("licenses",), ("deny", "allow", "severity"))
    m = r.mapping(top.get("misconfig"), ("misconfig",), ("pss", "disable", "severity_overrides", "fail_on"))
    pss = r.mapping(m.get("pss"), ("misconfig", "pss"), ("level", "version"))
    level = str(pss.get("level", "restricted"))
    if level not in ("privileged", "baseline", "restricted"):
        raise r.fail(("misconfig", "pss", "level"), "expected privileged, baseline or restricted")
    overrides_raw = r.mapping(
        m.get("severity_overrides"),
        ("misconfig", "severity_overrides"),
        tuple(str(k) for k in (m.get("severity_overrides") or {})),
    )
    overrides = tuple(
        (str(k), sev)
        for k, val in overrides_raw.items()
        if (sev := r.severity(val, ("misconfig", "severity_overrides", str(k)))) is not None
    )
    sec = r.mapping(top.get("secrets"), ("secrets",), SECRETS_KEYS)
    mal = r.mapping(top.get("malware"), ("malware",), MALWARE_KEYS)
    trust = top.get("trust") or []
    if not isinstance(trust, list) or not all(isinstance(t, dict) for t in trust):
        raise r.fail(("trust",), "expected a list of scopes")
    return Policy(
        vulnerabilities=vuln,
        exceptions=parse_exceptions(top.get("exceptions"), r, ("exceptions",)),
        licenses=LicensePolicy(
            deny=r.strings(lic.get("deny"), ("licenses", "deny")),
            allow=r.strings(lic.get("allow"), ("licenses", "allow")),
            severity=r.severity(lic.get("severity"), ("licenses", "severity")) or Severity.HIGH,
            source=r.src("licenses"),
        ),
        misconfig=MisconfigPolicy(
            pss_level=level,
            pss_version=str(pss.get("version", "latest")),
            disable=r.strings(m.get("disable"), ("misconfig", "disable")),
            severity_overrides=overrides,
            fail_on=r.severity(m.get("fail_on"), ("misconfig", "fail_on")),
            source=r.src("misconfig"),
        ),
        secrets=ThresholdPolicy(
            r.severity(sec.get("fail_on"), ("secrets", "fail_on")),
            r.src("secrets"),
            {k: v for k, v in sec.items() if k != "fail_on"},
        ),
        malware=ThresholdPolicy(
            r.severity(mal.get("fail_on"), ("malware", "fail_on")),
            r.src("malware"),
            {k: v for k, v in mal.items() if k != "fail_on"},
        ),
        trust=tuple(trust),
        path=file,
    )


def load_policy(path: Path, limits: Limits | None = None) -> Policy:
    """Load and validate a policy file; errors name the file and line."""
    lim = limits or Limits()
    text = read_text(path, lim.max_yaml_bytes)
    try:
        return parse_policy(text, file=str(path), base_dir=path.parent, limits=lim)
    except InputError as e:
        raise ConfigError(str(e)) from None


def load_ignore_file(path: Path, limits: Limits | None = None) -> tuple[ExceptionRule, ...]:
    """``.lockgateignore``: one id per line (``# comments``), or YAML in the ``exceptions:`` shape.

    A line may carry scope and expiry: ``CVE-2024-1 purl=pkg:pypi/x exp:2027-01-31 # reason``.
    """
    lim = limits or Limits()
    text = read_text(path, lim.max_yaml_bytes)
    stripped = text.lstrip()
    if stripped.startswith(("-", "exceptions:")):
        data, lines = load_with_lines(text, what=str(path), max_aliases=lim.max_yaml_aliases)
        r = _Reader(str(path), lines)
        if isinstance(data, dict):
            return parse_exceptions(data.get("exceptions"), r, ("exceptions",))
        return parse_exceptions(data, r, ())
    rules = []
    for n, line in enumerate(text.splitlines(), start=1):
        body, _, comment = line.partition("#")
        parts = body.split()
        if not parts:
            continue
        fields: dict[str, str] = {}
        for extra in parts[1:]:
            key, sep, val = extra.partition("=") if "=" in extra else extra.partition(":")
            if not sep or key not in ("purl", "image", "path", "exp", "expires"):
                raise ConfigError(f"{path}:{n}: cannot parse {extra!r} (use purl=, image=, path=, exp:DATE)")
            fields["expires" if key == "exp" else key] = val
        expires = None
        if "expires" in fields:
            try:
                expires = date.fromisoformat(fields["expires"])
            except ValueError:
                raise ConfigError(f"{path}:{n}: invalid date {fields['expires']!r}") from None
        rules.append(
            ExceptionRule(
                id=parts[0],
                reason=comment.strip(),
                purl=fields.get("purl", ""),
                image=fields.get("image", ""),
                path=fields.get("path", ""),
                expires=expires,
                source=Source(str(path), n),
            )
        )
    return tuple(rules)
