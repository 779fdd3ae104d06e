"""The layer-aware secret analyser for the image and directory walkers.

``squash`` is False: a secret written by a lower layer is reported with that layer's diff_id
even when a later layer deletes the file, because the lower layer still ships it.
Binary files (known binary extensions, or a NUL byte in the first 8 KiB) get only the
structural key-file checks of :mod:`keyfiles` (OpenPGP secret keys, keystores ...);
files over ``max_size`` are offered to the walker, which records them as coverage gaps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lockgate.detect.secrets.keyfiles import KEY_CHECK_IDS, KeyFileMatch, check_binary
from lockgate.detect.secrets.rules import AllowRule, Rule
from lockgate.detect.secrets.scanner import SecretMatch, SecretScanner
from lockgate.findings.model import Finding, FindingKind, Location
from lockgate.fs.model import EMPTY, AnalysisResult, FileEntry

DEFAULT_MAX_SIZE: int | None = None
"""Files larger than this are not read for secrets (they become coverage gaps)."""

BINARY_SNIFF = 8192

_SUFFIX_TEXT = """
    .so .a .o .ko .dll .exe .dylib .class .jar .war .ear .whl .egg .pyc .pyo .mo .gmo
    .png .jpg .jpeg .gif .bmp .ico .webp .tiff .svgz .ttf .otf .woff .woff2 .eot .pcf
    .gz .tgz .bz2 .xz .zst .lz4 .lzma .zip .7z .rar .tar .deb .rpm .apk .cab .iso .img
    .mp3 .mp4 .ogg .wav .flac .avi .mov .pdf .db .sqlite .wasm .node .bin .dat .cache
"""
BINARY_SUFFIXES = frozenset(_SUFFIX_TEXT.split())
"""Suffixes of files that never hold text credentials worth a regex pass (also ``.so.N``)."""

BINARY_TREES = re.compile(r"^usr/(share/zoneinfo|lib/locale|share/locale|lib/x86_64-linux-gnu/gconv)/")
"""Folders of compiled data files (time zones, locales, charset converters)."""


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def is_binary(content: bytes) -> bool:
    """True when the first 8 KiB hold a NUL byte (the usual text/binary test)."""
    return b"\0" in content[:BINARY_SNIFF]


def match_to_finding(m: SecretMatch, path: str, layer: str) -> Finding:
    """A SECRET finding for ``m``: rule id, redacted value in the title, file/line/layer location."""
    r = m.rule
    return Finding(
        kind=FindingKind.SECRET,
        id=r.id,
        severity=r.severity,
        title=f"{r.title}: {m.redacted}",
        description=f"{r.title} ({r.category}) matched by rule {r.id}; the value is redacted.",
        severity_source="lockgate",
        remediation="Remove the credential from the image (every layer), revoke it and issue a new one.",
        location=Location(path=path, start_line=m.start_line, end_line=m.end_line, column=m.column, layer=layer),
    )


def key_file_finding(k: KeyFileMatch, path: str, layer: str) -> Finding:
    """A SECRET finding for a binary key file (no key material in any field)."""
    return Finding(
        kind=FindingKind.SECRET,
        id=k.check.id,
        severity=k.severity,
        title=f"{k.check.title}: {k.detail}",
        description=f"{k.check.title} ({k.detail}) recognised by its binary structure; rule {k.check.id}.",
        severity_source="lockgate",
        remediation="Remove the key file from the image (every layer), revoke the key and issue a new one.",
        location=Location(path=path, layer=layer),
    )


class SecretAnalyzer:
    """Finds credentials in every regular text file of every layer."""

    name = "secret"
    version = 3
    needs_content = True
    squash = False

    def __init__(
        self,
        rules: Sequence[Rule] | None = None,
        allow: Sequence[AllowRule] | None = None,
        *,
        max_size: int | None = DEFAULT_MAX_SIZE,
        skip_suffixes: frozenset[str] = BINARY_SUFFIXES,
        key_checks: frozenset[str] = KEY_CHECK_IDS,
    ) -> None:
        self.scanner = SecretScanner(rules, allow)
        self.max_size = max_size
        self._skip = skip_suffixes
        self._key_checks = key_checks

    def required(self, entry: FileEntry) -> bool:
        if not entry.is_file or entry.size == 0:
            return False
        name = entry.name
        if _suffix(name) in self._skip or ".so." in name or BINARY_TREES.match(entry.path):
            return False
        return not self.scanner.path_allowed(entry.path)

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        if is_binary(content):
            key = check_binary(content, self._key_checks) if self._key_checks else None
            if key is None or self.scanner.allowed(key.check.id, entry.path, b""):
                return EMPTY
            return AnalysisResult(findings=(key_file_finding(key, entry.path, entry.layer),))
        matches = self.scanner.scan(content, entry.path)
        if not matches:
            return EMPTY
        return AnalysisResult(findings=tuple(match_to_finding(m, entry.path, entry.layer) for m in matches))
