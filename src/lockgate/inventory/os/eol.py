"""End-of-life dates of OS releases: a maintained table, and the check against a date.

Dates are the end of the vendor's (free) security support for the release; where a
paid extension exists (Ubuntu ESM, Debian ELTS, SLES LTSS) it is recorded separately
as ``extended`` and does not count for ``eosl``. Update this table when vendors
publish new releases; every distro names the page its dates come from.
Time is an input: callers pass ``today`` so scans are reproducible.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

import msgspec

from lockgate.inventory.model import OSInfo

_D = _dt.date.fromisoformat

# Debian: end of LTS support. https://wiki.debian.org/DebianReleases, https://wiki.debian.org/LTS
_DEBIAN = {
    "7": "2018-05-31",
    "8": "2020-06-30",
    "9": "2022-06-30",
    "10": "2024-06-30",
    "11": "2026-08-31",
    "12": "2028-06-30",
    "13": "2030-06-30",
}
# Ubuntu: end of standard support; ESM for LTS below. https://ubuntu.com/about/release-cycle
_UBUNTU = {
    "14.04": "2019-04-30",
    "16.04": "2021-04-30",
    "18.04": "2023-05-31",
    "20.04": "2025-05-29",
    "20.10": "2021-07-22",
    "21.04": "2022-01-20",
    "21.10": "2022-07-14",
    "22.04": "2027-06-01",
    "22.10": "2023-07-20",
    "23.04": "2024-01-25",
    "23.10": "2024-07-11",
    "24.04": "2029-05-31",
    "24.10": "2025-07-10",
    "25.04": "2026-01-15",
}
_UBUNTU_ESM = {
    "14.04": "2024-04-25",
    "16.04": "2026-04-30",
    "18.04": "2028-04-30",
    "20.04": "2030-04-30",
    "22.04": "2032-04-30",
    "24.04": "2034-04-30",
}
# Alpine: branch end of support. https://alpinelinux.org/releases/
_ALPINE = {
    "3.5": "2018-11-01",
    "3.6": "2019-05-01",
    "3.7": "2019-11-01",
    "3.8": "2020-05-01",
    "3.9": "2020-11-01",
    "3.10": "2021-05-01",
    "3.11": "2021-11-01",
    "3.12": "2022-05-01",
    "3.13": "2022-11-01",
    "3.14": "2023-05-01",
    "3.15": "2023-11-01",
    "3.16": "2024-05-23",
    "3.17": "2024-11-22",
    "3.18": "2025-05-09",
    "3.19": "2025-11-01",
    "3.20": "2026-04-01",
    "3.21": "2026-11-01",
    "3.22": "2027-05-01",
    "3.23": "2027-11-01",
}
# RHEL: end of maintenance support. https://access.redhat.com/support/policy/updates/errata
_REDHAT = {
    "5": "2017-03-31",
    "6": "2020-11-30",
    "7": "2024-06-30",
    "8": "2029-05-31",
    "9": "2032-05-31",
    "10": "2035-05-31",
}
# CentOS Linux / Stream. https://www.centos.org/centos-linux-eol/, https://www.centos.org/cl-vs-cs/
_CENTOS = {"5": "2017-03-31", "6": "2020-11-30", "7": "2024-06-30", "8": "2021-12-31"}
_CENTOS_STREAM = {"8": "2024-05-31", "9": "2027-05-31"}
# Rocky Linux. https://wiki.rockylinux.org/rocky/version/
_ROCKY = {"8": "2029-05-31", "9": "2032-05-31", "10": "2035-05-31"}
# AlmaLinux. https://wiki.almalinux.org/release-notes/ (release lifecycle)
_ALMA = {"8": "2029-03-01", "9": "2032-05-31", "10": "2035-05-31"}
# Oracle Linux: end of premier support. https://www.oracle.com/a/ocom/docs/elsp-lifetime-069338.pdf
_ORACLE = {"6": "2021-03-01", "7": "2024-12-31", "8": "2029-07-31", "9": "2032-06-30"}
# Fedora. https://docs.fedoraproject.org/en-US/releases/eol/
_FEDORA = {
    "35": "2022-12-13",
    "36": "2023-05-16",
    "37": "2023-12-05",
    "38": "2024-05-21",
    "39": "2024-11-26",
    "40": "2025-05-13",
    "41": "2025-12-15",
    "42": "2026-05-13",
}
# Amazon Linux. https://aws.amazon.com/amazon-linux-2/faqs/, https://aws.amazon.com/linux/amazon-linux-2023/faqs/
_AMAZON = {"1": "2023-12-31", "2": "2026-06-30", "2023": "2029-06-30"}
# openSUSE Leap. https://en.opensuse.org/Lifetime
_OPENSUSE_LEAP = {
    "42.3": "2019-07-01",
    "15.0": "2019-12-03",
    "15.1": "2021-01-31",
    "15.2": "2021-12-31",
    "15.3": "2022-12-31",
    "15.4": "2023-12-07",
    "15.5": "2024-12-31",
    "15.6": "2026-04-30",
}
# SLES: end of general support per service pack (LTSS extra). https://www.suse.com/lifecycle/
_SLES = {
    "12.5": "2024-10-31",
    "15": "2019-12-31",
    "15.1": "2021-01-31",
    "15.2": "2021-12-31",
    "15.3": "2022-12-31",
    "15.4": "2023-12-31",
    "15.5": "2024-12-31",
    "15.6": "2025-12-31",
    "15.7": "2031-07-31",
}
# VMware Photon OS. https://github.com/vmware/photon/wiki/Photon-OS-End-of-Life-(EOL)-and-End-of-General-Support-(EOGS)
_PHOTON = {"1.0": "2022-02-28", "2.0": "2022-12-31", "3.0": "2024-03-01", "4.0": "2026-03-01"}
# CBL-Mariner / Azure Linux. https://github.com/microsoft/azurelinux (lifecycle in README)
_MARINER = {"1.0": "2023-07-31", "2.0": "2025-07-31"}

_TABLES: Mapping[str, Mapping[str, str]] = {
    "debian": _DEBIAN,
    "ubuntu": _UBUNTU,
    "alpine": _ALPINE,
    "redhat": _REDHAT,
    "centos": _CENTOS,
    "centos-stream": _CENTOS_STREAM,
    "rocky": _ROCKY,
    "alma": _ALMA,
    "oracle": _ORACLE,
    "fedora": _FEDORA,
    "amazon": _AMAZON,
    "opensuse-leap": _OPENSUSE_LEAP,
    "sles": _SLES,
    "photon": _PHOTON,
    "cbl-mariner": _MARINER,
}
_EXTENDED: Mapping[str, Mapping[str, str]] = {"ubuntu": _UBUNTU_ESM}
ROLLING = frozenset({"wolfi", "chainguard", "opensuse-tumbleweed"})
"""Rolling distributions never reach end of life as a release."""


class EolStatus(msgspec.Struct, frozen=True):
    """End-of-life facts for one release."""

    release: str
    """The table key that matched (``12``, ``3.20``, ``22.04``)."""
    eol: _dt.date | None
    """End of (free) security support; ``None`` for rolling distributions."""
    extended: _dt.date | None
    """End of paid extended support (Ubuntu ESM), when there is one."""
    expired: bool
    """True when ``today`` is after ``eol``."""


def release_key(family: str, version: str) -> str:
    """The part of a version the EOL table is keyed by (``12.5`` -> ``12`` on Debian)."""
    parts = version.split(".")
    if family in ("debian", "redhat", "centos", "centos-stream", "rocky", "alma", "oracle", "fedora"):
        return parts[0]
    if family == "amazon":
        return "1" if version.startswith("2018") or version.startswith("AMI") else parts[0]
    if family in ("alpine", "ubuntu", "photon", "cbl-mariner"):
        return ".".join(parts[:2])
    return version


def eol_for(os: OSInfo, today: _dt.date | None = None) -> EolStatus | None:
    """EOL status of ``os`` on ``today`` (default: the current date); ``None`` when unknown."""
    today = today or _dt.date.today()
    if os.family in ROLLING:
        return EolStatus(release="rolling", eol=None, extended=None, expired=False)
    table = _TABLES.get(os.family)
    if table is None or not os.version:
        return None
    key = release_key(os.family, os.version)
    if key not in table:
        return None
    eol = _D(table[key])
    ext = _EXTENDED.get(os.family, {}).get(key)
    return EolStatus(release=key, eol=eol, extended=_D(ext) if ext else None, expired=today > eol)


def known_families() -> frozenset[str]:
    """Families with an EOL table (plus the rolling ones)."""
    return frozenset(_TABLES) | ROLLING


def eol_warning(os: OSInfo | None) -> str | None:
    """One-line report warning for an OS past its end of life (after ``finalize_os``), else ``None``."""
    if os is None or not os.eosl:
        return None
    when = f" on {os.eol}" if os.eol else ""
    return (
        f"{os.family} {os.version} reached end of life{when}: the vendor no longer publishes security fixes, "
        "so vulnerability results for OS packages are incomplete"
    )
