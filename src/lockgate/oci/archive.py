"""Image tarballs: ``docker-archive`` (what ``docker save`` writes) and ``oci-archive`` (an OCI layout in a tar).

Archives are never extracted: the tar is indexed once (names, types, data offsets) and
members are read in place by offset. The index rejects hostile archives up front — names
that are absolute or contain ``..``, duplicate members, device nodes, sparse members,
truncated data, symlinks where a metadata file should be — so nothing later has to trust a
member name. Links are followed only for layer tars (legacy ``docker save`` links duplicate
layers) and only inside the archive.

A docker-archive stores no manifest, so :class:`DockerArchiveSource` synthesises a Docker
schema 2 manifest whose layers are the *uncompressed* layer tars (digest = diff_id). Writing
(:class:`DockerArchiveDestination`) decompresses layers on the way and checks each diff_id
against the config before the archive is renamed into place.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from lockgate.config import Limits
from lockgate.errors import ConfigError, InputError, IntegrityError, LimitExceededError, NotFoundError
from lockgate.oci.image import VerifyingReader
from lockgate.oci.layout import LayoutDestination, LayoutSource
from lockgate.oci.model import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    ENCRYPTED_SUFFIX,
    INDEX_TYPES,
    Descriptor,
    ImageConfig,
    Manifest,
    layer_compression,
    sha256_digest,
    sniff_media_type,
    validate_digest,
)

DOCKER_LAYER_UNCOMPRESSED = "application/vnd.docker.image.rootfs.diff.tar"
"""Docker schema 2 media type of an uncompressed layer (what a docker-archive holds)."""

_CHUNK = 1 << 20
_MAX_LINK_HOPS = 16
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


# -- tar index -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Member:
    """One indexed tar member: its normalised name, type and where its data starts."""

    name: str
    kind: str
    """``file``, ``dir``, ``symlink`` or ``hardlink``."""
    offset: int
    size: int
    linkname: str = ""


def normalize_member_name(name: str) -> str:
    """Normalise a tar member name; raise :class:`InputError` for names that could escape."""
    if "\x00" in name:
        raise InputError(f"archive member name {name!r} contains a NUL byte")
    if name.startswith("/"):
        raise InputError(f"archive member {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InputError(f"archive member {name!r} contains '..'")
    return "/".join(parts)


class TarIndex:
    """The members of a tar file, indexed once, read in place by offset."""

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        self.path = path
        self.limits = limits or Limits()
        self.members: dict[str, Member] = {}
        try:
            file_size = path.stat().st_size
            with open(path, "rb") as fileobj, tarfile.open(fileobj=fileobj, mode="r:") as tar:
                self._scan(tar, file_size)
        except FileNotFoundError:
            raise NotFoundError(f"archive {path} not found") from None
        except IsADirectoryError:
            raise InputError(f"{path} is a directory, not an archive") from None
        except tarfile.TarError as e:
            raise InputError(f"{path} is not a valid tar archive: {e}") from None
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror or e}") from None

    def _scan(self, tar: tarfile.TarFile, file_size: int) -> None:
        count = 0
        while (ti := tar.next()) is not None:
            count += 1
            if count > self.limits.max_tar_entries:
                raise LimitExceededError(f"{self.path} has more than {self.limits.max_tar_entries} members")
            name = normalize_member_name(ti.name)
            if ti.isdir():
                kind = "dir"
            elif ti.issym():
                kind = "symlink"
            elif ti.islnk():
                kind = "hardlink"
            elif ti.isreg():
                if ti.issparse():
                    raise InputError(f"archive member {ti.name!r} is a sparse file")
                kind = "file"
            else:
                raise InputError(f"archive member {ti.name!r} is a device, FIFO or other special file")
            if not name:
                if kind != "dir":
                    raise InputError(f"archive member {ti.name!r} has an empty name")
                continue
            if kind == "file" and ti.offset_data + ti.size > file_size:
                raise InputError(f"{self.path} is truncated (member {name!r} runs past the end)")
            prev = self.members.get(name)
            if prev is not None and not (prev.kind == "dir" and kind == "dir"):
                raise InputError(f"archive member {name!r} appears more than once")
            self.members[name] = Member(
                name=name,
                kind=kind,
                offset=ti.offset_data,
                size=ti.size if kind == "file" else 0,
                linkname=ti.linkname,
            )

    def regular(self, name: str, *, follow: bool = False) -> Member:
        """The regular-file member ``name``; links are followed (inside the archive) only if ``follow``."""
        seen = 0
        current = normalize_member_name(name)
        while True:
            m = self.members.get(current)
            if m is None:
                raise NotFoundError(f"{current} not found in archive {self.path}")
            if m.kind == "file":
                return m
            if m.kind == "dir" or not follow:
                raise InputError(f"{current} in archive {self.path} is a {m.kind}, not a regular file")
            seen += 1
            if seen > _MAX_LINK_HOPS:
                raise InputError(f"too many link levels resolving {name} in archive {self.path}")
            if m.linkname.startswith("/"):
                raise InputError(f"{current} in archive {self.path} links outside the archive")
            base = posixpath.dirname(current) if m.kind == "symlink" else ""
            target = posixpath.normpath(posixpath.join(base, m.linkname))
            if target == ".." or target.startswith("../"):
                raise InputError(f"{current} in archive {self.path} links outside the archive")
            current = normalize_member_name(target)

    def open(self, name: str, *, follow: bool = False) -> BinaryIO:
        """Stream the data of a regular member."""
        m = self.regular(name, follow=follow)
        return _MemberReader(self.path, m)  # type: ignore[return-value]

    def read(self, name: str, limit: int, *, follow: bool = False) -> bytes:
        """Read a whole small member, refusing more than ``limit`` bytes."""
        m = self.regular(name, follow=follow)
        if m.size > limit:
            raise LimitExceededError(f"{name} in archive {self.path} is {m.size} bytes (limit {limit})")
        with self.open(name, follow=follow) as f:
            return f.read()


class _MemberReader(io.RawIOBase):
    """A window onto one member's bytes in the archive file."""

    def __init__(self, path: Path, member: Member) -> None:
        super().__init__()
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._f.seek(member.offset)
        self._left = member.size
        self._name = member.name

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview | bytearray) -> int:  # type: ignore[override]
        n = min(len(b), self._left)
        if n <= 0:
            return 0
        data = self._f.read(n)
        if not data:
            raise InputError(f"archive member {self._name} is truncated")
        b[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        try:
            self._f.close()
        finally:
            super().close()


class TarStore:
    """:class:`~lockgate.oci.layout.FileStore` over an indexed tar (for ``oci-archive``); no links followed."""

    def __init__(self, index: TarIndex) -> None:
        self.index = index

    @property
    def location(self) -> str:
        return str(self.index.path)

    def exists(self, name: str) -> bool:
        return normalize_member_name(name) in self.index.members

    def open(self, name: str) -> BinaryIO:
        return self.index.open(name)

    def close(self) -> None:
        return None


# -- decompression ---------------------------------------------------------------------------
class _CountingRaw:
    """Count the compressed bytes a decompressor pulls from its source."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data

    def close(self) -> None:
        self.raw.close()


_RATIO_GRACE = 64 * 1024 * 1024
"""Decompressed bytes allowed before the compression-ratio check applies."""


class _Decompressing(io.RawIOBase):
    """Decompress gzip or zstd while reading; size and ratio limits stop decompression bombs."""

    def __init__(self, raw: BinaryIO, kind: str, limits: Limits, what: str) -> None:
        super().__init__()
        self._raw = _CountingRaw(raw)
        self._what = what
        self._limit = limits.max_uncompressed_layer_bytes
        self._ratio = limits.max_compression_ratio
        self._seen = 0
        self._inner: Any
        counted: Any = self._raw  # duck-typed file object (read/close)
        if kind == "gzip":
            self._inner = gzip.GzipFile(fileobj=counted, mode="rb")
        elif kind == "zstd":
            import zstandard

            self._inner = zstandard.ZstdDecompressor().stream_reader(counted, read_across_frames=True)
        else:
            self._inner = self._raw

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview | bytearray) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(b))
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(f"{self._what} cannot be decompressed: {e}") from None
        except Exception as e:  # zstandard.ZstdError has no stable import path for typing
            if type(e).__name__ == "ZstdError":
                raise InputError(f"{self._what} cannot be decompressed: {e}") from None
            raise
        n = len(data)
        self._seen += n
        if self._seen > self._limit:
            raise LimitExceededError(f"{self._what} decompresses to more than {self._limit} bytes")
        if self._seen > _RATIO_GRACE and self._seen > self._ratio * max(self._raw.count, 1):
            raise LimitExceededError(f"{self._what} decompresses more than {self._ratio}:1 (a decompression bomb?)")
        b[:n] = data
        return n

    def close(self) -> None:
        try:
            if self._inner is not self._raw:
                self._inner.close()
            self._raw.close()
        finally:
            super().close()


def sniff_compression(head: bytes) -> str:
    """``gzip``, ``zstd`` or ``none`` from the first bytes of a stream."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


def decompressing_reader(raw: BinaryIO, kind: str, limits: Limits, what: str) -> BinaryIO:
    """Wrap ``raw`` so reads return decompressed bytes (``kind`` = gzip/zstd/none), within ``limits``."""
    return io.BufferedReader(_Decompressing(raw, kind, limits, what), _CHUNK)


# -- docker-archive source -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ArchiveItem:
    """One image entry of ``manifest.json``."""

    config: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]
    layer_sources: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_json(cls, obj: Any, i: int) -> ArchiveItem:
        if not isinstance(obj, dict):
            raise InputError(f"manifest.json entry {i} is not an object")
        config = obj.get("Config")
        tags = obj.get("RepoTags") or []
        layers = obj.get("Layers")
        sources = obj.get("LayerSources") or {}
        if not isinstance(config, str) or not config:
            raise InputError(f"manifest.json entry {i} has no Config")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise InputError(f"manifest.json entry {i}: RepoTags is not a list of strings")
        if not isinstance(layers, list) or not all(isinstance(x, str) and x for x in layers):
            raise InputError(f"manifest.json entry {i}: Layers is not a list of names")
        if not isinstance(sources, dict):
            raise InputError(f"manifest.json entry {i}: LayerSources is not an object")
        return cls(config=config, repo_tags=tuple(tags), layers=tuple(layers), layer_sources=sources)


