"""Tiny test analysers, image opening and tree snapshots shared by the fs tests.

The real inventory analysers are written in parallel by others, so these stand-ins parse
just enough (os-release, a dpkg status file, a secret marker) to exercise the walker.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lockgate.findings.model import Finding, FindingKind, Location, Severity
from lockgate.fs.model import AnalysisResult, FileEntry, FileType
from lockgate.inventory.model import OSInfo, Package
from lockgate.oci.image import Image, ImageSource, load_image
from lockgate.oci.model import Descriptor
from lockgate.oci.targets import open_source


@dataclass
class OsRelease:
    """Reads ``etc/os-release`` (regular files only)."""

    name: str = "test-os-release"
    version: int = 1
    needs_content: bool = True
    squash: bool = True
    max_size: int | None = None
    calls: Counter[str] = field(default_factory=Counter)

    def required(self, entry: FileEntry) -> bool:
        return entry.path in ("etc/os-release", "usr/lib/os-release") and entry.is_file

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        self.calls[entry.path] += 1
        fields = {}
        for line in content.decode("utf-8", "replace").splitlines():
            k, sep, v = line.partition("=")
            if sep:
                fields[k] = v.strip('"')
        return AnalysisResult(
            os=OSInfo(
                family=fields.get("ID", ""),
                version=fields.get("VERSION_ID", ""),
                codename=fields.get("VERSION_CODENAME", ""),
            )
        )


@dataclass
class DpkgStatus:
    """Packages from ``var/lib/dpkg/status`` (installed ones only)."""

    name: str = "test-dpkg"
    version: int = 1
    needs_content: bool = True
    squash: bool = True
    max_size: int | None = None
    calls: Counter[str] = field(default_factory=Counter)

    def required(self, entry: FileEntry) -> bool:
        return entry.path == "var/lib/dpkg/status"

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        self.calls[entry.path] += 1
        pkgs = []
        for para in content.decode("utf-8", "replace").split("\n\n"):
            f = {}
            for line in para.splitlines():
                k, sep, v = line.partition(": ")
                if sep and not line.startswith(" "):
                    f[k] = v
            if "Package" in f and f.get("Status", "").endswith(" installed"):
                pkgs.append(Package("deb", f["Package"], f["Version"], path=entry.path, layer=entry.layer))
        return AnalysisResult(packages=tuple(pkgs))


@dataclass
class Marker:
    """Non-squash 'secret' finder: any file containing ``SECRET-MARKER``."""

    name: str = "test-marker"
    version: int = 1
    needs_content: bool = True
    squash: bool = False
    max_size: int | None = 4096
    calls: Counter[str] = field(default_factory=Counter)

    def required(self, entry: FileEntry) -> bool:
        return entry.is_file or entry.type is FileType.HARDLINK

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        self.calls[entry.path] += 1
        if b"SECRET-MARKER" not in content:
            return AnalysisResult()
        return AnalysisResult(
            findings=(
                Finding(
                    kind=FindingKind.SECRET,
                    id="test-marker",
                    severity=Severity.HIGH,
                    location=Location(path=entry.path, layer=entry.layer),
                ),
            )
        )


@dataclass
class Recorder:
    """Records every entry it is offered (metadata only)."""

    name: str = "test-recorder"
    version: int = 1
    needs_content: bool = False
    squash: bool = False
    max_size: int | None = None
    seen: list[FileEntry] = field(default_factory=list)

    def required(self, entry: FileEntry) -> bool:
        self.seen.append(entry)
        return False

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:  # pragma: no cover - never wanted
        return AnalysisResult()


class CountingSource:
    """Wraps a real source and counts ``open_blob`` calls per digest (to prove no layer I/O)."""

    def __init__(self, inner: ImageSource) -> None:
        self.inner = inner
        self.opened: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def reference(self) -> str:
        return self.inner.reference

    def resolve(self) -> tuple[bytes, str]:
        return self.inner.resolve()

    def get_manifest(self, digest: str) -> tuple[bytes, str]:
        return self.inner.get_manifest(digest)

    def open_blob(self, desc: Descriptor) -> BinaryIO:
        with self._lock:
            self.opened[desc.digest] += 1
        return self.inner.open_blob(desc)

    def close(self) -> None:
        self.inner.close()


def open_image(target: str) -> tuple[Image, CountingSource]:
    """Load ``target`` through a :class:`CountingSource` (the config read is not counted as layer I/O)."""
    src = CountingSource(open_source(target))
    img = load_image(src)
    src.opened.clear()
    return img, src


def layer_reads(src: CountingSource, img: Image) -> int:
    layers = {d.digest for d in img.layers}
    return sum(n for d, n in src.opened.items() if d in layers)


def snapshot(root: Path) -> dict[bytes, tuple[int, int, int, bytes]]:
    """{relative path: (type, permission bits, size of regular files, symlink target)} of a tree."""
    out: dict[bytes, tuple[int, int, int, bytes]] = {}
    broot = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(broot):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            st = os.lstat(full)
            link = os.readlink(full) if stat.S_ISLNK(st.st_mode) else b""
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            mode = 0 if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)
            out[os.path.relpath(full, broot)] = (stat.S_IFMT(st.st_mode), mode, size, link)
    return out
