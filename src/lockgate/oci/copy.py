"""Copy images between any source and destination, descriptor by descriptor.

Blobs the destination already has are skipped, the rest are streamed (constant memory,
digest-verified on both ends). Manifest and index bytes are passed through unchanged, so
digests survive between registries and OCI layouts/archives; only a docker-archive's
made-up manifest is rewritten with OCI media types when written to an OCI layout.
Also home to platform selection through nested indexes (:func:`select_manifest`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import BinaryIO

import msgspec

from lockgate.config import Limits
from lockgate.errors import InputError, IntegrityError, LimitExceededError
from lockgate.oci.image import Image, ImageDestination, ImageSource, read_blob
from lockgate.oci.model import (
    ALL_MANIFEST_TYPES,
    DOCKER_CONFIG,
    DOCKER_LAYER_FOREIGN_GZIP,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_NONDIST_GZIP,
    OCI_MANIFEST,
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    Platform,
    sniff_media_type,
    verify_bytes,
)

ProgressFn = Callable[[Descriptor, int], None]
"""Called with a blob's descriptor and the number of bytes just copied (or skipped)."""

_MAX_NESTING = 4
_DOCKER_TO_OCI = {
    DOCKER_MANIFEST: OCI_MANIFEST,
    DOCKER_CONFIG: OCI_CONFIG,
    "application/vnd.docker.image.rootfs.diff.tar": OCI_LAYER,
    DOCKER_LAYER_GZIP: OCI_LAYER_GZIP,
    DOCKER_LAYER_FOREIGN_GZIP: OCI_LAYER_NONDIST_GZIP,
}


class Selected(msgspec.Struct, frozen=True):
    """The manifest a platform selection ended at, and the index it came from (if any)."""

    raw: bytes
    media_type: str
    index: Index | None = None


def _fetch_child(source: ImageSource, desc: Descriptor, limits: Limits) -> tuple[bytes, str]:
    if desc.size > limits.max_manifest_bytes:
        raise LimitExceededError(f"manifest {desc.digest} is {desc.size} bytes (limit {limits.max_manifest_bytes})")
    raw, media_type = source.get_manifest(desc.digest)
    verify_bytes(raw, desc.digest, f"manifest {desc.digest}")
    if len(raw) != desc.size:
        raise IntegrityError(f"manifest {desc.digest} is {len(raw)} bytes, descriptor says {desc.size}")
    return raw, sniff_media_type(raw, media_type or desc.media_type)


def select_manifest(
    source: ImageSource, raw: bytes, media_type: str, platform: Platform, limits: Limits | None = None
) -> Selected:
    """Walk from a manifest or index to the image manifest for ``platform``.

    Nested indexes are followed when their entry matches the platform or carries none.
    """
    limits = limits or Limits()
    media_type = sniff_media_type(raw, media_type)
    if media_type not in INDEX_TYPES:
        return Selected(raw, media_type)
    return _select(source, Index.parse(raw, media_type, limits.max_index_entries), platform, limits, 0)


def _select(source: ImageSource, index: Index, platform: Platform, limits: Limits, depth: int) -> Selected:
    if depth >= _MAX_NESTING:
        raise LimitExceededError(f"indexes nested more than {_MAX_NESTING} deep")
    for desc in index.manifests:
        if desc.platform is not None and platform.matches(desc.platform) and desc.media_type not in INDEX_TYPES:
            raw, mt = _fetch_child(source, desc, limits)
            if mt in INDEX_TYPES:
                continue
            return Selected(raw, mt, index)
    for desc in index.manifests:
        if desc.media_type in INDEX_TYPES and (desc.platform is None or platform.matches(desc.platform)):
            raw, mt = _fetch_child(source, desc, limits)
            child = Index.parse(raw, mt, limits.max_index_entries)
            try:
                return _select(source, child, platform, limits, depth + 1)
            except InputError:
                continue
    index.select(platform)  # raises, listing the platforms the index has
    raise InputError(f"no image manifest for platform {platform} in index")


