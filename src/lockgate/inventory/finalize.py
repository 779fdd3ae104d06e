"""Last inventory step after the per-file results are merged.

OS package purls need the distribution, which a package database does not know:
``finalize`` fills them from the detected OS (Trivy style: ``distro=debian-12.5`` and
the epoch as a qualifier), joins Debian licence records (``usr/share/doc/*/copyright``)
to their packages and drops exact duplicates. ``finalize_os`` chooses the OS
among the per-file candidates and sets its end-of-life fields for a given date.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence

from msgspec.structs import replace

from lockgate.inventory.model import OSInfo, Package
from lockgate.inventory.os import RECORD_KEY
from lockgate.inventory.os.eol import eol_for
from lockgate.inventory.os.release import select_os
from lockgate.inventory.purl import os_purl

OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm", "opkg"})

_DEFAULT_NAMESPACE = {"deb": "debian", "apk": "alpine", "opkg": "openwrt", "rpm": ""}
_NAMESPACE_FAMILIES = {
    "deb": frozenset({"debian", "ubuntu"}),
    "apk": frozenset({"alpine", "wolfi", "chainguard", "minimos"}),
    "opkg": frozenset({"openwrt"}),
}


# Families whose purl namespace is the vendor rather than the family id (as Trivy writes them).
_VENDOR_NAMESPACE = {"sles": "suse", "slem": "suse", "opensuse-leap": "opensuse", "opensuse-tumbleweed": "opensuse"}


def _os_matches(ecosystem: str, os: OSInfo | None) -> bool:
    """Is ``os`` the distribution these packages belong to (e.g. not apk packages on Debian)?"""
    if os is None:
        return False
    allowed = _NAMESPACE_FAMILIES.get(ecosystem)
    return allowed is None or os.family in allowed


def _namespace(ecosystem: str, os: OSInfo | None) -> str:
    if os is None or not _os_matches(ecosystem, os):
        return _DEFAULT_NAMESPACE[ecosystem]
    return _VENDOR_NAMESPACE.get(os.family, os.family)


def _distro(ecosystem: str, os: OSInfo | None) -> str:
    """Trivy's ``distro`` qualifier: ``debian-12.5``, ``sles-15.3``; apk uses the bare version."""
    if os is None or not os.version or not _os_matches(ecosystem, os):
        return ""
    return os.version if ecosystem == "apk" else f"{os.family}-{os.version}"


def purl_for(pkg: Package, os: OSInfo | None) -> str:
    """The purl of one OS package on ``os`` (``""`` for non-OS ecosystems)."""
    if pkg.ecosystem not in OS_ECOSYSTEMS:
        return pkg.purl
    namespace = _namespace(pkg.ecosystem, os)
    return os_purl(
        pkg.ecosystem,
        pkg.name,
        pkg.version,
        namespace=namespace,
        arch=pkg.arch,
        distro=_distro(pkg.ecosystem, os),
    )


def finalize(packages: Iterable[Package], os: OSInfo | None, today: _dt.date | None = None) -> tuple[Package, ...]:
    """Fill OS purls from ``os``, attach dpkg licence records, drop exact duplicates (order kept).

    ``today`` is accepted for symmetry with :func:`finalize_os` (the package list does
    not depend on it).
    """
    del today
    pkgs = list(packages)
    deb_licenses: dict[str, tuple[str, ...]] = {}
    for pkg in pkgs:
        if pkg.ecosystem == "deb" and RECORD_KEY in pkg.metadata:
            deb_licenses.setdefault(pkg.name, pkg.licenses)
    seen: set[tuple[str, str, str, str, str]] = set()
    out: list[Package] = []
    for pkg in pkgs:
        ecosystem = pkg.ecosystem
        if ecosystem not in OS_ECOSYSTEMS:
            # language packages in two places are two installs
            ident = (ecosystem, pkg.name, pkg.version, pkg.arch, pkg.path)
            if ident not in seen:
                seen.add(ident)
                out.append(pkg)
            continue
        licenses = pkg.licenses
        if ecosystem == "deb":
            if RECORD_KEY in pkg.metadata:
                continue  # licence record from usr/share/doc, merged below
            if not licenses:
                licenses = deb_licenses.get(pkg.name, licenses)
        # one OS package database per system: the same package seen through two database
        # paths (var/lib/rpm and usr/lib/sysimage/rpm) is one install
        ident = (ecosystem, pkg.name, pkg.version, pkg.arch, "")
        if ident in seen:
            continue
        seen.add(ident)
        purl = purl_for(pkg, os)
        if purl != pkg.purl or licenses is not pkg.licenses:  # (one replace for both)
            pkg = replace(pkg, purl=purl, licenses=licenses)  # noqa: PLW2901
        out.append(pkg)
    return tuple(out)


def finalize_os(os: OSInfo | Sequence[OSInfo | None] | None, today: _dt.date | None = None) -> OSInfo | None:
    """Pick the OS among candidates (see :func:`select_os`) and set ``eol``/``eosl`` for ``today``."""
    chosen = os if isinstance(os, OSInfo) or os is None else select_os(os)
    if chosen is None:
        return None
    status = eol_for(chosen, today)
    if status is None or status.eol is None:
        return replace(chosen, eol=None, eosl=False)
    return replace(chosen, eol=status.eol.isoformat(), eosl=status.expired)
