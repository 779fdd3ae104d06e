"""Custom secret rules and allow-lists from the ``secrets:`` section of the config file.

Shape (every key optional)::

    secrets:
      max_size: 10485760            # bytes; larger files become coverage gaps
      disable_rules: [jwt-token]    # built-in rule ids to turn off
      builtin_allow: true           # keep the built-in allow-rules
      rules:
        - id: acme-api-key
          title: ACME API key
          severity: HIGH
          regex: 'acme_(?P<secret>[a-z0-9]{32})'
          keywords: [acme_]         # required: the prefilter words (case-insensitive)
          context: []               # optional words that must also occur in the file
          min_entropy: 3.0
          path: '\\.env$'           # optional path filter (regex, searched)
      allow:
        - id: our-fixtures
          description: test keys in our fixtures
          path: '^app/tests/fixtures/'
          value: '^AKIAFAKE'        # regex over the secret; path and value may be combined
          rules: [aws-access-key-id]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.detect.secrets.analyzer import DEFAULT_MAX_SIZE, SecretAnalyzer
from lockgate.detect.secrets.keyfiles import KEY_CHECK_IDS
from lockgate.detect.secrets.rules import BUILTIN_ALLOW, BUILTIN_RULES, AllowRule, Rule
from lockgate.errors import ConfigError
from lockgate.findings.model import Severity

_ID = re.compile(r"^[a-z0-9][a-z0-9._\-]{1,63}$")
_RULE_KEYS = {"id", "title", "severity", "regex", "keywords", "context", "min_entropy", "path", "multiline"}
_ALLOW_KEYS = {"id", "description", "path", "value", "rules"}
_TOP_KEYS = {"max_size", "disable_rules", "builtin_allow", "rules", "allow", "fail_on"}
"""``fail_on`` belongs to the policy gate (same ``secrets:`` section); it is accepted and ignored here."""


@dataclass(frozen=True, slots=True)
class SecretSettings:
    """Effective secret-scanner configuration."""

    rules: tuple[Rule, ...] = BUILTIN_RULES
    allow: tuple[AllowRule, ...] = BUILTIN_ALLOW
    max_size: int | None = DEFAULT_MAX_SIZE
    key_checks: frozenset[str] = KEY_CHECK_IDS
    """Binary key-file checks that stay on (see :mod:`lockgate.detect.secrets.keyfiles`)."""

    def analyzer(self) -> SecretAnalyzer:
        """A :class:`SecretAnalyzer` with these rules, allow-rules and size cap."""
        return SecretAnalyzer(self.rules, self.allow, max_size=self.max_size, key_checks=self.key_checks)


def _strs(v: Any, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(v)


def _regex(text: Any, where: str) -> re.Pattern[str]:
    if not isinstance(text, str) or not text:
        raise ConfigError(f"{where} must be a non-empty regular expression")
    try:
        return re.compile(text)
    except re.error as e:
        raise ConfigError(f"{where} is not a valid regular expression: {e}") from None


def _check_keys(d: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def parse_rule(d: Any, where: str = "secrets.rules[]") -> Rule:
    """One custom rule from its mapping; :class:`ConfigError` on any problem."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{where} must be a mapping")
    _check_keys(d, _RULE_KEYS, where)
    rid = d.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise ConfigError(f"{where}.id must be lowercase letters, digits, '.', '_' or '-' (2-64 characters)")
    where = f"secrets rule {rid}"
    try:
        severity = Severity.parse(str(d.get("severity", "HIGH")))
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    pattern = _regex(d.get("regex"), f"{where}: regex")
    keywords = _strs(d.get("keywords"), f"{where}: keywords")
    if not keywords or any(len(k) < 2 for k in keywords):
        raise ConfigError(f"{where}: keywords must list at least one word of 2+ characters (the prefilter)")
    entropy = d.get("min_entropy", 0.0)
    if not isinstance(entropy, int | float) or not 0 <= entropy <= 8:
        raise ConfigError(f"{where}: min_entropy must be a number from 0 to 8")
    rule = Rule(
        id=rid,
        title=str(d.get("title") or rid),
        severity=severity,
        pattern=pattern.pattern.encode(),
        flags=pattern.flags & ~re.UNICODE,
        keywords=tuple(k.lower().encode() for k in keywords),
        context=tuple(c.lower().encode() for c in _strs(d.get("context"), f"{where}: context")),
        min_entropy=float(entropy),
        path=_regex(d["path"], f"{where}: path") if d.get("path") is not None else None,
        multiline=bool(d.get("multiline", False)),
        category="custom",
    )
    rule.regex  # noqa: B018 - compiled now, so a bad pattern fails while the config loads
    return rule