def open_image(source: ImageSource, platform: Platform | None = None, limits: Limits | None = None) -> Image:
    """Resolve ``source`` to one image (like :func:`lockgate.oci.image.load_image`, with nested indexes).

    An explicit ``platform`` must match a single-platform image's config.
    """
    limits = limits or Limits()
    raw, media_type = source.resolve()
    sel = select_manifest(source, raw, media_type, platform or Platform(), limits)
    manifest = Manifest.parse(sel.raw, sel.media_type, limits.max_layers)
    config = ImageConfig.parse(read_blob(source, manifest.config, limits.max_manifest_bytes))
    if config.diff_ids and len(config.diff_ids) != len(manifest.layers):
        raise IntegrityError(
            f"config lists {len(config.diff_ids)} diff_ids but manifest has {len(manifest.layers)} layers"
        )
    if platform is not None and sel.index is None and config.os and not platform.matches(config.platform):
        raise InputError(f"image platform {config.platform} does not match requested {platform}")
    return Image(source=source, manifest=manifest, config=config, index=sel.index)


class _Counting:
    """Report bytes read from a blob stream to a progress callback."""

    def __init__(self, raw: BinaryIO, desc: Descriptor, progress: ProgressFn) -> None:
        self._raw = raw
        self._desc = desc
        self._progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        if data:
            self._progress(self._desc, len(data))
        return data

    def readinto(self, b: bytearray | memoryview) -> int:
        n = self._raw.readinto(b)  # type: ignore[attr-defined]
        if n:
            self._progress(self._desc, n)
        return int(n or 0)

    def close(self) -> None:
        self._raw.close()


def _skippable(desc: Descriptor) -> bool:
    """Non-distributable (foreign) layers are referenced by URL, never copied."""
    return bool(desc.urls) and ("foreign" in desc.media_type or "nondistributable" in desc.media_type)


def copy_blob(src: ImageSource, dst: ImageDestination, desc: Descriptor, progress: ProgressFn | None = None) -> bool:
    """Copy one blob unless the destination has it; True when bytes were copied."""
    if _skippable(desc) or dst.has_blob(desc):
        if progress is not None:
            progress(desc, desc.size)
        return False
    with src.open_blob(desc) as stream:
        reader: BinaryIO = stream if progress is None else _Counting(stream, desc, progress)  # type: ignore[assignment]
        dst.put_blob(desc, reader)
    return True


def to_oci_manifest(raw: bytes) -> bytes:
    """Rewrite a Docker schema 2 manifest with the equivalent OCI media types (same blobs)."""
    obj = json.loads(raw)
    obj["mediaType"] = OCI_MANIFEST
    for d in [obj["config"], *obj["layers"]]:
        d["mediaType"] = _DOCKER_TO_OCI.get(d.get("mediaType", ""), d.get("mediaType", ""))
    return json.dumps(obj, separators=(",", ":")).encode()


def _wants_oci(dst: ImageDestination) -> bool:
    from lockgate.oci.archive import OCIArchiveDestination
    from lockgate.oci.layout import LayoutDestination

    return isinstance(dst, LayoutDestination | OCIArchiveDestination)


def _destination_tag(dst: ImageDestination) -> str | None:
    """A registry destination's own tag (its ``put_manifest`` pushes by digest unless given one)."""
    from lockgate.oci.reference import Reference

    ref = getattr(dst, "ref", None)
    return ref.tag if isinstance(ref, Reference) else None


def _mount_from_source(src: ImageSource, dst: ImageDestination) -> None:
    """Between two repositories of one registry, let the destination mount blobs instead of uploading them."""
    from lockgate.oci.reference import Reference

    src_ref, dst_ref = getattr(src, "ref", None), getattr(dst, "ref", None)
    mount_from = getattr(dst, "mount_from", None)
    if (
        isinstance(src_ref, Reference)
        and isinstance(dst_ref, Reference)
        and isinstance(mount_from, tuple)
        and src_ref.registry == dst_ref.registry
        and src_ref.repository != dst_ref.repository
        and src_ref.repository not in mount_from
    ):
        dst.mount_from = (*mount_from, src_ref.repository)  # type: ignore[attr-defined]


