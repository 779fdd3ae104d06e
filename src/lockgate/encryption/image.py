"""Encrypt, decrypt and re-wrap images between any :class:`ImageSource` and :class:`ImageDestination`.

Each operation builds a *rewritten source*: a wrapper whose manifest shows the result (encrypted or
plain layer descriptors) and whose ``open_blob`` serves layers staged in a private directory under the
cache dir. Plaintext is staged and published only after its HMAC and digest verified, and every layer
is staged before the destination is opened, so a wrong key, tampering or truncation leaves nothing
behind. The copy itself is :func:`lockgate.oci.copy.copy_image`, so every transport works unchanged.
Only the manifest of the chosen platform is rewritten; configs and indexes are never encrypted.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ParamSpec

from lockgate.config import Limits
from lockgate.encryption import annotations as ann
from lockgate.encryption import keywrap
from lockgate.encryption.cipher import PrivateOptions, PublicOptions, decrypt_stream, encrypt_stream
from lockgate.encryption.keys import DecryptionKey, Recipient
from lockgate.errors import ConfigError, InputError, IntegrityError
from lockgate.oci.image import ImageDestination, ImageSource
from lockgate.oci.model import (
    DOCKER_MANIFEST,
    INDEX_TYPES,
    OCI_MANIFEST,
    Descriptor,
    Manifest,
    Platform,
    layer_compression,
    sha256_digest,
)

DestinationLike = ImageDestination | Callable[[], ImageDestination]
_P = ParamSpec("_P")


def _owns_source(fn: Callable[_P, RewrittenSource]) -> Callable[_P, RewrittenSource]:
    """The wrapper owns its source (first argument): close it when building the wrapper fails."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> RewrittenSource:
        try:
            return fn(*args, **kwargs)
        except BaseException:
            source = args[0] if args else kwargs.get("source", kwargs.get("src"))
            if isinstance(source, ImageSource):
                source.close()
            raise

    return wrapper


class Staging:
    """A private (0700) directory under the cache dir for layers in flight; removed on cleanup."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        from lockgate._internal.dirs import cache_dir as default_cache_dir

        base = (cache_dir or default_cache_dir()) / "encryption"
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = Path(tempfile.mkdtemp(prefix="staging-", dir=base))

    def new_file(self) -> tuple[BinaryIO, Path]:
        fd, name = tempfile.mkstemp(dir=self.path, prefix="layer-")
        return os.fdopen(fd, "wb"), Path(name)

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@dataclass(slots=True)
class _Staged:
    desc: Descriptor
    path: Path | None = None
    produce: Callable[[], Path] | None = None

    def file(self) -> Path:
        if self.path is None:
            assert self.produce is not None
            self.path = self.produce()
        return self.path


class RewrittenSource:
    """An :class:`ImageSource` showing a rewritten manifest over ``inner``; owns ``inner`` (closes it)."""

    def __init__(
        self, inner: ImageSource, raw: bytes, blobs: dict[str, _Staged], staging: Staging, layers: int
    ) -> None:
        self.inner = inner
        self.raw = raw
        self.blobs = blobs
        self.staging = staging
        self.changed_layers = layers

    @property
    def reference(self) -> str:
        return self.inner.reference

    @property
    def digest(self) -> str:
        return sha256_digest(self.raw)

    def resolve(self) -> tuple[bytes, str]:
        return self.raw, OCI_MANIFEST

    def get_manifest(self, digest: str) -> tuple[bytes, str]:
        if digest == self.digest:
            return self.raw, OCI_MANIFEST
        return self.inner.get_manifest(digest)

    def open_blob(self, desc: Descriptor) -> BinaryIO:
        staged = self.blobs.get(desc.digest)
        if staged is None:
            return self.inner.open_blob(desc)
        path = staged.file()
        if path.stat().st_size != staged.desc.size:
            raise IntegrityError(f"staged layer {desc.digest} changed size")
        # digest computed while this process wrote the file into its private (0700) staging dir
        return path.open("rb")

    def prepare(self) -> None:
        """Stage (and verify) every rewritten layer now, before anything is written anywhere."""
        for staged in self.blobs.values():
            staged.file()

    def close(self) -> None:
        try:
            self.staging.cleanup()
        finally:
            self.inner.close()

    def __enter__(self) -> RewrittenSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- helpers -----------------------------------------------------------------------------------
def _select(src: ImageSource, platform: Platform | None, limits: Limits) -> tuple[dict[str, Any], Manifest]:
    """The chosen platform's manifest as a JSON object (to rewrite) and parsed (``.raw`` = original bytes)."""
    from lockgate.oci.copy import select_manifest, to_oci_manifest

    raw, media_type = src.resolve()
    sel = select_manifest(src, raw, media_type, platform or Platform(), limits)
    if sel.media_type in INDEX_TYPES:
        raise InputError("index without an image manifest")
    raw = sel.raw
    if sel.media_type == DOCKER_MANIFEST:
        raw = to_oci_manifest(raw)  # encrypted media types exist only for OCI manifests (as skopeo converts)
    obj = json.loads(raw)
    obj["mediaType"] = OCI_MANIFEST
    manifest = Manifest.parse(sel.raw if sel.media_type != DOCKER_MANIFEST else raw, OCI_MANIFEST, limits.max_layers)
    return obj, manifest


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _set_desc(old: dict[str, Any], media_type: str, digest: str, size: int, annotations: dict[str, str]) -> None:
    old["mediaType"], old["digest"], old["size"] = media_type, digest, size
    if annotations:
        old["annotations"] = annotations
    else:
        old.pop("annotations", None)


