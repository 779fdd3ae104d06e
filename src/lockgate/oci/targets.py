"""Target strings -> image sources and destinations, with skopeo's transport syntax.

``oci:PATH[:TAG]``, ``oci-archive:FILE[:TAG]``, ``docker-archive:FILE[:NAME:TAG|:@N]``,
``docker://REF``, a bare directory holding ``oci-layout``, and anything else as a registry
reference. As in skopeo, the *first* colon after the transport separates the path from
the tag, so a path containing a colon cannot be named with these transports.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from lockgate.errors import ConfigError, InputError, NotFoundError

if TYPE_CHECKING:
    from lockgate.config import Limits
    from lockgate.oci.image import ImageDestination, ImageSource
    from lockgate.oci.reference import Reference
    from lockgate.oci.registry.options import RegistryOptions

OCI = "oci"
OCI_ARCHIVE = "oci-archive"
DOCKER_ARCHIVE = "docker-archive"
REGISTRY = "registry"

# org.opencontainers.image.ref.name grammar (image-spec annotations.md)
_COMPONENT = r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*"
_REF_NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")


class Target(msgspec.Struct, frozen=True):
    """A parsed target: which transport, and where."""

    transport: str
    path: Path | None = None
    tag: str | None = None
    """``oci``/``oci-archive``: the ``ref.name`` to read or write."""
    reference: Reference | None = None
    """``registry``: the image; ``docker-archive``: the ``NAME:TAG`` to select or write."""
    index: int | None = None
    """``docker-archive``: ``@N``, the N-th image (0-based) of a multi-image archive."""

    def __str__(self) -> str:
        if self.transport == REGISTRY:
            return str(self.reference)
        text = f"{self.transport}:{self.path}"
        if self.tag:
            text += f":{self.tag}"
        if self.reference is not None:
            text += f":{self.reference.familiar}"
        if self.index is not None:
            text += f":@{self.index}"
        return text


def _split(rest: str, transport: str) -> tuple[Path, str]:
    path, _, suffix = rest.partition(":")
    if not path:
        raise InputError(f"{transport}: target needs a path")
    return Path(path), suffix


def _layout_tag(tag: str, text: str) -> str | None:
    if not tag:
        return None
    if not _REF_NAME_RE.fullmatch(tag):
        raise InputError(f"invalid tag {tag!r} in {text!r}")
    return tag


def parse_target(text: str) -> Target:
    """Parse a target string (see the module docstring)."""
    from lockgate.oci.layout import is_layout_dir
    from lockgate.oci.reference import Reference

    if not text:
        raise InputError("empty image target")
    transport, sep, rest = text.partition(":")
    if sep and transport == OCI:
        path, tag = _split(rest, transport)
        return Target(OCI, path=path, tag=_layout_tag(tag, text))
    if sep and transport == OCI_ARCHIVE:
        path, tag = _split(rest, transport)
        return Target(OCI_ARCHIVE, path=path, tag=_layout_tag(tag, text))
    if sep and transport == DOCKER_ARCHIVE:
        path, suffix = _split(rest, transport)
        if not suffix:
            return Target(DOCKER_ARCHIVE, path=path)
        if suffix.startswith("@"):
            if not suffix[1:].isdigit():
                raise InputError(f"invalid image index {suffix!r} in {text!r} (expected @N)")
            return Target(DOCKER_ARCHIVE, path=path, index=int(suffix[1:]))
        ref = Reference.parse(suffix)
        if ref.digest is not None:
            raise InputError(f"docker-archive does not support digest references: {text!r}")
        return Target(DOCKER_ARCHIVE, path=path, reference=ref)
    if text.startswith("docker://"):
        return Target(REGISTRY, reference=Reference.parse(text.removeprefix("docker://")))
    if is_layout_dir(Path(text)):
        return Target(OCI, path=Path(text))
    try:
        return Target(REGISTRY, reference=Reference.parse(text))
    except InputError as e:
        if Path(text).exists():
            raise InputError(
                f"{text!r} is neither an OCI layout directory nor an image reference "
                "(use oci:DIR, oci-archive:FILE or docker-archive:FILE)"
            ) from None
        raise InputError(f"invalid image target {text!r}: {e}") from None


def _as_target(text_or_target: str | Target) -> Target:
    return parse_target(text_or_target) if isinstance(text_or_target, str) else text_or_target


def open_source(
    text_or_target: str | Target, options: RegistryOptions | None = None, *, limits: Limits | None = None
) -> ImageSource:
    """Open a target for reading."""
    t = _as_target(text_or_target)
    if t.transport == REGISTRY:
        from lockgate.oci.registry.client import RegistrySource
        from lockgate.oci.registry.options import RegistryOptions

        assert t.reference is not None
        return RegistrySource(t.reference, options or RegistryOptions())
    assert t.path is not None
    if t.transport == OCI:
        from lockgate.oci.layout import DirectoryStore, LayoutSource

        if not t.path.is_dir():
            raise NotFoundError(f"OCI layout {t.path} not found")
        return LayoutSource(DirectoryStore(t.path), t.tag, limits=limits)
    if t.transport == OCI_ARCHIVE:
        from lockgate.oci.archive import open_oci_archive

        return open_oci_archive(t.path, t.tag, limits=limits)
    from lockgate.oci.archive import DockerArchiveSource

    name = str(t.reference) if t.reference is not None else None
    return DockerArchiveSource(t.path, name=name, index=t.index, limits=limits)


def open_destination(
    text_or_target: str | Target, options: RegistryOptions | None = None, *, limits: Limits | None = None
) -> ImageDestination:
    """Open a target for writing (directories are created; archives appear on ``commit()``)."""
    t = _as_target(text_or_target)
    if t.transport == REGISTRY:
        from lockgate.oci.registry.client import RegistryDestination
        from lockgate.oci.registry.options import RegistryOptions

        assert t.reference is not None
        return RegistryDestination(t.reference, options or RegistryOptions())
    assert t.path is not None
    if t.transport == OCI:
        from lockgate.oci.layout import LayoutDestination

        if not t.path.is_dir():
            if t.path.exists() or t.path.is_symlink():
                raise ConfigError(f"cannot write OCI layout {t.path}: it exists and is not a directory")
            t.path.mkdir(parents=True)
        return LayoutDestination(t.path, t.tag)
    if t.transport == OCI_ARCHIVE:
        from lockgate.oci.archive import OCIArchiveDestination

        return OCIArchiveDestination(t.path, t.tag)
    from lockgate.oci.archive import DockerArchiveDestination

    if t.index is not None:
        raise ConfigError("docker-archive:FILE:@N selects an image to read; name the image to write as NAME:TAG")
    tags = (t.reference.familiar,) if t.reference is not None else ()
    return DockerArchiveDestination(t.path, tags, limits=limits)
