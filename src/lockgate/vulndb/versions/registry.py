"""Which comparator orders which ecosystem.

Accepts OSV ecosystem names (``PyPI``, ``npm``, ``Go`` ...), OSV distro ecosystems
with a release suffix (``Debian:12``, ``Alpine:v3.20``, ``Rocky Linux:9``,
``Red Hat:enterprise_linux:9::appstream``, ``SUSE:Linux Enterprise Server 15 SP5``),
and the package-manager names lockgate's inventory uses for OS packages (``deb``,
``apk``, ``rpm``) and purl types (``pypi``, ``golang``, ``cargo``, ``gem`` ...).
Matching is case-insensitive; only the part before the first ``:`` selects the scheme.

crates.io, Hex, SwiftURL, Julia, Bitnami and GitHub Actions use SemVer precedence
(what OSV prescribes for them; build metadata is ignored). GHC uses Hackage's ordering. Pub uses SemVer with ordered
build metadata, as Dart's ``pub_semver`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from lockgate.vulndb.versions.base import Comparator, UnknownEcosystemError


def _dpkg() -> Comparator:
    from lockgate.vulndb.versions.dpkg import DpkgComparator

    return DpkgComparator()


def _apk() -> Comparator:
    from lockgate.vulndb.versions.apk import ApkComparator

    return ApkComparator()


def _rpm() -> Comparator:
    from lockgate.vulndb.versions.rpm import RpmComparator

    return RpmComparator()


def _pep440() -> Comparator:
    from lockgate.vulndb.versions.pep440 import Pep440Comparator

    return Pep440Comparator()


def _semver() -> Comparator:
    from lockgate.vulndb.versions.semver import SEMVER

    return SEMVER


def _pub() -> Comparator:
    from lockgate.vulndb.versions.semver import PUB

    return PUB


def _go() -> Comparator:
    from lockgate.vulndb.versions.golang import GoComparator

    return GoComparator()


_FACTORIES: dict[str, Callable[[], Comparator]] = {
    # dpkg family
    "debian": _dpkg,
    "ubuntu": _dpkg,
    "deb": _dpkg,
    "dpkg": _dpkg,
    # apk family
    "alpine": _apk,
    "alpaquita": _apk,
    "bellsoft hardened containers": _apk,
    "wolfi": _apk,
    "chainguard": _apk,
    "minimos": _apk,
    "apk": _apk,
    # rpm family
    "red hat": _rpm,
    "rocky linux": _rpm,
    "almalinux": _rpm,
    "suse": _rpm,
    "opensuse": _rpm,
    "mageia": _rpm,
    "openeuler": _rpm,
    "photon os": _rpm,
    "azure linux": _rpm,
    "mariner": _rpm,
    "fedora": _rpm,
    "centos": _rpm,
    "oracle linux": _rpm,
    "amazon linux": _rpm,
    "rpm": _rpm,
    # languages
    "pypi": _pep440,
    "npm": _semver,
    "crates.io": _semver,
    "cargo": _semver,
    "hex": _semver,
    "swifturl": _semver,
    "swift": _semver,
    "julia": _semver,
    "bitnami": _semver,
    "github actions": _semver,
    "semver": _semver,
    "pub": _pub,
    "go": _go,
    "golang": _go,
}


def _register_later(names: tuple[str, ...], module: str, attr: str) -> None:
    def factory() -> Comparator:
        import importlib

        cls = getattr(importlib.import_module(f"lockgate.vulndb.versions.{module}"), attr)
        return cls()  # type: ignore[no-any-return]

    for name in names:
        _FACTORIES[name] = factory


_register_later(("maven",), "maven", "MavenComparator")
_register_later(("rubygems", "gem"), "rubygems", "RubyGemsComparator")
_register_later(("nuget",), "nuget", "NuGetComparator")
_register_later(("packagist", "composer"), "composer", "ComposerComparator")
_register_later(("cran", "bioconductor"), "cran", "CranComparator")
_register_later(("hackage", "ghc"), "hackage", "HackageComparator")


def _base_name(ecosystem: str) -> str:
    return ecosystem.split(":", 1)[0].strip().lower()


def supported(ecosystem: str) -> bool:
    """True when :func:`comparator_for` knows ``ecosystem``."""
    return _base_name(ecosystem) in _FACTORIES


@functools.cache
def _comparator(base: str) -> Comparator:
    return _FACTORIES[base]()


def comparator_for(ecosystem: str) -> Comparator:
    """The comparator for an OSV ecosystem (``Debian:12``, ``PyPI``, ``Alpine:v3.20`` ...).

    Raises :class:`UnknownEcosystemError` (an ``InputError``) for ecosystems without a
    known version ordering (``GIT``, ``Linux``, ``OSS-Fuzz``, misspellings).
    """
    base = _base_name(ecosystem)
    if base not in _FACTORIES:
        raise UnknownEcosystemError(f"no version ordering known for ecosystem {ecosystem!r}")
    return _comparator(base)