def _b64json(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pubopts(desc: Descriptor, what: str) -> PublicOptions:
    value = desc.annotation(ann.PUBOPTS)
    if not value:
        raise InputError(f"{what} has no {ann.PUBOPTS} annotation (cipher and HMAC unknown)")
    blobs = ann.split_blobs(value, ann.PUBOPTS)
    if len(blobs) != 1:
        raise InputError(f"{what}: malformed {ann.PUBOPTS} annotation")
    return PublicOptions.from_json(blobs[0])


def _foreign(desc: Descriptor) -> bool:
    return bool(desc.urls)


def _selected(index: int, count: int, layers: Iterable[int] | None) -> bool:
    if layers is None:
        return True
    return any(i == index or (i < 0 and count + i == index) for i in layers)


def _check_destination(dst: ImageDestination) -> None:
    from lockgate.oci.archive import DockerArchiveDestination

    if isinstance(dst, DockerArchiveDestination):
        raise ConfigError(
            "docker-archive cannot hold encrypted layers (Docker manifests have no encrypted media types); "
            "write to oci:, oci-archive: or a registry"
        )


def _link_into_layout(source: RewrittenSource, dst: ImageDestination) -> None:
    """OCI layout on the same file system: hard-link staged layers into place instead of copying them.

    The staged files are complete and were hashed while written; the link appears under its final name
    atomically (link to a temp name, then rename), exactly as ``put_blob`` would publish a copy.
    """
    from lockgate.oci.layout import LayoutDestination, blob_name

    if not isinstance(dst, LayoutDestination):
        return
    for digest, staged in source.blobs.items():
        if dst.has_blob(staged.desc):
            continue
        final = dst.root / blob_name(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".link-{final.name}")
        try:
            os.link(staged.file(), tmp)
            os.chmod(tmp, 0o644)  # noqa: PTH101
            tmp.replace(final)
        except OSError:
            tmp.unlink(missing_ok=True)
            return  # other file system or no links: copy_image copies instead


def _publish(source: RewrittenSource, dst: DestinationLike, limits: Limits, encrypted: bool) -> str:
    from lockgate.oci.copy import copy_image

    source.prepare()
    destination = dst() if callable(dst) and not isinstance(dst, ImageDestination) else dst
    assert isinstance(destination, ImageDestination)
    try:
        if encrypted:
            _check_destination(destination)
        _link_into_layout(source, destination)
        return copy_image(source, destination, limits=limits)
    finally:
        if destination is not dst:
            destination.close()


# -- encryption --------------------------------------------------------------------------------
@_owns_source
def encrypting_source(
    src: ImageSource,
    recipients: Sequence[Recipient],
    *,
    layers: Iterable[int] | None = None,
    platform: Platform | None = None,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
) -> RewrittenSource:
    """Encrypt the chosen layers of ``src`` (all by default; negative indexes count from the end)."""
    limits = limits or Limits()
    if not recipients:
        raise ConfigError("encryption needs at least one --recipient")
    layers = list(layers) if layers is not None else None
    obj, manifest = _select(src, platform, limits)
    staging = Staging(cache_dir)
    blobs: dict[str, _Staged] = {}
    try:
        count = len(manifest.layers)
        for i, desc in enumerate(manifest.layers):
            if not _selected(i, count, layers) or _foreign(desc):
                continue
            if ann.is_encrypted_type(desc.media_type):
                if layers is not None:
                    raise ConfigError(f"layer {i} is already encrypted; use --add-recipient to add recipients")
                continue
            layer_compression(desc.media_type)  # refuses blobs that are not layers
            opts = PrivateOptions.generate(desc.digest)
            f, path = staging.new_file()
            with f, src.open_blob(desc) as reader:
                # the source's reader verifies size and digest at EOF, so the plaintext is not hashed twice
                res = encrypt_stream(reader, f, opts, limits.max_layer_bytes, hash_input=False)
            annotations = dict(desc.annotations)
            for key, new in keywrap.wrap(recipients, opts).items():
                annotations[key] = ann.join_blobs(new)
            annotations[ann.PUBOPTS] = _b64json(PublicOptions(res.mac).to_json())
            out = Descriptor(ann.encrypted_type(desc.media_type), res.out_digest, res.size)
            _set_desc(obj["layers"][i], out.media_type, out.digest, out.size, annotations)
            blobs[out.digest] = _Staged(out, path)
        if not blobs:
            raise ConfigError("nothing to encrypt: the selected layers are already encrypted or not present")
        return RewrittenSource(src, _dump(obj), blobs, staging, len(blobs))
    except BaseException:
        staging.cleanup()
        raise


def encrypt_image(
    src: ImageSource,
    dst: DestinationLike,
    recipients: Sequence[Recipient],
    *,
    layers: Iterable[int] | None = None,
    platform: Platform | None = None,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
) -> str:
    """Encrypt ``src`` for ``recipients`` into ``dst``; return the new manifest digest.

    ``dst`` may be a callable opening the destination, so nothing is created before all layers are
    encrypted. ``src`` is closed.
    """
    limits = limits or Limits()
    with encrypting_source(src, recipients, layers=layers, platform=platform, cache_dir=cache_dir, limits=limits) as s:
        return _publish(s, dst, limits, encrypted=True)


# -- decryption --------------------------------------------------------------------------------
def _decrypt_to_staging(
    src: ImageSource, staging: Staging, desc: Descriptor, opts: PrivateOptions, pub: PublicOptions, limits: Limits
) -> Path:
    f, path = staging.new_file()
    try:
        with f, src.open_blob(desc) as reader:
            decrypt_stream(reader, f, opts, pub.hmac, limits.max_layer_bytes, f"layer {desc.digest}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@_owns_source
def decrypting_source(
    source: ImageSource,
    keys: Sequence[DecryptionKey],
    *,
    platform: Platform | None = None,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
    strict: bool = True,
) -> RewrittenSource:
    """A source whose manifest shows plain layer media types and digests and whose ``open_blob`` yields
    decrypted layers, each staged and verified (HMAC and digest) before the first byte is served.

    Keys are unwrapped up front (so a wrong key fails at once); layer data is decrypted on first use.
    With ``strict=False`` layers no key opens stay encrypted in the manifest (scanners report them as
    coverage gaps). The wrapper owns ``source`` and closes it.
    """
    limits = limits or Limits()
    obj, manifest = _select(source, platform, limits)
    staging = Staging(cache_dir)
    blobs: dict[str, _Staged] = {}
    try:
        for i, desc in enumerate(manifest.layers):
            if not ann.is_encrypted_type(desc.media_type):
                continue
            what = f"layer {i} ({desc.digest})"
            try:
                opts = keywrap.unwrap(dict(desc.annotations), keys, what)
            except IntegrityError:
                if strict:
                    raise
                continue
            pub = _pubopts(desc, what)
            out = Descriptor(ann.plain_type(desc.media_type), opts.digest, desc.size)

            def produce(d: Descriptor = desc, o: PrivateOptions = opts, p: PublicOptions = pub) -> Path:
                return _decrypt_to_staging(source, staging, d, o, p, limits)

            plain_ann = ann.strip_encryption(dict(desc.annotations))
            _set_desc(obj["layers"][i], out.media_type, out.digest, out.size, plain_ann)
            blobs[out.digest] = _Staged(out, produce=produce)
        raw = _dump(obj) if blobs else manifest.raw  # nothing encrypted (or readable): the manifest as it is
        return RewrittenSource(source, raw, blobs, staging, len(blobs))
    except BaseException:
        staging.cleanup()
        raise


def decrypt_image(
    src: ImageSource,
    dst: DestinationLike,
    keys: Sequence[DecryptionKey],
    *,
    platform: Platform | None = None,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
) -> str:
    """Decrypt every encrypted layer of ``src`` into ``dst``; return the manifest digest written."""
    limits = limits or Limits()
    if not keys:
        raise ConfigError("decryption needs at least one --key")
    with decrypting_source(src, keys, platform=platform, cache_dir=cache_dir, limits=limits) as s:
        if not s.blobs:
            raise ConfigError(f"{src.reference} has no encrypted layers")
        return _publish(s, dst, limits, encrypted=False)


# -- recipient management ----------------------------------------------------------------------
def _describe(r: Recipient) -> str:
    from lockgate.encryption.keys import JweRecipient, PgpRecipient, Pkcs7Recipient, Pkcs11Recipient

    if isinstance(r, JweRecipient | Pkcs7Recipient):
        return f"{'jwe' if isinstance(r, JweRecipient) else 'pkcs7'}:{r.source}"
    if isinstance(r, PgpRecipient):
        return f"pgp:{r.key_id}"
    if isinstance(r, Pkcs11Recipient):
        return r.uri.split("?", 1)[0]  # never the query (it may hold the PIN)
    return f"provider:{r.name}"


class _Removal:
    """The recipients to remove, prepared once (key ids resolved), matched per layer, per scheme."""

    def __init__(self, remove: Sequence[Recipient]) -> None:
        from lockgate.encryption.keys import JweRecipient, PgpRecipient, Pkcs7Recipient, Pkcs11Recipient

        self.remove = list(remove)
        self.found: set[int] = set()
        self.jwe = [(i, r) for i, r in enumerate(remove) if isinstance(r, JweRecipient)]
        self.pkcs7 = [(i, r) for i, r in enumerate(remove) if isinstance(r, Pkcs7Recipient)]
        self.pkcs11 = [(i, r) for i, r in enumerate(remove) if isinstance(r, Pkcs11Recipient)]
        self.pgp: list[tuple[int, set[str]]] = []
        for i, r in enumerate(remove):
            if isinstance(r, PgpRecipient):
                from lockgate.encryption import pgp

                ids = pgp.resolve_key_ids(r.key_id)
                if not ids:
                    raise ConfigError(f"pgp:{r.key_id} is neither a key id/fingerprint nor a key in gpg's keyring")
                self.pgp.append((i, ids))
        other = len(remove) - len(self.jwe) - len(self.pkcs7) - len(self.pkcs11) - len(self.pgp)
        if other:
            raise ConfigError("--remove-recipient supports jwe:, pkcs7:, pgp: and pkcs11: recipients")
        for _, r in self.pkcs11:
            if not r.uri.startswith("pkcs11:"):
                raise ConfigError(
                    f"{r.uri}: ocicrypt's PKCS#11 wrapped keys record no key identity; name the recipient by "
                    "its token URI (pkcs11:...), whose private key recognises its entry"
                )

    def _blobs(
        self, annotations: dict[str, str], name: str, fn: Callable[[bytes], tuple[bytes | None, set[int]]]
    ) -> None:
        value = annotations.get(name)
        if not value:
            return
        kept: list[bytes] = []
        for blob in ann.split_blobs(value, name):
            new, found = fn(blob)
            self.found |= found
            if new is not None:
                kept.append(new)
        if kept:
            annotations[name] = ann.join_blobs(kept)
        else:
            del annotations[name]

    def _jwe(self, blob: bytes) -> tuple[bytes | None, set[int]]:
        from lockgate.encryption import jwe

        found: set[int] = set()
        current: bytes | None = blob
        for i, r in self.jwe:
            if current is None:
                break
            current, n = jwe.remove_recipients(current, {jwe.thumbprint(r.key)}, [r.private] if r.private else [])
            if n:
                found.add(i)
        return current, found

    def apply(self, annotations: dict[str, str], what: str) -> None:
        """Remove the recipients' wrapped keys from one layer's annotations; refuse to leave none."""
        if self.jwe:
            self._blobs(annotations, ann.JWE, self._jwe)
        if self.pkcs7:
            from lockgate.encryption import pkcs7

            certs = [r.cert for _, r in self.pkcs7]
            idx = [i for i, _ in self.pkcs7]

            def p7(blob: bytes) -> tuple[bytes | None, set[int]]:
                new, found = pkcs7.remove_recipients(blob, certs)
                return new, {idx[j] for j in found}

            self._blobs(annotations, ann.PKCS7, p7)
        if self.pgp:
            from lockgate.encryption import pgp

            ids = [s for _, s in self.pgp]
            pidx = [i for i, _ in self.pgp]

            def gpg(blob: bytes) -> tuple[bytes | None, set[int]]:
                new, found = pgp.remove_recipients(blob, ids)
                return new, {pidx[j] for j in found}

            self._blobs(annotations, ann.PGP, gpg)
        if self.pkcs11:
            from lockgate.encryption import pkcs11

            uris = [r.uri for _, r in self.pkcs11]
            kidx = [i for i, _ in self.pkcs11]

            def p11(blob: bytes) -> tuple[bytes | None, set[int]]:
                new, found = pkcs11.remove_recipients(blob, uris)
                return new, {kidx[j] for j in found}

            self._blobs(annotations, ann.PKCS11, p11)
        if not ann.key_annotations(annotations):
            raise ConfigError(f"removing these recipients would leave {what} without any recipient")

    def check(self) -> None:
        """Every recipient to remove must have been found in at least one layer."""
        missing = [_describe(r) for i, r in enumerate(self.remove) if i not in self.found]
        if missing:
            raise ConfigError(
                f"recipient(s) not found in any layer: {', '.join(missing)} "
                "(name kid-less JWE recipients by their private key)"
            )


@_owns_source
def rewrapping_source(
    src: ImageSource,
    keys: Sequence[DecryptionKey],
    *,
    add: Sequence[Recipient] = (),
    remove: Sequence[Recipient] = (),
    platform: Platform | None = None,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
) -> RewrittenSource:
    """Add and remove recipients of an encrypted image without touching layer data.

    Adding needs a key that unwraps each layer key now. Removing matches JWE recipients by key id
    (``kid``, which lockgate writes) or, for recipients without one (skopeo's), by trial with the removed
    recipient's private key (``jwe:PRIV.pem``); PKCS#7 recipients by their certificate's issuer and serial
    number (``pkcs7:CERT.pem``); OpenPGP recipients by the key ids of their session-key packets
    (``pgp:KEYID``, a fingerprint, or anything gpg's keyring resolves to key ids); PKCS#11 recipients by
    trial decryption with their token key (``pkcs11:URI``). Every named recipient must be found, and no
    layer may be left without a recipient.
    """
    limits = limits or Limits()
    if not add and not remove:
        raise ConfigError("nothing to change: give --add-recipient or --remove-recipient")
    removal = _Removal(remove) if remove else None
    obj, manifest = _select(src, platform, limits)
    changed = 0
    for i, desc in enumerate(manifest.layers):
        if not ann.is_encrypted_type(desc.media_type):
            continue
        what = f"layer {i} ({desc.digest})"
        annotations = dict(desc.annotations)
        if add:
            opts = keywrap.unwrap(annotations, keys, what)
            for key, new in keywrap.wrap(add, opts).items():
                old = annotations.get(key)
                annotations[key] = f"{old},{ann.join_blobs(new)}" if old else ann.join_blobs(new)
        if removal is not None:
            removal.apply(annotations, what)
        _set_desc(obj["layers"][i], desc.media_type, desc.digest, desc.size, annotations)
        changed += 1
    if not changed:
        raise ConfigError(f"{src.reference} has no encrypted layers")
    if removal is not None:
        removal.check()
    return RewrittenSource(src, _dump(obj), {}, Staging(cache_dir), changed)


def rewrap_image(
    src: ImageSource,
    dst: DestinationLike,
    keys: Sequence[DecryptionKey],
    *,
    add: Sequence[Recipient] = (),
    remove: Sequence[Recipient] = (),
    platform: Platform | None = None,
    cache_dir: Path | None = None,
    limits: Limits | None = None,
) -> str:
    """Write ``src`` to ``dst`` with recipients added/removed; layer blobs are copied unchanged."""
    limits = limits or Limits()
    with rewrapping_source(
        src, keys, add=add, remove=remove, platform=platform, cache_dir=cache_dir, limits=limits
    ) as s:
        return _publish(s, dst, limits, encrypted=True)
