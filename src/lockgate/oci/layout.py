"""OCI image-layout directories: a source (read) and a destination (write).

The layout format is small (``oci-layout``, ``index.json``, ``blobs/<alg>/<hex>``), so it is
implemented here directly rather than through a library: every blob name is built from a
*validated* digest, every blob read is digest-verified, and writes are atomic (temp file,
verify, rename), so a crash or a lying source never leaves a visible bad blob.

:class:`LayoutSource` reads through a small :class:`FileStore` protocol, so the same code
serves a directory and an ``oci-archive`` tarball (see :mod:`lockgate.oci.archive`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from lockgate.config import Limits
from lockgate.errors import InputError, IntegrityError, LimitExceededError, NotFoundError
from lockgate.oci.image import VerifyingReader
from lockgate.oci.model import (
    ALL_MANIFEST_TYPES,
    ANNOTATION_REF_NAME,
    OCI_INDEX,
    Descriptor,
    sniff_media_type,
    validate_digest,
    verify_bytes,
)

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LAYOUT_VERSION = "1.0.0"
_CHUNK = 1 << 20


def blob_name(digest: str) -> str:
    """``blobs/<alg>/<hex>`` for a digest, after validating it (so it is always a safe file name)."""
    algo, _, hexpart = validate_digest(digest).partition(":")
    return f"blobs/{algo}/{hexpart}"


class FileStore(Protocol):
    """Read-only access to named files of a layout (a directory or an archive)."""

    @property
    def location(self) -> str: ...

    def exists(self, name: str) -> bool: ...

    def open(self, name: str) -> BinaryIO:
        """Open a regular file; :class:`NotFoundError` when missing."""
        ...

    def close(self) -> None: ...


def read_small(store: FileStore, name: str, limit: int) -> bytes:
    """Read a whole (small) file from ``store``, refusing more than ``limit`` bytes."""
    with store.open(name) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise LimitExceededError(f"{name} in {store.location} is larger than {limit} bytes")
    return data


class DirectoryStore:
    """Files of a layout directory; final path components are opened without following symlinks."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def location(self) -> str:
        return str(self.root)

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def open(self, name: str) -> BinaryIO:
        path = self.root / name
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise NotFoundError(f"{name} not found in {self.root}") from None
        except OSError as e:
            raise InputError(f"cannot open {name} in {self.root}: {e.strerror or e}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputError(f"{name} in {self.root} is not a regular file")
        return os.fdopen(fd, "rb")

    def close(self) -> None:
        return None


def parse_index_json(raw: bytes, where: str, limits: Limits) -> dict[str, Any]:
    """Parse and sanity-check a layout's ``index.json``."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"index.json in {where} is not valid JSON: {e}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("manifests"), list):
        raise InputError(f"index.json in {where} has no manifests list")
    if len(obj["manifests"]) > limits.max_index_entries:
        raise LimitExceededError(f"index.json in {where} lists {len(obj['manifests'])} manifests")
    return obj


class LayoutSource:
    """An :class:`~lockgate.oci.image.ImageSource` over an OCI image layout.

    ``tag`` picks the ``index.json`` entry whose ``org.opencontainers.image.ref.name``
    equals it; without a tag the layout must hold exactly one entry (as skopeo does).
    """

    def __init__(
        self, store: FileStore, tag: str | None = None, *, limits: Limits | None = None, transport: str = "oci"
    ) -> None:
        self.store = store
        self.transport = transport
        self.tag = tag or None
        self.limits = limits or Limits()
        layout = read_small(store, LAYOUT_FILE, 64 * 1024) if store.exists(LAYOUT_FILE) else None
        if layout is None:
            raise InputError(f"{store.location} is not an OCI image layout (no {LAYOUT_FILE} file)")
        try:
            version = json.loads(layout).get("imageLayoutVersion")
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise InputError(f"{LAYOUT_FILE} in {store.location} is not valid JSON") from None
        if not isinstance(version, str) or not version.startswith("1."):
            raise InputError(f"unsupported imageLayoutVersion {version!r} in {store.location}")
        self._index = parse_index_json(
            read_small(store, INDEX_FILE, self.limits.max_manifest_bytes), store.location, self.limits
        )

    @property
    def reference(self) -> str:
        text = f"{self.transport}:{self.store.location}"
        return f"{text}:{self.tag}" if self.tag else text

    def entries(self) -> list[Descriptor]:
        """The descriptors listed in ``index.json``."""
        return [Descriptor.from_dict(d) for d in self._index["manifests"]]

    def tags(self) -> list[str]:
        """The ``ref.name`` tags in ``index.json``, in file order."""
        return [t for d in self.entries() if (t := d.annotation(ANNOTATION_REF_NAME))]

    def descriptor(self) -> Descriptor:
        """The ``index.json`` entry the tag (or the lone entry) selects."""
        entries = self.entries()
        if self.tag is None:
            if len(entries) != 1:
                tags = ", ".join(self.tags()) or "none"
                raise InputError(
                    f"{self.store.location} holds {len(entries)} images; choose one with :TAG (tags: {tags})"
                )
            return entries[0]
        for d in entries:
            if d.annotation(ANNOTATION_REF_NAME) == self.tag and (
                d.media_type in ALL_MANIFEST_TYPES or not d.media_type
            ):
                return d
        raise NotFoundError(f"tag {self.tag!r} not found in {self.store.location}")

    def resolve(self) -> tuple[bytes, str]:
        desc = self.descriptor()
        raw = self._read_manifest(desc.digest, desc.size)
        return raw, sniff_media_type(raw, desc.media_type)

    def get_manifest(self, digest: str) -> tuple[bytes, str]:
        raw = self._read_manifest(digest, None)
        return raw, sniff_media_type(raw)

    def _read_manifest(self, digest: str, size: int | None) -> bytes:
        limit = self.limits.max_manifest_bytes
        if size is not None and size > limit:
            raise LimitExceededError(f"manifest {digest} is {size} bytes (limit {limit})")
        raw = read_small(self.store, blob_name(digest), limit)
        if size is not None and len(raw) != size:
            raise IntegrityError(f"manifest {digest} is {len(raw)} bytes, descriptor says {size}")
        verify_bytes(raw, digest, f"manifest {digest}")
        return raw

    def open_blob(self, desc: Descriptor) -> BinaryIO:
        name = blob_name(desc.digest)
        try:
            raw = self.store.open(name)
        except NotFoundError:
            raise NotFoundError(f"blob {desc.digest} not found in {self.store.location}") from None
        return VerifyingReader(raw, desc.digest, desc.size, f"blob {desc.digest}")  # type: ignore[return-value]

    def close(self) -> None:
        self.store.close()


def _ensure_real_dir(path: Path) -> None:
    """Create ``path`` as a directory, refusing a symlink or other file in its place."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        try:
            path.mkdir(mode=0o755)
            return
        except FileExistsError:  # a concurrent writer created it first: check what it made
            st = path.lstat()
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path} exists and is not a directory")


