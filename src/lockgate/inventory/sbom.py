"""Read an inventory back from a CycloneDX or SPDX JSON SBOM (lockgate's, Trivy's or Syft's).

Packages come from purls; the OS from CycloneDX ``operating-system`` components, SPDX
``OPERATING_SYSTEM`` packages or the purls' ``distro`` qualifier. Source packages (which
OS matching needs) are taken from lockgate properties, Trivy's
``aquasecurity:trivy:SrcName``/``SrcVersion`` properties or Syft's ``upstream`` qualifier.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from lockgate.config import Limits
from lockgate.errors import InputError, LimitExceededError, NotFoundError
from lockgate.findings.model import CoverageGap
from lockgate.inventory.model import OSInfo, Package

PURL_ECOSYSTEM = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "maven": "Maven",
    "gem": "RubyGems",
    "cargo": "crates.io",
    "composer": "Packagist",
    "nuget": "NuGet",
    "deb": "deb",
    "apk": "apk",
    "rpm": "rpm",
    "pub": "Pub",
    "hex": "Hex",
    "conan": "ConanCenter",
    "swift": "SwiftURL",
    "cran": "CRAN",
    "hackage": "Hackage",
}
_OS_NS = {"debian", "ubuntu", "alpine", "redhat", "rhel", "centos", "rocky", "almalinux", "fedora", "amzn", "sles"}


@dataclass(frozen=True, slots=True)
class SbomInventory:
    format: str
    subject: str
    digest: str
    os: OSInfo | None
    packages: tuple[Package, ...]
    gaps: tuple[CoverageGap, ...]


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_from_purl(purl_text: str, *, path: str = "", props: dict[str, str] | None = None) -> Package:
    """A :class:`Package` from a purl string (raises ``ValueError`` for unusable purls)."""
    p = PackageURL.from_string(purl_text)
    eco = PURL_ECOSYSTEM.get(p.type)
    if eco is None:
        raise ValueError(f"unsupported purl type {p.type!r}")
    if not p.version:
        raise ValueError("purl has no version")
    q = dict(p.qualifiers or {}) if isinstance(p.qualifiers, dict) else {}
    name = p.name
    if eco == "Maven" and p.namespace:
        name = f"{p.namespace}:{p.name}"
    elif eco in ("npm", "Go", "Packagist") and p.namespace:
        name = f"{p.namespace}/{p.name}"
    elif eco == "PyPI":
        name = _pep503(name)
    version = p.version
    if eco in ("deb", "rpm") and q.get("epoch") and ":" not in version:
        version = f"{q['epoch']}:{version}"
    props = props or {}
    src_name = props.get("lockgate:source_name") or props.get("aquasecurity:trivy:SrcName") or ""
    src_version = props.get("lockgate:source_version") or ""
    trivy_src_ver = props.get("aquasecurity:trivy:SrcVersion")
    if trivy_src_ver:
        rel = props.get("aquasecurity:trivy:SrcRelease")
        epoch = props.get("aquasecurity:trivy:SrcEpoch")
        src_version = trivy_src_ver + (f"-{rel}" if rel else "")
        if epoch and epoch != "0":
            src_version = f"{epoch}:{src_version}"
    upstream = q.get("upstream")
    if upstream and not src_name:
        # Syft: "upstream=glibc" or "upstream=glibc@2.36-9" (rpm: source rpm file name)
        src_name, _, src_version = upstream.partition("@")
        if eco == "rpm" and src_name.endswith(".src.rpm"):
            src_name = src_name.rsplit("-", 2)[0]
    return Package(
        ecosystem=eco,
        name=name,
        version=version,
        purl=purl_text,
        source_name=src_name,
        source_version=src_version,
        path=path or props.get("lockgate:path", "") or props.get("syft:location:0:path", ""),
        layer=props.get("lockgate:layer", "") or props.get("aquasecurity:trivy:LayerDiffID", ""),
        arch=q.get("arch", ""),
    )


def _os_from_distro(purls: list[str]) -> OSInfo | None:
    for text in purls:
        try:
            p = PackageURL.from_string(text)
        except ValueError:
            continue
        q = p.qualifiers if isinstance(p.qualifiers, dict) else {}
        distro = q.get("distro", "")
        if p.type in ("deb", "apk", "rpm") and distro:
            family, _, version = distro.partition("-")
            if (p.namespace or "").lower() in _OS_NS and not version:
                family, version = p.namespace or family, distro
            return OSInfo(family=family.lower(), version=version)
    return None


def _cyclonedx(doc: dict[str, Any]) -> tuple[str, str, OSInfo | None, list[Package], list[CoverageGap]]:
    meta = doc.get("metadata") or {}
    comp = meta.get("component") or {}
    subject = str(comp.get("name", ""))
    digest = ""
    for h in comp.get("hashes") or []:
        if str(h.get("alg", "")).upper() in ("SHA-256", "SHA256"):
            digest = "sha256:" + str(h.get("content", ""))
    version = str(comp.get("version", ""))
    if not digest and version.startswith("sha256:"):
        digest = version
    for prop in comp.get("properties") or []:
        if prop.get("name") == "aquasecurity:trivy:RepoDigest" and "@" in str(prop.get("value", "")):
            digest = digest or str(prop["value"]).split("@", 1)[1]
    os: OSInfo | None = None
    pkgs: list[Package] = []
    gaps: list[CoverageGap] = []
    stack = list(doc.get("components") or [])
    while stack:
        c = stack.pop(0)
        if not isinstance(c, dict):
            continue
        stack.extend(c.get("components") or [])
        if c.get("type") == "operating-system":
            os = OSInfo(family=str(c.get("name", "")).lower(), version=str(c.get("version", "")))
            continue
        purl = c.get("purl")
        if not purl:
            continue
        props = {str(p.get("name")): str(p.get("value")) for p in c.get("properties") or [] if isinstance(p, dict)}
        try:
            pkgs.append(package_from_purl(str(purl), props=props))
        except ValueError as e:
            gaps.append(CoverageGap(f"component {purl}", f"cannot use purl: {e}"))
    return subject, digest, os, pkgs, gaps


def _spdx(doc: dict[str, Any]) -> tuple[str, str, OSInfo | None, list[Package], list[CoverageGap]]:
    subject = str(doc.get("name", ""))
    os: OSInfo | None = None
    digest = ""
    pkgs: list[Package] = []
    gaps: list[CoverageGap] = []
    for p in doc.get("packages") or []:
        if not isinstance(p, dict):
            continue
        purpose = p.get("primaryPackagePurpose")
        if purpose == "OPERATING_SYSTEM":
            os = OSInfo(family=str(p.get("name", "")).lower(), version=str(p.get("versionInfo", "")))
            continue
        if purpose == "CONTAINER" and not digest:
            for c in p.get("checksums") or []:
                if c.get("algorithm") == "SHA256":
                    digest = "sha256:" + str(c.get("checksumValue", ""))
        purls = [
            r.get("referenceLocator")
            for r in p.get("externalRefs") or []
            if isinstance(r, dict) and r.get("referenceType") == "purl"
        ]
        if not purls or purpose == "CONTAINER":
            continue
        props: dict[str, str] = {}
        for a in p.get("attributionTexts") or []:
            key, _, value = str(a).partition(": ")
            if key in ("path", "layer"):
                props[f"lockgate:{key}"] = value
        src = str(p.get("sourceInfo", ""))
        m = re.match(r"built from source package (\S+)(?: (\S+))?", src)
        if m:
            props["lockgate:source_name"] = m.group(1)
            props["lockgate:source_version"] = m.group(2) or ""
        try:
            pkgs.append(package_from_purl(str(purls[0]), props=props))
        except ValueError as e:
            gaps.append(CoverageGap(f"package {purls[0]}", f"cannot use purl: {e}"))
    return subject, digest, os, pkgs, gaps


def read_sbom(path: Path, limits: Limits | None = None) -> SbomInventory:
    """Parse a CycloneDX or SPDX JSON file into an inventory."""
    lim = limits or Limits()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file") from None
    if size > lim.max_yaml_bytes * 8:
        raise LimitExceededError(f"{path}: SBOM of {size} bytes exceeds the limit")
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a JSON SBOM: {e}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a JSON SBOM (top level is not an object)")
    if doc.get("bomFormat") == "CycloneDX":
        fmt = f"cyclonedx-{doc.get('specVersion', '')}"
        subject, digest, os, pkgs, gaps = _cyclonedx(doc)
    elif str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        fmt = str(doc["spdxVersion"]).lower()
        subject, digest, os, pkgs, gaps = _spdx(doc)
    else:
        raise InputError(f"{path}: neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON")
    if os is None or not os.version:
        os = _os_from_distro([p.purl for p in pkgs]) or os
    seen: set[tuple[str, str, str, str]] = set()
    unique = []
    for p in pkgs:
        k = (p.ecosystem, p.name, p.version, p.path)
        if k not in seen:
            seen.add(k)
            unique.append(p)
    return SbomInventory(fmt, subject, digest, os, tuple(unique), tuple(gaps))
