"""OCI and Docker image data model: media types, descriptors, manifests, indexes, configs.

Parsed at the boundary into frozen objects; the original bytes are kept wherever a
digest or signature depends on them (``Manifest.raw``), so nothing is re-serialised
before it is verified or copied.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec

from lockgate._internal.structs import PartialEq
from lockgate.errors import InputError, IntegrityError

# -- media types ---------------------------------------------------------------------------
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
ALL_MANIFEST_TYPES = MANIFEST_TYPES | INDEX_TYPES
ENCRYPTED_SUFFIX = "+encrypted"

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_BASE_NAME = "org.opencontainers.image.base.name"
ANNOTATION_BASE_DIGEST = "org.opencontainers.image.base.digest"


def layer_compression(media_type: str) -> str:
    """``gzip``, ``zstd`` or ``none`` for a layer media type; raises for unknown types."""
    mt = media_type.removesuffix(ENCRYPTED_SUFFIX)
    if mt.endswith(("+gzip", ".tar.gzip")):
        return "gzip"
    if mt.endswith("+zstd"):
        return "zstd"
    if mt.endswith((".tar", "rootfs.diff.tar")):
        return "none"
    raise InputError(f"unsupported layer media type {media_type!r}")


# -- digests -------------------------------------------------------------------------------
def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


_DIGEST_ALGS = {"sha256": 64, "sha512": 128}


def validate_digest(digest: str) -> str:
    """Return ``digest`` if it is ``algo:hex`` with a known algorithm and length; raise otherwise."""
    algo, sep, hexpart = digest.partition(":")
    n = _DIGEST_ALGS.get(algo)
    if not sep or n is None or len(hexpart) != n or any(c not in "0123456789abcdef" for c in hexpart):
        raise InputError(f"invalid digest {digest!r}")
    return digest


def verify_bytes(data: bytes, digest: str, what: str) -> None:
    """Raise :class:`IntegrityError` naming ``what`` unless ``data`` hashes to ``digest``."""
    algo, _, expected = validate_digest(digest).partition(":")
    actual = hashlib.new(algo, data).hexdigest()
    if actual != expected:
        raise IntegrityError(f"digest mismatch for {what}: expected {digest}, got {algo}:{actual}")


# -- descriptors ---------------------------------------------------------------------------
class Platform(msgspec.Struct, frozen=True):
    """Target platform of an image (``linux/arm64/v8``)."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""
    os_version: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant]``; ``arm64`` without a variant means ``v8``."""
        parts = text.strip().split("/")
        if len(parts) < 2 or len(parts) > 3 or not all(parts):
            raise InputError(f"invalid platform {text!r} (expected os/arch[/variant])")
        return cls(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else "")

    def matches(self, other: Platform) -> bool:
        """True when ``other`` (an image's platform) satisfies this requested platform."""
        if self.os != other.os or self.architecture != other.architecture:
            return False
        want, have = self.variant, other.variant
        if self.architecture == "arm64":
            want, have = want or "v8", have or "v8"
        return not want or want == have

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Platform:
        return cls(
            os=str(d.get("os", "")),
            architecture=str(d.get("architecture", "")),
            variant=str(d.get("variant", "")),
            os_version=str(d.get("os.version", "")),
        )

    def to_dict(self) -> dict[str, str]:
        d = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            d["variant"] = self.variant
        if self.os_version:
            d["os.version"] = self.os_version
        return d


class Descriptor(msgspec.Struct, frozen=True):
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    annotations: tuple[tuple[str, str], ...] = ()
    platform: Platform | None = None
    artifact_type: str = ""
    urls: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: Any) -> Descriptor:
        if not isinstance(d, dict):
            raise InputError("descriptor is not an object")
        try:
            size = d["size"]
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise InputError(f"descriptor size {size!r} is not a non-negative integer")
            ann = d.get("annotations") or {}
            plat = d.get("platform")
            return cls(
                media_type=str(d.get("mediaType", "")),
                digest=validate_digest(str(d["digest"])),
                size=size,
                annotations=tuple(sorted((str(k), str(v)) for k, v in ann.items())),
                platform=Platform.from_dict(plat) if isinstance(plat, dict) else None,
                artifact_type=str(d.get("artifactType", "")),
                urls=tuple(str(u) for u in d.get("urls") or ()),
            )
        except KeyError as e:
            raise InputError(f"descriptor lacks {e.args[0]!r}") from None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        if self.urls:
            d["urls"] = list(self.urls)
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        if self.platform is not None:
            d["platform"] = self.platform.to_dict()
        return d

    def annotation(self, key: str) -> str | None:
        return dict(self.annotations).get(key)


def _parse_json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise InputError(f"{what} is not a JSON object")
    return obj