def read_archive_manifest(index: TarIndex) -> list[ArchiveItem]:
    """Parse ``manifest.json`` of a docker-archive (which must be a regular member)."""
    try:
        raw = index.read("manifest.json", index.limits.max_manifest_bytes)
    except NotFoundError:
        raise InputError(f"{index.path} is not a docker-archive (no manifest.json)") from None
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"manifest.json in {index.path} is not valid JSON: {e}") from None
    if not isinstance(obj, list) or not obj:
        raise InputError(f"manifest.json in {index.path} lists no images")
    if len(obj) > index.limits.max_index_entries:
        raise LimitExceededError(f"manifest.json in {index.path} lists {len(obj)} images")
    return [ArchiveItem.from_json(x, i) for i, x in enumerate(obj)]


def _canonical(name: str) -> str:
    from lockgate.oci.reference import Reference

    return str(Reference.parse(name))


def choose_item(items: list[ArchiveItem], where: str, name: str | None = None, index: int | None = None) -> int:
    """Pick an image as skopeo does: by ``NAME:TAG`` in RepoTags, by ``@N`` (0-based), or the only one."""
    if name is not None:
        want = _canonical(name)
        for i, item in enumerate(items):
            for tag in item.repo_tags:
                with contextlib.suppress(InputError):
                    if _canonical(tag) == want:
                        return i
        raise NotFoundError(f"no image tagged {name} in {where}")
    if index is not None:
        if index < 0 or index >= len(items):
            raise NotFoundError(f"{where} holds {len(items)} images; @{index} is out of range")
        return index
    if len(items) != 1:
        tags = ", ".join(t for item in items for t in item.repo_tags) or "none"
        raise InputError(f"{where} holds {len(items)} images; choose one with :NAME:TAG or :@N (tags: {tags})")
    return 0


