"""Alpine (and Wolfi/Chainguard) packages from ``lib/apk/db/installed``.

The database is a list of ``X:value`` lines, one blank line between packages
(apk-tools' "installed database" format). ``P`` name, ``V`` version, ``A`` arch,
``o`` origin (the source package), ``L`` licence, ``D`` dependencies.
"""

from __future__ import annotations

from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, EntryHint, FileEntry
from lockgate.inventory.model import Package
from lockgate.inventory.os.licenses import split_licenses

APK_INSTALLED = "lib/apk/db/installed"
APK_PATHS = frozenset({APK_INSTALLED, "usr/lib/apk/db/installed"})
"""``usr/lib``: where usr-merged apk-tools 3 systems keep the database (``lib`` may be a symlink)."""


def _deps(value: str) -> tuple[str, ...]:
    names: list[str] = []
    for token in value.split():
        if token.startswith("!"):
            continue  # conflicts, not dependencies
        name = token
        for op in ("<", ">", "=", "~"):
            name = name.split(op, 1)[0]
        if name and name not in names:
            names.append(name)
    return tuple(names)


def parse_installed(content: bytes, path: str, layer: str = "") -> tuple[list[Package], list[CoverageGap]]:
    """Parse an apk installed database; malformed records become one gap, the rest is kept."""
    if b"\x00" in content:
        return [], [CoverageGap(path, "not an apk database (binary content)", layer)]
    text = content.decode("utf-8", "replace")
    packages: list[Package] = []
    bad_lines = 0
    first_bad = 0
    record: dict[str, str] = {}
    deps: list[str] = []

    def flush() -> None:
        name, version = record.get("P", ""), record.get("V", "")
        if name and version:
            origin = record.get("o", "")
            packages.append(
                Package(
                    ecosystem="apk",
                    name=name,
                    version=version,
                    source_name=origin or name,
                    source_version=version,
                    arch=record.get("A", ""),
                    licenses=split_licenses(record.get("L", "")),
                    dependencies=tuple(deps),
                    path=path,
                    layer=layer,
                    metadata=tuple(
                        (k, v) for k, v in (("commit", record.get("c", "")), ("maintainer", record.get("m", ""))) if v
                    ),
                )
            )
        record.clear()
        deps.clear()

    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            flush()
            continue
        if len(line) < 2 or line[1] != ":":
            bad_lines += 1
            first_bad = first_bad or lineno
            continue
        key, value = line[0], line[2:]
        if key == "D":
            deps.extend(d for d in _deps(value) if d not in deps)
        elif key in "PVAoLcm" and key not in record:
            record[key] = value.strip()
    flush()
    gaps = []
    if bad_lines:
        gaps.append(CoverageGap(path, f"{bad_lines} malformed line(s) ignored (first at line {first_bad})", layer))
    return packages, gaps


class ApkAnalyzer:
    """Installed apk packages (Alpine, Wolfi, Chainguard)."""

    name = "apk"
    version = 1
    needs_content = True
    squash = True
    entry_hint = EntryHint(paths=APK_PATHS)
    max_size: int | None = None

    def required(self, entry: FileEntry) -> bool:
        return entry.path in APK_PATHS

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        pkgs, gaps = parse_installed(content, entry.path, entry.layer)
        return AnalysisResult(packages=tuple(pkgs), gaps=tuple(gaps))
