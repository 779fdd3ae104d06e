"""Operating-system detection from release files, and the choice between candidates.

Each release file is analysed on its own (the walker hands us one file at a time), so
every result carries ``OSInfo.source``; :func:`select_os` then applies the precedence
Trivy uses: ``os-release`` first, distro-specific release files next, the generic
``redhat-release`` and ``debian_version`` last. Family ids follow Trivy's names (``redhat``, ``alma``, ``oracle``,
``cbl-mariner``, ``slem`` ...) so results compare one to one with the peer tool.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

from msgspec.structs import replace

from lockgate.findings.model import CoverageGap
from lockgate.fs.model import EMPTY, AnalysisResult, EntryHint, FileEntry
from lockgate.inventory.model import OSInfo

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")
REDHAT_FAMILY_PATHS = (
    "etc/redhat-release",
    "etc/centos-release",
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/fedora-release",
    "etc/oracle-release",
    "etc/system-release",
)
ALPINE_RELEASE = "etc/alpine-release"
DEBIAN_VERSION = "etc/debian_version"

RELEASE_PATHS = frozenset((*OS_RELEASE_PATHS, *REDHAT_FAMILY_PATHS, ALPINE_RELEASE, DEBIAN_VERSION))

_PRIORITY: Mapping[str, int] = {
    "etc/os-release": 100,
    "usr/lib/os-release": 90,
    ALPINE_RELEASE: 50,
    "etc/centos-release": 50,
    "etc/rocky-release": 50,
    "etc/almalinux-release": 50,
    "etc/fedora-release": 50,
    "etc/oracle-release": 50,
    "etc/system-release": 45,
    "etc/redhat-release": 40,
    DEBIAN_VERSION: 30,
}

# os-release ID -> family (Trivy's names). IDs not listed are not detected, as in Trivy.
_ID_FAMILY: Mapping[str, str] = {
    "alpine": "alpine",
    "debian": "debian",
    "ubuntu": "ubuntu",
    "rhel": "redhat",
    "centos": "centos",
    "rocky": "rocky",
    "almalinux": "alma",
    "ol": "oracle",
    "fedora": "fedora",
    "amzn": "amazon",
    "opensuse-leap": "opensuse-leap",
    "opensuse": "opensuse-leap",
    "opensuse-tumbleweed": "opensuse-tumbleweed",
    "sles": "sles",
    "sle-micro": "slem",
    "sle-micro-rancher": "slem",
    "sl-micro": "slem",
    "photon": "photon",
    "azurelinux": "azurelinux",
    "mariner": "cbl-mariner",
    "wolfi": "wolfi",
    "chainguard": "chainguard",
    "echo": "echo",
    "minimos": "minimos",
    "bottlerocket": "bottlerocket",
    "coreos": "coreos",
    "activestate": "activestate",
    "openwrt": "openwrt",
}

# debian_version carries only the number; advisories (Debian security tracker) use codenames.
_DEBIAN_CODENAMES: Mapping[str, str] = {
    "7": "wheezy",
    "8": "jessie",
    "9": "stretch",
    "10": "buster",
    "11": "bullseye",
    "12": "bookworm",
    "13": "trixie",
    "14": "forky",
}

# Families whose release is rolling: no VERSION_ID is needed.
_ROLLING = frozenset({"wolfi", "chainguard"})

_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+~/_-]{0,63}")
_REDHAT_LINE = re.compile(r"^\s*(?P<name>.+?)\s+release\s+(?P<version>\d[\w.]*)", re.IGNORECASE)


def parse_os_release(text: str) -> dict[str, str]:
    """Parse ``os-release`` (shell-style ``KEY=value`` lines, quotes optional)."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if not key.replace("_", "").isalnum():
            continue
        try:
            parts = shlex.split(value, posix=True)
        except ValueError:
            parts = [value.strip().strip("\"'")]
        fields[key] = " ".join(parts)
    return fields


def os_from_os_release(fields: Mapping[str, str], source: str = "etc/os-release") -> OSInfo | None:
    """Map parsed ``os-release`` fields to an :class:`OSInfo`, or ``None`` if unknown."""
    os_id = fields.get("ID", "").strip().lower()
    family = _ID_FAMILY.get(os_id)
    if family is None:
        return None
    name = fields.get("NAME", "")
    if os_id == "centos" and "stream" in name.lower():
        family = "centos-stream"
    version = fields.get("VERSION_ID", "").strip()
    codename = fields.get("VERSION_CODENAME", "") or fields.get("UBUNTU_CODENAME", "")
    if not version:
        if family in _ROLLING:
            version = "rolling"
        elif family == "debian" and codename:
            version = f"{codename}/sid"  # testing/unstable carry no VERSION_ID; named as debian_version does
        else:
            return None
    return OSInfo(
        family=family,
        version=version,
        codename=codename,
        name=fields.get("PRETTY_NAME", "") or name,
        source=source,
    )


