"""Store attestations next to an image the way cosign does, and find them again.

cosign ``attest`` layout (``pkg/oci/remote``, ``pkg/cosign/attestation``): an OCI image manifest tagged
``sha256-<hex>.att`` in the image's repository (or OCI layout) whose layers are DSSE envelopes (media type
``application/vnd.dsse.envelope.v1+json``), one per attestation, each annotated with its ``predicateType``;
a second attestation appends a layer. With ``referrer=True`` the envelope is also pushed as an OCI 1.1
referrer (``subject`` = the image, ``artifactType`` the DSSE media type). The storage helpers of
:mod:`lockgate.trust.image` (signature images, referrer manifests) are reused so both layouts are written
identically to signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgate.attest.dsse import ENVELOPE_MEDIA_TYPE, Envelope
from lockgate.config import Limits
from lockgate.errors import InputError, IntegrityError, NotFoundError
from lockgate.oci.image import ImageSource, read_blob
from lockgate.oci.model import ANNOTATION_REF_NAME as REF_NAME
from lockgate.oci.model import OCI_CONFIG, OCI_MANIFEST, Descriptor, Manifest, sha256_digest
from lockgate.oci.registry.options import RegistryOptions
from lockgate.oci.targets import OCI, REGISTRY, Target, open_destination, open_source, parse_target
from lockgate.trust import image as _img

if TYPE_CHECKING:
    from lockgate.oci.registry.client import RegistryClient

PREDICATE_ANNOTATION = "predicateType"
MAX_ATTESTATION_BYTES = 32 * 1024 * 1024


def attestation_tag(digest: str) -> str:
    """cosign's attestation tag for a manifest digest: ``sha256-<hex>.att``."""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}-{hexpart}.att"


@dataclass(frozen=True, slots=True)
class StoredAttestation:
    """An envelope found next to an image: where, its layer descriptor, and its raw bytes."""

    source: str
    """``tag`` or ``referrer``."""
    layer: Descriptor
    data: bytes = b""
    error: str = ""


def resolve_image(target: Target, options: RegistryOptions | None, limits: Limits) -> str:
    """The manifest digest ``target`` names (checked against a pinned digest)."""
    if target.transport not in (REGISTRY, OCI):
        raise InputError(f"attestations live in registries and oci: layouts, not {target.transport}")
    src = open_source(target, options, limits=limits)
    try:
        raw, _mt = src.resolve()
    finally:
        src.close()
    digest = sha256_digest(raw)
    pinned = target.reference.digest if target.reference is not None else None
    if pinned and pinned != digest:
        raise IntegrityError(f"registry returned {digest} for {target.reference}")
    return digest


def attach_attestation(
    target_text: str,
    envelope: Envelope,
    predicate_type: str,
    *,
    tag_layout: bool = True,
    referrer: bool = False,
    replace: bool = False,
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
) -> tuple[str, list[str]]:
    """Attach ``envelope`` to the image; returns (image digest, where it was stored).

    ``replace`` drops earlier ``.att`` layers of the same predicate type (cosign ``attest --replace``).
    """
    limits = limits or Limits()
    if not tag_layout and not referrer:
        raise InputError("nowhere to store the attestation: enable the .att tag or --referrer")
    target = parse_target(target_text)
    digest = resolve_image(target, options, limits)
    data = envelope.to_json()
    layer = Descriptor(
        media_type=ENVELOPE_MEDIA_TYPE,
        digest=sha256_digest(data),
        size=len(data),
        annotations=((PREDICATE_ANNOTATION, predicate_type),),
    )
    where = []
    if tag_layout:
        att_target = _img._with_tag(target, attestation_tag(digest))
        layers = _img._existing_sig_layers(att_target, options, limits)
        if replace:
            layers = [d for d in layers if d.annotation(PREDICATE_ANNOTATION) != predicate_type]
        if all(d.digest != layer.digest for d in layers):
            layers.append(layer)
        if len(layers) > limits.max_signatures:
            raise InputError(f"{att_target} would hold {len(layers)} attestations (limit {limits.max_signatures})")
        dst = open_destination(att_target, options, limits=limits)
        try:
            _img._put(dst, data, ENVELOPE_MEDIA_TYPE)
            config = _img._put(dst, _img._sig_config(layers), OCI_CONFIG)
            dst.put_manifest(_img._manifest(config, layers), OCI_MANIFEST, attestation_tag(digest))
            dst.commit()
        finally:
            dst.close()
        where.append(str(att_target))
    if referrer:
        where.append(
            _img._write_referrer_manifest(
                target,
                digest,
                options,
                artifact_type=ENVELOPE_MEDIA_TYPE,
                blobs=[(data, ENVELOPE_MEDIA_TYPE, ((PREDICATE_ANNOTATION, predicate_type),))],
                annotations={PREDICATE_ANNOTATION: predicate_type},
            )
        )
    return digest, where