class Manifest(msgspec.Struct, frozen=True):
    """An image manifest (OCI or Docker schema 2), with its original bytes."""

    raw: bytes
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = ()
    subject: Descriptor | None = None
    artifact_type: str = ""

    @property
    def digest(self) -> str:
        return sha256_digest(self.raw)

    @classmethod
    def parse(cls, raw: bytes, media_type: str = "", max_layers: int = 512) -> Manifest:
        obj = _parse_json(raw, "manifest")
        mt = str(obj.get("mediaType") or media_type or OCI_MANIFEST)
        if mt not in MANIFEST_TYPES:
            raise InputError(f"not an image manifest: media type {mt!r}")
        if obj.get("schemaVersion") != 2:
            raise InputError(f"unsupported manifest schemaVersion {obj.get('schemaVersion')!r}")
        layers = obj.get("layers")
        if not isinstance(layers, list):
            raise InputError("manifest has no layers list")
        if len(layers) > max_layers:
            raise InputError(f"manifest has {len(layers)} layers (limit {max_layers})")
        subj = obj.get("subject")
        return cls(
            raw=raw,
            media_type=mt,
            config=Descriptor.from_dict(obj.get("config")),
            layers=tuple(Descriptor.from_dict(x) for x in layers),
            annotations=tuple(sorted((str(k), str(v)) for k, v in (obj.get("annotations") or {}).items())),
            subject=Descriptor.from_dict(subj) if subj else None,
            artifact_type=str(obj.get("artifactType", "")),
        )


class Index(msgspec.Struct, frozen=True):
    """An image index (OCI) or manifest list (Docker), with its original bytes."""

    raw: bytes
    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = ()
    subject: Descriptor | None = None

    @property
    def digest(self) -> str:
        return sha256_digest(self.raw)

    @classmethod
    def parse(cls, raw: bytes, media_type: str = "", max_entries: int = 4096) -> Index:
        obj = _parse_json(raw, "index")
        mt = str(obj.get("mediaType") or media_type or OCI_INDEX)
        if mt not in INDEX_TYPES:
            raise InputError(f"not an image index: media type {mt!r}")
        entries = obj.get("manifests")
        if not isinstance(entries, list):
            raise InputError("index has no manifests list")
        if len(entries) > max_entries:
            raise InputError(f"index has {len(entries)} entries (limit {max_entries})")
        subj = obj.get("subject")
        return cls(
            raw=raw,
            media_type=mt,
            manifests=tuple(Descriptor.from_dict(x) for x in entries),
            annotations=tuple(sorted((str(k), str(v)) for k, v in (obj.get("annotations") or {}).items())),
            subject=Descriptor.from_dict(subj) if subj else None,
        )

    def select(self, platform: Platform) -> Descriptor:
        """The manifest for ``platform``; raises :class:`InputError` listing what exists."""
        for d in self.manifests:
            if d.platform is not None and platform.matches(d.platform):
                return d
        have = ", ".join(str(d.platform) for d in self.manifests if d.platform) or "none"
        raise InputError(f"no manifest for platform {platform} in index (available: {have})")


def sniff_media_type(raw: bytes, declared: str = "") -> str:
    """Media type of a manifest or index, from the document itself when it says, else guessed."""
    if declared in ALL_MANIFEST_TYPES:
        return declared
    obj = _parse_json(raw, "manifest")
    mt = obj.get("mediaType")
    if isinstance(mt, str) and mt:
        return mt
    return OCI_INDEX if "manifests" in obj else OCI_MANIFEST


class HistoryEntry(msgspec.Struct, frozen=True):
    created: str = ""
    created_by: str = ""
    comment: str = ""
    empty_layer: bool = False


class ImageConfig(PartialEq, frozen=True):
    """The parts of an image config blob that scanners and policies read."""

    _uncompared = frozenset({"extra"})

    raw: bytes
    architecture: str = ""
    os: str = ""
    variant: str = ""
    created: str = ""
    user: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    healthcheck: bool = False
    history: tuple[HistoryEntry, ...] = ()
    diff_ids: tuple[str, ...] = ()
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256_digest(self.raw)

    @property
    def platform(self) -> Platform:
        return Platform(os=self.os, architecture=self.architecture, variant=self.variant)

    @classmethod
    def parse(cls, raw: bytes) -> ImageConfig:
        obj = _parse_json(raw, "image config")
        c = obj.get("config") or {}
        if not isinstance(c, dict):
            raise InputError("image config 'config' is not an object")
        rootfs = obj.get("rootfs") or {}
        diff_ids = rootfs.get("diff_ids") or [] if isinstance(rootfs, dict) else []
        hist = obj.get("history") or []

        def strs(v: Any) -> tuple[str, ...]:
            if v is None:
                return ()
            if isinstance(v, str):
                return (v,)
            if isinstance(v, list):
                return tuple(str(x) for x in v)
            raise InputError(f"image config field has unexpected type {type(v).__name__}")

        return cls(
            raw=raw,
            architecture=str(obj.get("architecture", "")),
            os=str(obj.get("os", "")),
            variant=str(obj.get("variant", "")),
            created=str(obj.get("created", "")),
            user=str(c.get("User", "") or ""),
            env=strs(c.get("Env")),
            entrypoint=strs(c.get("Entrypoint")),
            cmd=strs(c.get("Cmd")),
            working_dir=str(c.get("WorkingDir", "") or ""),
            labels=tuple(sorted((str(k), str(v)) for k, v in (c.get("Labels") or {}).items())),
            exposed_ports=tuple(sorted(str(p) for p in (c.get("ExposedPorts") or {}))),
            volumes=tuple(sorted(str(p) for p in (c.get("Volumes") or {}))),
            healthcheck=bool(c.get("Healthcheck")),
            history=tuple(
                HistoryEntry(
                    created=str(h.get("created", "")),
                    created_by=str(h.get("created_by", "")),
                    comment=str(h.get("comment", "")),
                    empty_layer=bool(h.get("empty_layer", False)),
                )
                for h in hist
                if isinstance(h, dict)
            ),
            diff_ids=tuple(validate_digest(str(d)) for d in diff_ids),
            extra=obj,
        )
