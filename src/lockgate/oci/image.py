"""Image sources and destinations: the one seam every transport implements.

An :class:`ImageSource` serves manifests and blobs by digest (a registry repository,
an OCI layout, a docker or OCI archive); an :class:`ImageDestination` accepts them.
Copying, scanning, signing and encryption are written once against these protocols.
Every blob a source hands out is wrapped in :class:`VerifyingReader`, so a digest or
size mismatch is an :class:`~lockgate.errors.IntegrityError` naming the blob.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, Protocol, runtime_checkable

import msgspec

from lockgate.errors import IntegrityError, LimitExceededError
from lockgate.oci.model import (
    INDEX_TYPES,
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    Platform,
    sniff_media_type,
    validate_digest,
    verify_bytes,
)


class VerifyingReader(io.RawIOBase):
    """Stream a blob while hashing it; at EOF check size and digest.

    Reading past ``size`` or hitting EOF early is an integrity error, so a truncated or
    padded blob never passes as the real one.
    """

    def __init__(self, raw: BinaryIO, digest: str, size: int, what: str = "") -> None:
        super().__init__()
        algo, _, self._expected = validate_digest(digest).partition(":")
        self._raw = raw
        self._hash = hashlib.new(algo)
        self._digest = digest
        self._size = size
        self._seen = 0
        self._what = what or f"blob {digest}"
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._done:
            return 0
        want = min(len(b), self._size - self._seen + 1)
        chunk = self._raw.read(want)
        n = len(chunk)
        if n:
            self._seen += n
            if self._seen > self._size:
                raise IntegrityError(f"{self._what} is larger than its declared size {self._size}")
            self._hash.update(chunk)
            b[:n] = chunk
            return n
        self._done = True
        if self._seen != self._size:
            raise IntegrityError(f"{self._what} is truncated: got {self._seen} of {self._size} bytes")
        if self._hash.hexdigest() != self._expected:
            raise IntegrityError(
                f"digest mismatch for {self._what}: expected {self._digest}, "
                f"got {self._digest.partition(':')[0]}:{self._hash.hexdigest()}"
            )
        return 0

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


@runtime_checkable
class ImageSource(Protocol):
    """Read side of an image store."""

    @property
    def reference(self) -> str:
        """Human-readable name of what was opened (for reports and errors)."""
        ...

    def resolve(self) -> tuple[bytes, str]:
        """Bytes and media type of the manifest or index the reference points at."""
        ...

    def get_manifest(self, digest: str) -> tuple[bytes, str]:
        """A manifest or index by digest (digest-verified) and its media type."""
        ...

    def open_blob(self, desc: Descriptor) -> BinaryIO:
        """Stream a blob; the stream verifies size and digest as it is read."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ImageDestination(Protocol):
    """Write side of an image store."""

    @property
    def reference(self) -> str: ...

    def has_blob(self, desc: Descriptor) -> bool: ...

    def put_blob(self, desc: Descriptor, stream: BinaryIO) -> None:
        """Store a blob; implementations verify digest and size before it becomes visible."""
        ...

    def put_manifest(self, raw: bytes, media_type: str, tag: str | None) -> str:
        """Store a manifest or index (by digest, and under ``tag`` when given); return its digest."""
        ...

    def commit(self) -> None:
        """Make everything written visible (archives are written here)."""
        ...

    def close(self) -> None: ...


def read_blob(source: ImageSource, desc: Descriptor, limit: int) -> bytes:
    """Read a small blob (config, manifest) fully, verified, refusing anything over ``limit``."""
    if desc.size > limit:
        raise LimitExceededError(f"blob {desc.digest} is {desc.size} bytes (limit {limit})")
    with source.open_blob(desc) as f:
        data = f.read()
    verify_bytes(data, desc.digest, f"blob {desc.digest}")
    return data


class Image(msgspec.Struct, frozen=True):
    """One single-platform image resolved from a source: manifest, config, layers."""

    source: ImageSource
    manifest: Manifest
    config: ImageConfig
    index: Index | None = None
    """The index the manifest was selected from, if any."""

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def layers(self) -> tuple[Descriptor, ...]:
        return self.manifest.layers


def load_image(
    source: ImageSource, platform: Platform | None = None, max_manifest_bytes: int = 4 * 1024 * 1024
) -> Image:
    """Resolve ``source`` to one image, selecting ``platform`` (default linux/amd64) from an index."""
    raw, media_type = source.resolve()
    media_type = sniff_media_type(raw, media_type)
    index: Index | None = None
    if media_type in INDEX_TYPES:
        index = Index.parse(raw, media_type)
        chosen = index.select(platform or Platform())
        raw, media_type = source.get_manifest(chosen.digest)
        media_type = sniff_media_type(raw, media_type or chosen.media_type)
    manifest = Manifest.parse(raw, media_type)
    config = ImageConfig.parse(read_blob(source, manifest.config, max_manifest_bytes))
    if config.diff_ids and len(config.diff_ids) != len(manifest.layers):
        raise IntegrityError(
            f"config lists {len(config.diff_ids)} diff_ids but manifest has {len(manifest.layers)} layers"
        )
    if platform is not None and index is None and config.os and not platform.matches(config.platform):
        raise IntegrityError(f"image platform {config.platform} does not match requested {platform}")
    return Image(source=source, manifest=manifest, config=config, index=index)


@contextmanager
def opened(source: ImageSource) -> Iterator[ImageSource]:
    """Close ``source`` when the block ends."""
    try:
        yield source
    finally:
        source.close()