@dataclass(frozen=True, slots=True)
class _Layer:
    member: str
    compression: str
    size: int
    """Uncompressed size."""


class DockerArchiveSource:
    """An :class:`~lockgate.oci.image.ImageSource` over a ``docker save`` tarball."""

    manifest_is_synthetic = True
    """The manifest is made up here, so its digest means nothing outside this archive."""

    def __init__(
        self,
        path: Path,
        *,
        name: str | None = None,
        index: int | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.path = path
        self.limits = limits or Limits()
        self.tar = TarIndex(path, self.limits)
        self.items = read_archive_manifest(self.tar)
        self.position = choose_item(self.items, str(path), name, index)
        self._selector = f":{name}" if name else (f":@{index}" if index is not None else "")
        item = self.items[self.position]
        self.config_raw = self.tar.read(item.config, self.limits.max_manifest_bytes, follow=True)
        self.config = ImageConfig.parse(self.config_raw)
        if len(item.layers) > self.limits.max_layers:
            raise LimitExceededError(f"image in {path} has {len(item.layers)} layers (limit {self.limits.max_layers})")
        if len(self.config.diff_ids) != len(item.layers):
            raise InputError(
                f"image in {path}: config lists {len(self.config.diff_ids)} diff_ids "
                f"but manifest.json lists {len(item.layers)} layers"
            )
        self._layers: dict[str, _Layer] = {}
        descs: list[dict[str, Any]] = []
        for diff_id, member in zip(self.config.diff_ids, item.layers, strict=True):
            foreign = item.layer_sources.get(diff_id)
            if foreign is not None:
                descs.append(Descriptor.from_dict(foreign).to_dict())
                continue
            layer = self._layers.get(diff_id) or self._index_layer(diff_id, member)
            self._layers[diff_id] = layer
            descs.append({"mediaType": DOCKER_LAYER_UNCOMPRESSED, "size": layer.size, "digest": diff_id})
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "size": len(self.config_raw), "digest": self.config.digest},
            "layers": descs,
        }
        self.manifest_raw = json.dumps(manifest, indent=3).encode()

    def _index_layer(self, diff_id: str, member: str) -> _Layer:
        m = self.tar.regular(member, follow=True)
        with self.tar.open(m.name) as f:
            head = f.read(4)
        kind = sniff_compression(head)
        if kind == "none":
            return _Layer(member=m.name, compression=kind, size=m.size)
        # A compressed member (newer docker saves): the manifest must give the uncompressed
        # size, so decompress once now, checking the diff_id on the way (as skopeo does).
        what = f"layer {member} in {self.path}"
        algo, _, expected = validate_digest(diff_id).partition(":")
        h = hashlib.new(algo)
        size = 0
        with decompressing_reader(self.tar.open(m.name), kind, self.limits, what) as f:
            while chunk := f.read(_CHUNK):
                size += len(chunk)
                h.update(chunk)
        if h.hexdigest() != expected:
            raise IntegrityError(f"digest mismatch for {what}: diff_id {diff_id}, got {algo}:{h.hexdigest()}")
        return _Layer(member=m.name, compression=kind, size=size)

    @property
    def reference(self) -> str:
        return f"docker-archive:{self.path}{self._selector}"

    @property
    def repo_tags(self) -> tuple[str, ...]:
        return self.items[self.position].repo_tags

    def resolve(self) -> tuple[bytes, str]:
        return self.manifest_raw, DOCKER_MANIFEST

    def get_manifest(self, digest: str) -> tuple[bytes, str]:
        if digest != sha256_digest(self.manifest_raw):
            raise NotFoundError(f"manifest {digest} not found in {self.path}")
        return self.manifest_raw, DOCKER_MANIFEST

    def open_blob(self, desc: Descriptor) -> BinaryIO:
        what = f"blob {desc.digest}"
        if desc.digest == self.config.digest:
            return VerifyingReader(io.BytesIO(self.config_raw), desc.digest, desc.size, what)  # type: ignore[return-value]
        layer = self._layers.get(desc.digest)
        if layer is None:
            raise NotFoundError(f"blob {desc.digest} not found in {self.path}")
        raw = self.tar.open(layer.member)
        stream = raw if layer.compression == "none" else decompressing_reader(raw, layer.compression, self.limits, what)
        return VerifyingReader(stream, desc.digest, desc.size, what)  # type: ignore[return-value]

    def close(self) -> None:
        return None