def _atomic_write(path: Path, data: bytes) -> None:
    import tempfile  # here: reading a layout (every scan) never needs it

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), 0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LayoutDestination:
    """An :class:`~lockgate.oci.image.ImageDestination` writing an OCI image layout directory.

    Blobs are written atomically and verified before they become visible. ``commit()``
    adds the last manifest put to ``index.json`` (under ``tag``, replacing an entry with the
    same tag) and keeps every other entry.
    """

    def __init__(self, root: Path, tag: str | None = None) -> None:
        self.root = root
        self.tag = tag or None
        self._top: tuple[Descriptor, str | None] | None = None
        _ensure_real_dir(root)
        layout = root / LAYOUT_FILE
        if layout.is_symlink():
            raise InputError(f"{layout} is a symlink")
        if layout.exists():
            try:
                version = json.loads(layout.read_bytes()).get("imageLayoutVersion")
            except (ValueError, UnicodeDecodeError, AttributeError):
                raise InputError(f"{layout} is not valid JSON") from None
            if not isinstance(version, str) or not version.startswith("1."):
                raise InputError(f"unsupported imageLayoutVersion {version!r} in {root}")
        else:
            _atomic_write(layout, json.dumps({"imageLayoutVersion": LAYOUT_VERSION}).encode())
        _ensure_real_dir(root / "blobs")

    @property
    def reference(self) -> str:
        return f"oci:{self.root}:{self.tag}" if self.tag else f"oci:{self.root}"

    def _blob_path(self, digest: str) -> Path:
        return self.root / blob_name(digest)

    def has_blob(self, desc: Descriptor) -> bool:
        path = self._blob_path(desc.digest)
        try:
            st = path.lstat()
        except FileNotFoundError:
            return False
        return stat.S_ISREG(st.st_mode) and st.st_size == desc.size

    def put_blob(self, desc: Descriptor, stream: BinaryIO) -> None:
        algo, _, expected = validate_digest(desc.digest).partition(":")
        path = self._blob_path(desc.digest)
        _ensure_real_dir(path.parent)
        h = hashlib.new(algo)
        size = 0
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > desc.size:
                        raise IntegrityError(f"blob {desc.digest} is larger than its declared size {desc.size}")
                    h.update(chunk)
                    f.write(chunk)
                os.fchmod(f.fileno(), 0o644)
            if size != desc.size:
                raise IntegrityError(f"blob {desc.digest} is truncated: got {size} of {desc.size} bytes")
            if h.hexdigest() != expected:
                raise IntegrityError(f"digest mismatch for blob {desc.digest}: got {algo}:{h.hexdigest()}")
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_manifest(self, raw: bytes, media_type: str, tag: str | None) -> str:
        media_type = sniff_media_type(raw, media_type)
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        desc = Descriptor(media_type=media_type, digest=digest, size=len(raw))
        if not self.has_blob(desc):
            self.put_blob(desc, io.BytesIO(raw))
        self._top = (desc, tag or self.tag)
        return digest

    def commit(self) -> None:
        if self._top is None:
            return
        desc, tag = self._top
        # Other writers may update index.json at the same time: hold an exclusive lock on the
        # layout directory for the read-modify-write, so no entry is lost.
        dirfd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(dirfd, fcntl.LOCK_EX)
            self._update_index(desc, tag)
        finally:
            os.close(dirfd)
        self._top = None

    def _update_index(self, desc: Descriptor, tag: str | None) -> None:
        path = self.root / INDEX_FILE
        if path.is_symlink():
            raise InputError(f"{path} is a symlink")
        index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        if path.exists():
            index = parse_index_json(path.read_bytes(), str(self.root), Limits())
        entry = desc.to_dict()
        kept: list[Any] = []
        for m in index["manifests"]:
            ref = (m.get("annotations") or {}).get(ANNOTATION_REF_NAME) if isinstance(m, dict) else None
            if tag is not None and ref == tag:
                continue
            if tag is None and ref is None and isinstance(m, dict) and m.get("digest") == desc.digest:
                continue
            kept.append(m)
        if tag is not None:
            entry["annotations"] = {ANNOTATION_REF_NAME: tag}
        kept.append(entry)
        index["manifests"] = kept
        index.setdefault("schemaVersion", 2)
        _atomic_write(path, json.dumps(index, separators=(",", ":")).encode())

    def close(self) -> None:
        return None


def is_layout_dir(path: Path) -> bool:
    """True when ``path`` is a directory holding an ``oci-layout`` file."""
    with contextlib.suppress(OSError):
        return path.is_dir() and (path / LAYOUT_FILE).is_file()
    return False


__all__ = [
    "INDEX_FILE",
    "LAYOUT_FILE",
    "DirectoryStore",
    "FileStore",
    "LayoutDestination",
    "LayoutSource",
    "blob_name",
    "is_layout_dir",
    "read_small",
]
