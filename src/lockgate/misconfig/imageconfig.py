"""Image hardening: checks over an image's config (user, ports, healthcheck) and its file entries.

Secrets in ``Env`` and history belong to the secrets scanner, so they are not reported here.
Use :func:`check_image_config` for the config and :class:`ImageHardeningAnalyzer` (an
``lockgate.fs.model.Analyzer``) for the filesystem, or :func:`check_image` for both at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from lockgate.findings.model import Finding, FindingKind, Location, Severity
from lockgate.fs.model import EMPTY, AnalysisResult, FileEntry, FileType
from lockgate.misconfig.model import Rule

if TYPE_CHECKING:
    from lockgate.oci.model import ImageConfig

H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
CIS = "https://www.cisecurity.org/benchmark/docker"


def _rule(id_: str, sev: Severity, title: str, desc: str, fix: str, comp: tuple[str, ...] = ()) -> Rule:
    return Rule(id_, title, sev, "image", desc, fix, (CIS,), comp)


RULES: tuple[Rule, ...] = (
    _rule("LG-IMG-001", H, "Image runs as root",
          "The image config sets no User, or root/UID 0, so containers start as root.",
          "Build the image with a non-root USER.", ("docker-cis:4.1",)),
    _rule("LG-IMG-002", M, "setuid or setgid file",
          "A file carries the setuid/setgid bit; it can be used to escalate privileges inside the container.",
          "Remove the bit (chmod u-s,g-s) or the file in the image build.", ("docker-cis:4.8",)),
    _rule("LG-IMG-003", M, "World-writable path",
          "A file, or a directory without the sticky bit, is writable by every user.",
          "Remove write permission for others (chmod o-w).", ()),
    _rule("LG-IMG-004", L, "Shell present",
          "The image ships a shell, which helps an attacker who gains code execution.",
          "Use a distroless or scratch-based runtime image without a shell.", ()),
    _rule("LG-IMG-005", L, "Package manager present",
          "The image ships a package manager, which lets an attacker install tools.",
          "Remove the package manager from the runtime image (multi-stage build).", ()),
    _rule("LG-IMG-006", M, "Sensitive port exposed",
          "The image exposes a remote-administration or database port (SSH, Telnet, RDP, Docker API ...).",
          "Do not expose administration ports; run such services outside the container.", ()),
    _rule("LG-IMG-007", L, "No HEALTHCHECK in the image",
          "The image config has no Healthcheck.", "Add a HEALTHCHECK to the Dockerfile.", ("docker-cis:4.6",)),
)  # fmt: skip
_BY_ID = {r.id: r for r in RULES}

SENSITIVE_PORTS = {"21": "FTP", "22": "SSH", "23": "Telnet", "2375": "Docker API", "2376": "Docker API",
                   "3389": "RDP", "5900": "VNC", "10250": "kubelet", "2379": "etcd"}  # fmt: skip
SHELLS = frozenset(
    f"{d}/{s}" for d in ("bin", "usr/bin") for s in ("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh")
)
PACKAGE_MANAGERS = frozenset(
    f"{d}/{p}"
    for d in ("bin", "usr/bin", "sbin", "usr/sbin", "usr/local/bin")
    for p in ("apt", "apt-get", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm", "zypper", "pacman", "tdnf")
)


def _finding(rule_id: str, message: str, location: Location) -> Finding:
    r = _BY_ID[rule_id]
    return Finding(
        kind=FindingKind.MISCONFIGURATION,
        id=r.id,
        severity=r.severity,
        title=r.title,
        description=f"{message}. {r.description}",
        severity_source="lockgate",
        remediation=r.remediation,
        references=r.references,
        location=location,
    )


def check_image_config(config: ImageConfig, target: str = "") -> list[Finding]:
    """Findings from the image config alone (user, exposed ports, healthcheck)."""
    out = []
    loc = Location(path=target or "image config")
    user = config.user.split(":", 1)[0].strip()
    if user in ("", "root", "0"):
        out.append(_finding("LG-IMG-001", f"User is {user or 'unset'}", loc))
    for port in config.exposed_ports:
        num = port.split("/", 1)[0]
        if num in SENSITIVE_PORTS:
            out.append(_finding("LG-IMG-006", f"exposes {port} ({SENSITIVE_PORTS[num]})", loc))
    if not config.healthcheck:
        out.append(_finding("LG-IMG-007", "no Healthcheck in the config", loc))
    return out


def _entry_findings(entry: FileEntry) -> list[Finding]:
    loc = Location(path="/" + entry.path, layer=entry.layer)
    out = []
    if entry.type is FileType.FILE and entry.mode & 0o6000:
        bits = " and ".join(b for b, m in (("setuid", 0o4000), ("setgid", 0o2000)) if entry.mode & m)
        out.append(_finding("LG-IMG-002", f"/{entry.path} is {bits} (mode {entry.mode:04o})", loc))
    sticky_dir = entry.type is FileType.DIR and entry.mode & 0o1000
    if entry.type in (FileType.FILE, FileType.DIR) and entry.mode & 0o002 and not sticky_dir:
        out.append(_finding("LG-IMG-003", f"/{entry.path} is world-writable (mode {entry.mode:04o})", loc))
    if entry.type in (FileType.FILE, FileType.SYMLINK, FileType.HARDLINK):
        if entry.path in SHELLS:
            out.append(_finding("LG-IMG-004", f"shell /{entry.path}", loc))
        if entry.path in PACKAGE_MANAGERS:
            out.append(_finding("LG-IMG-005", f"package manager /{entry.path}", loc))
    return out


class ImageHardeningAnalyzer:
    """Analyzer over file metadata: setuid/setgid, world-writable, shells, package managers."""

    name = "misconfig-image"
    version = 1
    needs_content = False
    squash = True
    max_size: int | None = None

    def required(self, entry: FileEntry) -> bool:
        if entry.type in (FileType.FILE, FileType.DIR) and entry.mode & 0o6002:
            return True
        return entry.path in SHELLS or entry.path in PACKAGE_MANAGERS

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        found = _entry_findings(entry)
        return AnalysisResult(findings=tuple(found)) if found else EMPTY


def check_image(config: ImageConfig | None, entries: Iterable[FileEntry], target: str = "") -> list[Finding]:
    """Config and filesystem findings for an image given its (squashed) file entries."""
    out = check_image_config(config, target) if config is not None else []
    for e in entries:
        out.extend(_entry_findings(e))
    return out