def parse_allow(d: Any, where: str = "secrets.allow[]") -> AllowRule:
    """One allow-rule from its mapping; it needs a ``path`` or a ``value`` regex."""
    if not isinstance(d, Mapping):
        raise ConfigError(f"{where} must be a mapping")
    _check_keys(d, _ALLOW_KEYS, where)
    aid = str(d.get("id") or "custom-allow")
    where = f"secrets allow-rule {aid}"
    if d.get("path") is None and d.get("value") is None:
        raise ConfigError(f"{where}: give a path or a value regex (or both)")
    value = _regex(d["value"], f"{where}: value") if d.get("value") is not None else None
    return AllowRule(
        id=aid,
        description=str(d.get("description", "")),
        path=_regex(d["path"], f"{where}: path") if d.get("path") is not None else None,
        secret=re.compile(value.pattern.encode(), value.flags & ~re.UNICODE) if value is not None else None,
        rules=_strs(d.get("rules"), f"{where}: rules"),
    )


def default_analyzer() -> SecretAnalyzer:
    """The built-in rules and allow-list: what ``--scanners secret`` runs without a ``secrets:`` section."""
    return SecretSettings().analyzer()


def load_secret_settings(section: Mapping[str, Any] | None) -> SecretSettings:
    """Effective settings from the config file's ``secrets:`` mapping (``None``: built-ins only)."""
    if section is None:
        return SecretSettings()
    if not isinstance(section, Mapping):
        raise ConfigError("secrets: must be a mapping")
    _check_keys(section, _TOP_KEYS, "secrets")
    builtin_ids = {r.id for r in BUILTIN_RULES} | KEY_CHECK_IDS
    disabled = set(_strs(section.get("disable_rules"), "secrets.disable_rules"))
    unknown = sorted(disabled - builtin_ids)
    if unknown:
        raise ConfigError(f"secrets.disable_rules: unknown rule id(s) {', '.join(unknown)}")
    raw_rules = section.get("rules") or []
    if not isinstance(raw_rules, Sequence) or isinstance(raw_rules, str):
        raise ConfigError("secrets.rules must be a list")
    custom = [parse_rule(d, f"secrets.rules[{i}]") for i, d in enumerate(raw_rules)]
    rules = [r for r in BUILTIN_RULES if r.id not in disabled]
    taken = {r.id for r in rules}
    for r in custom:
        if r.id in taken:
            raise ConfigError(f"secrets rule {r.id}: id already used (disable the built-in rule to replace it)")
        taken.add(r.id)
        rules.append(r)
    raw_allow = section.get("allow") or []
    if not isinstance(raw_allow, Sequence) or isinstance(raw_allow, str):
        raise ConfigError("secrets.allow must be a list")
    allow = [parse_allow(d, f"secrets.allow[{i}]") for i, d in enumerate(raw_allow)]
    keep_builtin = section.get("builtin_allow", True)
    if not isinstance(keep_builtin, bool):
        raise ConfigError("secrets.builtin_allow must be true or false")
    max_size = section.get("max_size", DEFAULT_MAX_SIZE)
    if max_size is not None and (not isinstance(max_size, int) or isinstance(max_size, bool) or max_size <= 0):
        raise ConfigError("secrets.max_size must be a positive number of bytes")
    return SecretSettings(
        rules=tuple(rules),
        allow=(BUILTIN_ALLOW if keep_builtin else ()) + tuple(allow),
        max_size=max_size,
        key_checks=KEY_CHECK_IDS - disabled,
    )
