"""Registry repositories as :class:`ImageSource` / :class:`ImageDestination` (pull and push)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from lockgate.oci.model import Descriptor
from lockgate.oci.reference import Reference
from lockgate.oci.registry.options import RegistryOptions

if TYPE_CHECKING:
    from lockgate.oci.registry.client import RegistryClient


def _client(ref: Reference, options: RegistryOptions | None) -> RegistryClient:
    # Imported here: client.py re-exports this module's classes, so a top-level import would be circular.
    from lockgate.oci.registry.client import RegistryClient

    return RegistryClient(ref.registry, options)


class RegistrySource:
    """Read an image from ``ref`` (tag or digest) in a registry; implements ``ImageSource``."""

    def __init__(
        self, ref: Reference, options: RegistryOptions | None = None, *, client: RegistryClient | None = None
    ) -> None:
        self.ref = ref
        self.client = client or _client(ref, options)
        self._own_client = client is None
        self.digest: str | None = ref.digest
        """Digest of the top-level manifest once :meth:`resolve` ran (or the pinned digest)."""

    @property
    def reference(self) -> str:
        return str(self.ref)

    def resolve(self) -> tuple[bytes, str]:
        raw, media_type, digest = self.client.get_manifest(self.ref.repository, self.ref.identifier)
        self.digest = digest
        return raw, media_type

    def get_manifest(self, digest: str) -> tuple[bytes, str]:
        raw, media_type, _ = self.client.get_manifest(self.ref.repository, digest)
        return raw, media_type

    def open_blob(self, desc: Descriptor) -> BinaryIO:
        return self.client.open_blob(self.ref.repository, desc)

    def close(self) -> None:
        if self._own_client:
            self.client.close()


class RegistryDestination:
    """Push an image to ``ref``'s repository; implements ``ImageDestination``.

    ``mount_from`` names other repositories on the same registry that may already hold
    the blobs; they are mounted (no data transfer) before falling back to an upload.
    """

    def __init__(
        self,
        ref: Reference,
        options: RegistryOptions | None = None,
        *,
        mount_from: Sequence[str] = (),
        client: RegistryClient | None = None,
    ) -> None:
        self.ref = ref
        self.client = client or _client(ref, options)
        self._own_client = client is None
        self.mount_from = tuple(r for r in mount_from if r != ref.repository)

    @property
    def reference(self) -> str:
        return str(self.ref)

    def has_blob(self, desc: Descriptor) -> bool:
        return self.client.has_blob(self.ref.repository, desc.digest)

    def put_blob(self, desc: Descriptor, stream: BinaryIO) -> None:
        for source_repo in self.mount_from:
            if self.client.mount_blob(self.ref.repository, desc.digest, source_repo):
                return
        self.client.upload_blob(self.ref.repository, desc, stream)

    def put_manifest(self, raw: bytes, media_type: str, tag: str | None) -> str:
        return self.client.put_manifest(self.ref.repository, raw, media_type, tag)

    def commit(self) -> None:
        """Nothing to do: registry writes are visible as soon as they succeed."""

    def close(self) -> None:
        if self._own_client:
            self.client.close()
