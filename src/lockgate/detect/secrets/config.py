"""Secrets in the image config: environment, labels and history (``RUN``/``ENV``/``ARG`` lines).

Values are run through the same rules as files, and additionally ``NAME=value`` pairs whose
name says "password/secret/token/key" are reported when the value is not a placeholder or a
file reference. Locations use ``image-config:env/NAME``, ``image-config:label/KEY`` and
``image-config:history`` (line = history entry, layer = the layer that entry created).
"""

from __future__ import annotations

import re

from msgspec.structs import replace

from lockgate.detect.secrets.analyzer import match_to_finding
from lockgate.detect.secrets.redact import redact
from lockgate.detect.secrets.rules import PLACEHOLDER
from lockgate.detect.secrets.scanner import SecretScanner
from lockgate.findings.model import Finding, FindingKind, Location, Severity
from lockgate.oci.model import ImageConfig

SENSITIVE_NAME = re.compile(
    r"(?i)(?:^|_|-|\.)(?:password|passwd|pwd|secret|secret_?key|token|api_?key|apikey|access_?key|private_?key|"
    r"client_?secret|credentials?|auth_?token)$"
)
"""Names of variables/labels that hold credentials (matched on the name's last part)."""

NOT_A_VALUE = re.compile(r"^(?:/|\./|~/|file:|https?://[^:@/]*/|[A-Za-z_]*\$)")
"""Values that reference a secret elsewhere (a path, a variable) rather than being one."""

_PAIR = re.compile(r"""(?:^|[\s;|&])([A-Za-z_][A-Za-z0-9_.\-]*)=("[^"]*"|'[^']*'|[^\s;|&]+)""")
_FLAG = re.compile(r"""--(?:password|passwd|token|secret|api-key|client-secret)[=\s]+("[^"]*"|'[^']*'|[^\s;|&]+)""")


def _plausible(value: str) -> bool:
    v = value.strip("\"'")
    if len(v) < 6 or NOT_A_VALUE.match(v):
        return False
    return not PLACEHOLDER.match(v.encode())


def _named(rule_id: str, title: str, name: str, value: str, loc: Location) -> Finding:
    return Finding(
        kind=FindingKind.SECRET,
        id=rule_id,
        severity=Severity.HIGH,
        title=f"{title} {name}: {redact(value, hint=False)}",
        description=f"{title} {name} holds what looks like a credential; the value is redacted.",
        severity_source="lockgate",
        remediation="Pass secrets at run time (secret mounts, orchestrator secrets), not in the image config.",
        location=loc,
    )


def _reported(span: tuple[int, int], known: list[int]) -> bool:
    """True when a rule match already starts inside ``span`` (same value, reported once)."""
    return any(span[0] <= c < span[1] for c in known)


def _history_layers(config: ImageConfig) -> list[str]:
    layers, pos = [], 0
    for h in config.history:
        if h.empty_layer:
            layers.append("")
            continue
        layers.append(config.diff_ids[pos] if pos < len(config.diff_ids) else "")
        pos += 1
    return layers


def scan_image_config(config: ImageConfig, scanner: SecretScanner | None = None) -> tuple[Finding, ...]:
    """SECRET findings for credentials in ``config``'s env, labels and history ``created_by``."""
    sc = scanner or SecretScanner()
    out: list[Finding] = []
    seen: set[tuple[str, str, int]] = set()

    def add(f: Finding) -> None:
        key = (f.location.path, f.title, f.location.start_line)
        if key not in seen:
            seen.add(key)
            out.append(f)

    for item in config.env:
        name, _, value = item.partition("=")
        loc = Location(path=f"image-config:env/{name}")
        matches = sc.scan(item.encode(), "")
        for m in matches:
            add(replace(match_to_finding(m, loc.path, ""), location=loc))
        if not matches and SENSITIVE_NAME.search(name) and _plausible(value):
            add(_named("config-env-secret", "Environment variable", name, value, loc))
    for key, value in config.labels:
        loc = Location(path=f"image-config:label/{key}")
        matches = sc.scan(f"{key}={value}".encode(), "")
        for m in matches:
            add(replace(match_to_finding(m, loc.path, ""), location=loc))
        if not matches and SENSITIVE_NAME.search(key) and _plausible(value):
            add(_named("config-label-secret", "Label", key, value, loc))
    for i, (h, layer) in enumerate(zip(config.history, _history_layers(config), strict=True), start=1):
        text = h.created_by.encode("utf-8", "replace").decode("latin-1")  # str offsets == byte offsets
        if not text:
            continue
        loc = Location(path="image-config:history", start_line=i, end_line=i, layer=layer)
        matches = sc.scan(text.encode("latin-1"), "")
        for m in matches:
            add(replace(match_to_finding(m, loc.path, layer), location=loc))
        known = [m.column - 1 for m in matches if m.start_line == 1]  # offsets of secrets a rule already named

        for pm in _PAIR.finditer(text):
            name, value = pm.group(1), pm.group(2)
            if not _reported(pm.span(2), known) and SENSITIVE_NAME.search(name) and _plausible(value):
                add(_named("config-history-secret", "Build variable", name, value, loc))
        for fm in _FLAG.finditer(text):
            if not _reported(fm.span(1), known) and _plausible(fm.group(1)):
                add(
                    _named(
                        "config-history-secret",
                        "Command-line flag",
                        fm.group(0).split("=")[0].split()[0],
                        fm.group(1),
                        loc,
                    )
                )
    return tuple(out)
