"""dpkg and opkg status databases: ``var/lib/dpkg/status``, ``status.d/*``, ``usr/lib/opkg/status``.

The format is RFC 822-like stanzas (deb-control(5)). Parsed by hand because it is tiny
and the only library (python-debian) is GPL and heavier than the parser itself.
Only packages whose ``Status`` says ``installed`` are reported, as ``dpkg -l`` shows
``ii``; distroless ``status.d`` entries have no ``Status`` and count as installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, EntryHint, FileEntry
from lockgate.inventory.model import Package

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d/"
OPKG_STATUS = ("usr/lib/opkg/status", "var/lib/opkg/status")

# Package states whose files are fully on disk (dpkg(1) "installed", plus pending triggers).
_INSTALLED_STATES = frozenset({"installed", "triggers-pending", "triggers-awaited"})
_SOURCE_RE = re.compile(r"^(?P<name>\S+)(?:\s+\((?P<version>[^)]+)\))?\s*$")
_DEP_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9+.\-]*)")


@dataclass(frozen=True, slots=True)
class Stanza:
    """One paragraph of a control file: the fields lockgate uses (keys lowercased) and its first line."""

    fields: dict[str, str]
    line: int
    malformed: bool


_FIELDS = ("Package", "Status", "Version", "Source", "Architecture", "Depends", "Pre-Depends", "License")
# A line that is neither "Key: value", nor a continuation (leading space/tab), nor a comment.
_BAD_LINE_RE = re.compile(r"\n(?:[^ \t\n#:][^:\n]*|:[^\n]*)(?=\n)")
_BLANKISH_RE = re.compile(r"\n[ \t]+\n")


def iter_stanzas(text: str) -> Iterator[Stanza]:
    """Split control-file text into stanzas; lines that are neither ``Key: value`` nor
    continuations mark their stanza as malformed (the rest of the file still parses).

    Only the fields lockgate uses are extracted, with ``str.find`` per field: status files
    reach megabytes and most of their lines are Description/Conffiles continuations.
    """
    if _BLANKISH_RE.search(text):
        text = _BLANKISH_RE.sub("\n\n", text)
    line = 1
    for chunk in text.split("\n\n"):
        start_line = line
        line += chunk.count("\n") + 2
        if not chunk.strip():
            continue
        block = "\n" + chunk.strip("\n") + "\n"
        start_line += len(chunk) - len(chunk.lstrip("\n"))
        fields: dict[str, str] = {}
        for key in _FIELDS:
            i = block.find("\n" + key + ":")
            if i >= 0:
                j = block.find("\n", i + 1)
                fields[key.lower()] = block[i + len(key) + 2 : j].strip()
        yield Stanza(fields, start_line, _BAD_LINE_RE.search(block) is not None)


def _is_installed(status: str | None, *, missing_ok: bool) -> bool:
    if status is None:
        return missing_ok
    words = status.split()
    return len(words) == 3 and words[2] in _INSTALLED_STATES


def _dependency_names(depends: str) -> tuple[str, ...]:
    names: list[str] = []
    for clause in depends.split(","):
        first = clause.split("|")[0]
        m = _DEP_NAME_RE.match(first)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return tuple(names)


def parse_status(
    content: bytes, path: str, *, ecosystem: str = "deb", layer: str = "", missing_status_ok: bool = False
) -> tuple[list[Package], list[CoverageGap]]:
    """Parse a dpkg/opkg status file; returns installed packages and coverage gaps."""
    if b"\x00" in content:
        return [], [CoverageGap(path, "not a dpkg status file (binary content)", layer)]
    text = content.decode("utf-8", "replace").replace("\r\n", "\n")
    packages: list[Package] = []
    bad: list[int] = []
    for stanza in iter_stanzas(text):
        if stanza.malformed:
            bad.append(stanza.line)
            continue
        f = stanza.fields
        name, version = f.get("package", ""), f.get("version", "")
        if not name or not version:
            continue  # dpkg itself ignores such records
        if not _is_installed(f.get("status"), missing_ok=missing_status_ok):
            continue
        src_name, src_version = name, version
        if src := f.get("source"):
            m = _SOURCE_RE.match(src)
            if m:
                src_name = m.group("name")
                src_version = m.group("version") or version
        packages.append(
            Package(
                ecosystem=ecosystem,
                name=name,
                version=version,
                source_name=src_name,
                source_version=src_version,
                arch=f.get("architecture", ""),
                path=path,
                layer=layer,
                dependencies=_dependency_names(f.get("depends", "") + "," + f.get("pre-depends", "")),
                licenses=tuple(x.strip() for x in f.get("license", "").split(",") if x.strip()),
            )
        )
    gaps = []
    if bad:
        gaps.append(
            CoverageGap(path, f"{len(bad)} malformed stanza(s) skipped (first at line {bad[0]})", layer),
        )
    return packages, gaps


class DpkgAnalyzer:
    """Installed Debian/Ubuntu packages from the dpkg database (incl. distroless ``status.d``)."""

    name = "dpkg"
    version = 1
    needs_content = True
    squash = True
    entry_hint = EntryHint(paths=frozenset({DPKG_STATUS}), path_prefixes=(DPKG_STATUS_D,))
    max_size: int | None = None

    def required(self, entry: FileEntry) -> bool:
        p = entry.path
        if p == DPKG_STATUS:
            return True
        if p.startswith(DPKG_STATUS_D):
            rest = p[len(DPKG_STATUS_D) :]
            return bool(rest) and "/" not in rest and not rest.endswith(".md5sums")
        return False

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        # Distroless images (``status.d``) ship etc/os-release and debian_version, which decide
        # the OS; no OS is guessed here, since a package layer above the base would win the merge.
        distroless = entry.path.startswith(DPKG_STATUS_D)
        pkgs, gaps = parse_status(content, entry.path, layer=entry.layer, missing_status_ok=distroless)
        return AnalysisResult(packages=tuple(pkgs), gaps=tuple(gaps))


class OpkgAnalyzer:
    """Installed OpenWrt packages from the opkg status file (same stanza format as dpkg)."""

    name = "opkg"
    version = 1
    needs_content = True
    squash = True
    entry_hint = EntryHint(paths=frozenset(OPKG_STATUS))
    max_size: int | None = None

    def required(self, entry: FileEntry) -> bool:
        return entry.path in OPKG_STATUS

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        pkgs, gaps = parse_status(content, entry.path, ecosystem="opkg", layer=entry.layer)
        return AnalysisResult(packages=tuple(pkgs), gaps=tuple(gaps))