def _referrer_layers(base: ImageSource, target: Target, digest: str, limits: Limits) -> list[Descriptor]:
    manifests: list[Descriptor] = []
    if target.transport == REGISTRY:
        client = getattr(base, "client", None)
        assert target.reference is not None
        if client is not None:
            try:
                manifests = [
                    d
                    for d in client.referrers(target.reference.repository, digest, None)
                    if d.artifact_type in ("", ENVELOPE_MEDIA_TYPE)
                ]
            except (InputError, NotFoundError):
                manifests = []
    else:
        entries = getattr(base, "entries", None)
        if entries is not None:
            # layouts may not record artifactType in index.json: untagged manifests are read and checked
            manifests = [
                d
                for d in entries()
                if d.media_type == OCI_MANIFEST
                and (d.artifact_type == ENVELOPE_MEDIA_TYPE or (not d.artifact_type and not d.annotation(REF_NAME)))
            ]
    out: list[Descriptor] = []
    for m_desc in manifests[: limits.max_signatures]:
        try:
            raw, mt = base.get_manifest(m_desc.digest)
            m = Manifest.parse(raw, mt, limits.max_layers)
        except (InputError, NotFoundError):
            continue
        if m.subject is None or m.subject.digest != digest or m.artifact_type != ENVELOPE_MEDIA_TYPE:
            continue
        out.extend(d for d in m.layers if d.media_type == ENVELOPE_MEDIA_TYPE)
    return out


def find_attestations(
    target_text: str,
    *,
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
    client: RegistryClient | None = None,
) -> tuple[str, list[StoredAttestation]]:
    """The image digest and every DSSE envelope stored for it (``.att`` tag and referrers), read in full.

    Unreadable layers come back with ``error`` set rather than raising, so one bad layer does not hide others.
    In a registry one client serves the image, the ``.att`` tag, the referrers and the blobs; pass ``client``
    (for that registry) to reuse a warm connection across many verifications.
    """
    limits = limits or Limits()
    target = parse_target(target_text)
    if target.transport not in (REGISTRY, OCI):
        raise InputError(f"attestations live in registries and oci: layouts, not {target.transport}")
    found: list[StoredAttestation] = []
    opened: list[ImageSource] = []
    try:
        if client is not None and target.transport == REGISTRY:
            from lockgate.oci.registry.images import RegistrySource

            assert target.reference is not None
            src: ImageSource = RegistrySource(target.reference, client=client)
        else:
            src = open_source(target, options, limits=limits)
        opened.append(src)
        digest = sha256_digest(src.resolve()[0])
        pinned = target.reference.digest if target.reference is not None else None
        if pinned and pinned != digest:
            raise IntegrityError(f"registry returned {digest} for {target.reference}")
        layers: list[tuple[str, Descriptor, ImageSource]] = []
        try:
            if target.transport == REGISTRY:
                assert target.reference is not None
                raw, mt, _ = src.client.get_manifest(target.reference.repository, attestation_tag(digest))  # type: ignore[attr-defined]
                att_store: ImageSource = src
            else:
                att_store = open_source(_img._with_tag(target, attestation_tag(digest)), options, limits=limits)
                opened.append(att_store)
                raw, mt = att_store.resolve()
            layers += [("tag", d, att_store) for d in Manifest.parse(raw, mt, limits.max_layers).layers]
        except NotFoundError:
            pass
        if target.transport == OCI:
            base = open_source(_img._with_tag(target, None), options, limits=limits)
            opened.append(base)
        else:
            base = src
        layers += [("referrer", d, base) for d in _referrer_layers(base, target, digest, limits)]
        seen: set[tuple[str, str]] = set()
        for kind, d, store in layers[: limits.max_signatures]:
            if (kind, d.digest) in seen:
                continue
            seen.add((kind, d.digest))
            if d.media_type != ENVELOPE_MEDIA_TYPE:
                found.append(StoredAttestation(kind, d, error=f"layer media type {d.media_type!r} is not DSSE"))
                continue
            try:
                found.append(StoredAttestation(kind, d, read_blob(store, d, MAX_ATTESTATION_BYTES)))
            except (InputError, IntegrityError, NotFoundError) as e:
                found.append(StoredAttestation(kind, d, error=str(e)))
    finally:
        for s in opened:
            s.close()
    return digest, found


def predicate_types(found: Sequence[StoredAttestation]) -> list[str]:
    """The ``predicateType`` annotations of ``found`` (for messages)."""
    return [a.layer.annotation(PREDICATE_ANNOTATION) or "" for a in found]
