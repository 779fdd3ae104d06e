"""Inventory data model: packages and the detected operating system."""

from __future__ import annotations

from typing import Any

import msgspec


class OSInfo(msgspec.Struct, frozen=True):
    """The distribution an image or root file system is built from."""

    family: str
    """Lowercase distro id: ``debian``, ``ubuntu``, ``alpine``, ``rhel``, ``rocky``, ``opensuse-leap`` ..."""
    version: str
    """Release as the distro writes it: ``12.5``, ``3.20.1``, ``9.3``."""
    codename: str = ""
    """``bookworm``, ``jammy`` ...; empty when unknown."""
    name: str = ""
    """Pretty name, for display."""
    eol: str | None = None
    """ISO date when the release reached end of life, if known."""
    eosl: bool = False
    """True when the release is past its end of life at scan time."""
    source: str = ""
    """File the OS was detected from (``etc/os-release``, ``etc/debian_version`` ...);
    lets :func:`lockgate.inventory.os.release.select_os` pick between candidates."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "version": self.version,
            "codename": self.codename,
            "name": self.name,
            "eol": self.eol,
            "eosl": self.eosl,
            **({"source": self.source} if self.source else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OSInfo:
        return cls(
            family=str(d["family"]),
            version=str(d["version"]),
            codename=str(d.get("codename", "")),
            name=str(d.get("name", "")),
            eol=d.get("eol"),
            eosl=bool(d.get("eosl", False)),
            source=str(d.get("source", "")),
        )


class Package(msgspec.Struct, frozen=True):
    """One installed package, OS or language, as found in a file.

    ``ecosystem`` uses OSV's ecosystem names for language packages (``PyPI``, ``npm``,
    ``Go``, ``Maven``, ``RubyGems``, ``crates.io``, ``Packagist``, ``NuGet``) and the
    package-manager name for OS packages (``deb``, ``apk``, ``rpm``); OS packages are
    tied to a distro release through :class:`OSInfo` at match time.
    """

    ecosystem: str
    name: str
    """Ecosystem-normalised name (PEP 503 for PyPI, lowercase for npm scopes kept)."""
    version: str
    """Full version as the ecosystem writes it (dpkg/rpm include epoch as ``E:``)."""
    purl: str = ""
    source_name: str = ""
    """Source package (dpkg ``Source:``, apk origin, rpm source rpm name)."""
    source_version: str = ""
    licenses: tuple[str, ...] = ()
    path: str = ""
    """File the package was found in (no leading slash)."""
    layer: str = ""
    """Digest (diff_id) of the layer that introduced it; empty for file systems."""
    arch: str = ""
    dependencies: tuple[str, ...] = ()
    """purls or names of direct dependencies, where the ecosystem records them."""
    base_image: bool = False
    """True when the package comes from the declared or detected base image."""
    metadata: tuple[tuple[str, str], ...] = ()
    """Extra ecosystem-specific facts (e.g. ``("go_version", "go1.22.1")``)."""

    @property
    def key(self) -> tuple[str, str, str]:
        """(ecosystem, name, version): identity for comparisons across tools."""
        return (self.ecosystem, self.name, self.version)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "ecosystem": self.ecosystem,
            "name": self.name,
            "version": self.version,
            "purl": self.purl,
        }
        if self.source_name:
            d["source_name"] = self.source_name
        if self.source_version:
            d["source_version"] = self.source_version
        if self.licenses:
            d["licenses"] = list(self.licenses)
        if self.path:
            d["path"] = self.path
        if self.layer:
            d["layer"] = self.layer
        if self.arch:
            d["arch"] = self.arch
        if self.dependencies:
            d["dependencies"] = list(self.dependencies)
        if self.base_image:
            d["base_image"] = True
        if self.metadata:
            d["metadata"] = dict(self.metadata)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Package:
        return cls(
            ecosystem=str(d["ecosystem"]),
            name=str(d["name"]),
            version=str(d["version"]),
            purl=str(d.get("purl", "")),
            source_name=str(d.get("source_name", "")),
            source_version=str(d.get("source_version", "")),
            licenses=tuple(d.get("licenses", ())),
            path=str(d.get("path", "")),
            layer=str(d.get("layer", "")),
            arch=str(d.get("arch", "")),
            dependencies=tuple(d.get("dependencies", ())),
            base_image=bool(d.get("base_image", False)),
            metadata=tuple(sorted((str(k), str(v)) for k, v in d.get("metadata", {}).items())),
        )