class _Copier:
    def __init__(
        self, src: ImageSource, dst: ImageDestination, progress: ProgressFn | None, limits: Limits, jobs: int
    ) -> None:
        self.src = src
        self.dst = dst
        self.progress = progress
        self.limits = limits
        self.jobs = max(1, jobs)
        self.convert = bool(getattr(src, "manifest_is_synthetic", False)) and _wants_oci(dst)

    def manifest(self, raw: bytes, media_type: str, tag: str | None) -> str:
        manifest = Manifest.parse(raw, media_type, self.limits.max_layers)
        if self.convert and manifest.media_type == DOCKER_MANIFEST:
            raw = to_oci_manifest(raw)
            manifest = Manifest.parse(raw, OCI_MANIFEST, self.limits.max_layers)
        self.blobs([manifest.config, *manifest.layers])
        return self.dst.put_manifest(raw, manifest.media_type, tag)

    def blobs(self, descs: list[Descriptor]) -> None:
        unique = list({d.digest: d for d in descs}.values())
        if self.jobs == 1 or len(unique) < 2:
            for desc in unique:
                copy_blob(self.src, self.dst, desc, self.progress)
            return
        from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

        with ThreadPoolExecutor(min(self.jobs, len(unique)), thread_name_prefix="lockgate-copy") as pool:
            futures = [pool.submit(copy_blob, self.src, self.dst, d, self.progress) for d in unique]
            _, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for f in pending:
                f.cancel()
            for f in futures:
                if f.done() and not f.cancelled() and (exc := f.exception()) is not None:
                    raise exc

    def tree(self, raw: bytes, media_type: str, tag: str | None, depth: int = 0) -> str:
        if media_type not in INDEX_TYPES:
            return self.manifest(raw, media_type, tag)
        if depth >= _MAX_NESTING:
            raise LimitExceededError(f"indexes nested more than {_MAX_NESTING} deep")
        index = Index.parse(raw, media_type, self.limits.max_index_entries)
        for desc in index.manifests:
            if desc.media_type and desc.media_type not in ALL_MANIFEST_TYPES:
                copy_blob(self.src, self.dst, desc, self.progress)
                continue
            child_raw, child_mt = _fetch_child(self.src, desc, self.limits)
            self.tree(child_raw, child_mt, None, depth + 1)
        return self.dst.put_manifest(raw, media_type, tag)


def copy_image(
    src: ImageSource,
    dst: ImageDestination,
    *,
    tag: str | None = None,
    platform: Platform | None = None,
    all_platforms: bool = False,
    progress: ProgressFn | None = None,
    limits: Limits | None = None,
    jobs: int = 1,
) -> str:
    """Copy the image ``src`` resolves to into ``dst`` and commit; return the manifest digest written.

    An index is copied whole with ``all_platforms``; otherwise the manifest for
    ``platform`` (default linux/amd64) is chosen. ``tag`` overrides the destination's tag.
    ``jobs`` > 1 copies that many blobs at once (the source and destination must be thread-safe,
    as the layout, archive and registry transports are).
    """
    limits = limits or Limits()
    tag = tag if tag is not None else _destination_tag(dst)
    _mount_from_source(src, dst)
    copier = _Copier(src, dst, progress, limits, jobs)
    raw, media_type = src.resolve()
    media_type = sniff_media_type(raw, media_type)
    if media_type in INDEX_TYPES and all_platforms:
        digest = copier.tree(raw, media_type, tag)
    else:
        sel = select_manifest(src, raw, media_type, platform or Platform(), limits)
        if platform is not None and sel.index is None:
            manifest = Manifest.parse(sel.raw, sel.media_type, limits.max_layers)
            config = ImageConfig.parse(read_blob(src, manifest.config, limits.max_manifest_bytes))
            if config.os and not platform.matches(config.platform):
                raise InputError(f"image platform {config.platform} does not match requested {platform}")
        digest = copier.manifest(sel.raw, sel.media_type, tag)
    dst.commit()
    return digest


def total_bytes(src: ImageSource, *, platform: Platform | None = None, limits: Limits | None = None) -> int:
    """Sum of blob sizes of the single-platform image (for a progress bar's total)."""
    image = open_image(src, platform, limits)
    return image.manifest.config.size + sum(d.size for d in image.manifest.layers)
