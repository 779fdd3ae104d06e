"""Package URL helpers shared by the OS and language extractors.

All purls are built with packageurl-python so that escaping and qualifier ordering
follow the purl specification; nothing here formats a purl by hand.
"""

from __future__ import annotations

from collections.abc import Mapping

from packageurl import PackageURL


def make_purl(
    type_: str,
    name: str,
    version: str = "",
    *,
    namespace: str = "",
    qualifiers: Mapping[str, str] | None = None,
    subpath: str = "",
) -> str:
    """Return the canonical purl string; empty qualifier values are dropped."""
    quals = {k: v for k, v in (qualifiers or {}).items() if v}
    return str(
        PackageURL(
            type=type_,
            namespace=namespace or None,
            name=name,
            version=version or None,
            qualifiers=quals or None,
            subpath=subpath or None,
        ).to_string()
    )


def split_epoch(version: str) -> tuple[str, str]:
    """Split ``E:V-R`` into (epoch, rest); epoch is ``""`` when absent."""
    head, sep, rest = version.partition(":")
    if sep and head.isdigit():
        return head, rest
    return "", version


def os_purl(
    ecosystem: str,
    name: str,
    version: str,
    *,
    namespace: str,
    arch: str = "",
    distro: str = "",
    upstream: str = "",
) -> str:
    """Purl for an OS package, Trivy style: the epoch becomes a qualifier.

    ``ecosystem`` is the package manager (``deb``, ``apk``, ``rpm``, ``opkg``);
    ``namespace`` the distro family (``debian``, ``ubuntu``, ``alpine``, ``redhat`` ...).
    """
    epoch, rest = split_epoch(version)
    quals = {"arch": arch, "distro": distro, "epoch": epoch, "upstream": upstream}
    return make_purl(ecosystem, name, rest, namespace=namespace, qualifiers=quals)


def parse_purl(text: str) -> PackageURL:
    """Parse a purl; raises ``ValueError`` for malformed text."""
    return PackageURL.from_string(text)