# -- oci-archive source ----------------------------------------------------------------------
def open_oci_archive(path: Path, tag: str | None = None, *, limits: Limits | None = None) -> LayoutSource:
    """An ``oci-archive`` (OCI layout inside a tar) as a :class:`LayoutSource`, read in place."""
    return LayoutSource(TarStore(TarIndex(path, limits)), tag, limits=limits, transport="oci-archive")


# -- writing tarballs ------------------------------------------------------------------------
def _tar_info(name: str, size: int = 0, *, directory: bool = False) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    if directory:
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
    else:
        ti.mode = 0o644
    return ti


def _check_output(path: Path) -> Path:
    parent = path.parent if str(path.parent) else Path()
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: directory {parent} does not exist")
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a directory")
    return parent


@contextlib.contextmanager
def _atomic_tar(path: Path) -> Iterator[tarfile.TarFile]:
    """A tar written to a temp file next to ``path`` and renamed over it when complete."""
    parent = _check_output(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
            yield tar
            tar.close()
            os.fchmod(f.fileno(), 0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def tar_directory(src: Path, dest: Path) -> None:
    """Write the files under ``src`` (sorted, owner 0, mtime 0) as the tar ``dest``, atomically."""
    with _atomic_tar(dest) as tar:
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(src).as_posix()
            if rel_dir != ".":
                tar.addfile(_tar_info(rel_dir, directory=True))
            for fn in sorted(filenames):
                full = Path(dirpath) / fn
                rel = fn if rel_dir == "." else f"{rel_dir}/{fn}"
                if full.is_symlink() or not full.is_file():
                    raise InputError(f"refusing to archive {full}: not a regular file")
                with open(full, "rb") as f:
                    tar.addfile(_tar_info(rel, full.stat().st_size), f)


class OCIArchiveDestination:
    """An ``oci-archive`` destination: an OCI layout built in a temp dir, tarred on ``commit()``.

    Like skopeo, an existing archive at the path is replaced, not extended.
    """

    def __init__(self, path: Path, tag: str | None = None) -> None:
        self.path = path
        parent = _check_output(path)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
        self.layout = LayoutDestination(self._tmp, tag)

    @property
    def reference(self) -> str:
        return f"oci-archive:{self.path}" + (f":{self.layout.tag}" if self.layout.tag else "")

    def has_blob(self, desc: Descriptor) -> bool:
        return self.layout.has_blob(desc)

    def put_blob(self, desc: Descriptor, stream: BinaryIO) -> None:
        self.layout.put_blob(desc, stream)

    def put_manifest(self, raw: bytes, media_type: str, tag: str | None) -> str:
        return self.layout.put_manifest(raw, media_type, tag)

    def commit(self) -> None:
        self.layout.commit()
        tar_directory(self._tmp, self.path)

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


# -- docker-archive destination --------------------------------------------------------------
@dataclass(slots=True)
class _StoredLayer:
    diff_id: str
    path: Path
    size: int


class DockerArchiveDestination:
    """Write one image as a ``docker save`` tarball.

    Layers are decompressed as they arrive and stored under their diff_id; ``commit()``
    checks them against the config's diff_ids and writes ``<hex>/layer.tar``, the config
    (its exact bytes, so the config digest is kept), ``manifest.json`` and ``repositories``.
    """

    def __init__(self, path: Path, repo_tags: tuple[str, ...] = (), *, limits: Limits | None = None) -> None:
        self.path = path
        self.repo_tags = repo_tags
        self.limits = limits or Limits()
        parent = _check_output(path)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
        self._layers: dict[str, _StoredLayer] = {}
        self._blobs: dict[str, bytes] = {}
        self._plan: tuple[bytes, list[_StoredLayer]] | None = None

    @property
    def reference(self) -> str:
        return f"docker-archive:{self.path}" + (f":{self.repo_tags[0]}" if self.repo_tags else "")

    def has_blob(self, desc: Descriptor) -> bool:
        return desc.digest in self._layers or desc.digest in self._blobs

    def put_blob(self, desc: Descriptor, stream: BinaryIO) -> None:
        if desc.media_type.endswith(ENCRYPTED_SUFFIX):
            raise ConfigError(f"docker-archive cannot store encrypted layer {desc.digest}; decrypt it first")
        try:
            kind = layer_compression(desc.media_type)
        except InputError:
            kind = ""
        if not kind:
            limit = self.limits.max_manifest_bytes
            if desc.size > limit:
                raise LimitExceededError(f"blob {desc.digest} ({desc.media_type}) is {desc.size} bytes (limit {limit})")
            data = VerifyingReader(stream, desc.digest, desc.size).read()
            self._blobs[desc.digest] = data
            return
        what = f"layer {desc.digest}"
        checked = io.BufferedReader(VerifyingReader(stream, desc.digest, desc.size, what), _CHUNK)
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(prefix="layer-", suffix=".tar", dir=self._tmp)
        with (
            os.fdopen(fd, "wb") as out,
            decompressing_reader(checked, kind, self.limits, what) as f,
        ):
            while chunk := f.read(_CHUNK):
                size += len(chunk)
                h.update(chunk)
                out.write(chunk)
            # drain the compressed stream so its digest is checked even past the end of the data
            while checked.read(_CHUNK):
                pass
        self._layers[desc.digest] = _StoredLayer("sha256:" + h.hexdigest(), Path(tmp), size)

    def put_manifest(self, raw: bytes, media_type: str, tag: str | None) -> str:
        media_type = sniff_media_type(raw, media_type)
        if media_type in INDEX_TYPES:
            raise ConfigError("docker-archive holds single-platform images only; choose one with --platform")
        manifest = Manifest.parse(raw, media_type, self.limits.max_layers)
        config_raw = self._blobs.get(manifest.config.digest)
        if config_raw is None:
            raise InputError(f"config {manifest.config.digest} was not written before the manifest")
        config = ImageConfig.parse(config_raw)
        layers: list[_StoredLayer] = []
        for desc in manifest.layers:
            stored = self._layers.get(desc.digest)
            if stored is None:
                raise ConfigError(f"layer {desc.digest} ({desc.media_type}) cannot be stored in a docker-archive")
            layers.append(stored)
        got = tuple(layer.diff_id for layer in layers)
        if got != config.diff_ids:
            for i, (have, want) in enumerate(zip(got, config.diff_ids, strict=False)):
                if have != want:
                    raise IntegrityError(
                        f"layer {i} ({manifest.layers[i].digest}) has diff_id {have}, config says {want}"
                    )
            raise IntegrityError(f"image has {len(got)} layers but config lists {len(config.diff_ids)} diff_ids")
        self._plan = (config_raw, layers)
        return manifest.digest

    def commit(self) -> None:
        if self._plan is None:
            raise InputError("no image was written to the docker-archive")
        config_raw, layers = self._plan
        config_name = hashlib.sha256(config_raw).hexdigest() + ".json"
        names: list[str] = []
        with _atomic_tar(self.path) as tar:
            written: set[str] = set()
            for layer in layers:
                hexid = layer.diff_id.partition(":")[2]
                names.append(f"{hexid}/layer.tar")
                if hexid in written:
                    continue
                written.add(hexid)
                tar.addfile(_tar_info(hexid, directory=True))
                with open(layer.path, "rb") as f:
                    tar.addfile(_tar_info(f"{hexid}/layer.tar", layer.size), f)
            tar.addfile(_tar_info(config_name, len(config_raw)), io.BytesIO(config_raw))
            manifest = [{"Config": config_name, "RepoTags": list(self.repo_tags), "Layers": names}]
            data = json.dumps(manifest, separators=(",", ":")).encode()
            tar.addfile(_tar_info("manifest.json", len(data)), io.BytesIO(data))
            if self.repo_tags and layers:
                repos: dict[str, dict[str, str]] = {}
                for rt in self.repo_tags:
                    repo, _, t = rt.rpartition(":")
                    repos.setdefault(repo, {})[t] = layers[-1].diff_id.partition(":")[2]
                data = json.dumps(repos, separators=(",", ":")).encode()
                tar.addfile(_tar_info("repositories", len(data)), io.BytesIO(data))

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)
