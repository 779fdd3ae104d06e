"""CBL-Mariner / Azure Linux distroless images: ``var/lib/rpmmanifest/container-manifest-2``.

These images drop the rpm database and ship the output of ``rpm -qa --qf`` instead, one
package per line with ten tab-separated fields::

    NAME  VERSION-RELEASE  INSTALLTIME  BUILDTIME  VENDOR  EPOCH  SIZE  ARCH  EPOCHNUM  SOURCERPM
"""

from __future__ import annotations

from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, EntryHint, FileEntry
from lockgate.inventory.model import Package
from lockgate.inventory.os.rpm.analyzer import to_package
from lockgate.inventory.os.rpm.header import RpmHeader

MANIFEST_PATH = "var/lib/rpmmanifest/container-manifest-2"
_FIELDS = 10


def _none(value: str) -> str:
    return "" if value == "(none)" else value


def parse_manifest(content: bytes, path: str, layer: str = "") -> tuple[list[Package], list[CoverageGap]]:
    """Parse the manifest; lines with the wrong shape are counted in one gap."""
    if b"\x00" in content:
        return [], [CoverageGap(path, "not an rpm manifest (binary content)", layer)]
    packages: list[Package] = []
    bad = 0
    first_bad = 0
    for lineno, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        f = line.split("\t")
        if len(f) != _FIELDS:
            bad += 1
            first_bad = first_bad or lineno
            continue
        name = f[0]
        version, sep, release = f[1].rpartition("-")
        if not name or not sep or not version or not f[8].isdigit():
            bad += 1
            first_bad = first_bad or lineno
            continue
        epoch = int(f[8])
        header = RpmHeader(
            name=name,
            version=version,
            release=release,
            epoch=epoch if epoch or f[5].isdigit() else None,
            arch=_none(f[7]),
            source_rpm=_none(f[9]),
            license="",
            vendor=_none(f[4]),
            size=int(f[6]) if f[6].isdigit() else None,
            modularity_label="",
        )
        packages.append(to_package(header, path, layer))
    gaps = [CoverageGap(path, f"{bad} malformed line(s) ignored (first at line {first_bad})", layer)] if bad else []
    return packages, gaps


class RpmManifestAnalyzer:
    """Installed packages of distroless CBL-Mariner / Azure Linux images."""

    name = "rpm-manifest"
    version = 1
    needs_content = True
    squash = True
    entry_hint = EntryHint(paths=frozenset({MANIFEST_PATH}))
    max_size: int | None = None

    def required(self, entry: FileEntry) -> bool:
        return entry.path == MANIFEST_PATH

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        pkgs, gaps = parse_manifest(content, entry.path, entry.layer)
        return AnalysisResult(packages=tuple(pkgs), gaps=tuple(gaps))