def os_from_redhat_release(text: str, source: str = "etc/redhat-release") -> OSInfo | None:
    """Parse ``Rocky Linux release 9.3 (Blue Onyx)``-style lines."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    m = _REDHAT_LINE.match(first)
    if not m:
        return None
    product = m.group("name").lower()
    version = m.group("version")
    if product.startswith("centos stream"):
        family = "centos-stream"
    elif product.startswith("centos"):
        family = "centos"
    elif product.startswith("rocky"):
        family = "rocky"
    elif product.startswith("almalinux"):
        family = "alma"
    elif product.startswith("fedora"):
        family = "fedora"
    elif product.startswith("oracle"):
        family = "oracle"
    elif product.startswith("amazon linux"):
        family = "amazon"
        major = version.split(".")[0]
        if len(major) == 4 and major >= "2022":  # AL2023 writes 2023.4.20240319; AL1 keeps 2018.03
            version = major
    elif product.startswith("red hat"):
        family = "redhat"
    else:
        return None
    return OSInfo(family=family, version=version, name=first.strip(), source=source)


def os_from_alpine_release(text: str) -> OSInfo | None:
    """``etc/alpine-release`` holds just the version (``3.20.1``)."""
    version = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not _TOKEN.fullmatch(version) or not version[0].isdigit():
        return None
    return OSInfo(family="alpine", version=version, name=f"Alpine Linux v{version}", source=ALPINE_RELEASE)


def os_from_debian_version(text: str) -> OSInfo | None:
    """``etc/debian_version``: ``12.5`` on Debian, ``bookworm/sid`` on Ubuntu and testing."""
    version = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not _TOKEN.fullmatch(version):
        return None
    if version[0].isdigit():
        codename = _DEBIAN_CODENAMES.get(version.split(".")[0], "")
        return OSInfo(
            family="debian",
            version=version,
            codename=codename,
            name=f"Debian GNU/Linux {version}",
            source=DEBIAN_VERSION,
        )
    # ``bookworm/sid`` is what Ubuntu and Debian testing ship: it does not tell them apart,
    # so only os-release decides (an image walker that breaks ties by path would otherwise
    # pick this file over etc/os-release and call Ubuntu "debian").
    return None


def detect(path: str, content: bytes) -> OSInfo | None:
    """Detect the OS from one release file's content; ``None`` when not recognised."""
    if b"\x00" in content:
        return None  # binary: not a release file
    text = content.decode("utf-8", "replace")
    if path in OS_RELEASE_PATHS:
        return os_from_os_release(parse_os_release(text), source=path)
    if path == ALPINE_RELEASE:
        return os_from_alpine_release(text)
    if path == DEBIAN_VERSION:
        return os_from_debian_version(text)
    if path in REDHAT_FAMILY_PATHS:
        return os_from_redhat_release(text, source=path)
    return None


def _priority(info: OSInfo) -> int:
    return _PRIORITY.get(info.source, 0)


def select_os(candidates: Iterable[OSInfo | None]) -> OSInfo | None:
    """Choose the operating system among per-file candidates (Trivy's precedence).

    The highest-priority source wins; on Debian the more precise point release from
    ``debian_version`` (``12.5``) refines ``os-release``'s ``VERSION_ID`` (``12``).
    """
    found = [c for c in candidates if c is not None]
    if not found:
        return None
    best = max(found, key=_priority)
    if best.family == "debian":
        for c in found:
            if c.source == DEBIAN_VERSION and c.version and best.source != DEBIAN_VERSION:
                if not best.version or c.version.split(".")[0] == best.version.split(".")[0]:
                    best = replace(best, version=c.version)
                break
    return best


class OSReleaseAnalyzer:
    """Finds the distribution from the release files under ``etc/`` and ``usr/lib/``."""

    name = "os-release"
    version = 2
    needs_content = True
    squash = True
    entry_hint = EntryHint(paths=RELEASE_PATHS)
    max_size: int | None = 64 * 1024

    def required(self, entry: FileEntry) -> bool:
        return entry.path in RELEASE_PATHS

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        try:
            info = detect(entry.path, content)
        except Exception as exc:  # pragma: no cover - defensive: never crash on content
            return AnalysisResult(gaps=(CoverageGap(entry.path, f"cannot parse release file: {exc}", entry.layer),))
        if info is None:
            return EMPTY
        return AnalysisResult(os=info)
