"""Sign and verify images the way cosign stores key-based signatures.

Storage (cosign ``pkg/oci/remote`` and ``pkg/oci/static``): an OCI image manifest tagged
``sha256-<hex>.sig`` in the image's own repository (or OCI layout), whose config is a tiny image config
and whose layers are the simple-signing payloads (media type
``application/vnd.dev.cosign.simplesigning.v1+json``), one layer per signature, each with the base64
signature in the annotation ``dev.cosignproject.cosign/signature``. A second signer appends a layer.
With ``referrer=True`` the same manifest is also written as an OCI 1.1 referrer (``subject`` = the image,
``artifactType`` ``application/vnd.dev.cosign.artifact.sig.v1+json``), as cosign's
``--registry-referrers-mode=oci-1-1`` does.

``cosign verify --key K.pub REF`` (add ``--insecure-ignore-tlog --insecure-ignore-sct`` for signatures not
uploaded to Rekor) checks what this module writes; lockgate verifies what cosign writes the same way.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lockgate import __version__
from lockgate.config import Limits
from lockgate.errors import ConfigError, InputError, IntegrityError, NotFoundError
from lockgate.oci.image import ImageDestination, ImageSource, read_blob
from lockgate.oci.model import (
    ANNOTATION_REF_NAME,
    INDEX_TYPES,
    OCI_CONFIG,
    OCI_EMPTY,
    OCI_MANIFEST,
    Descriptor,
    Index,
    Manifest,
    sha256_digest,
    sniff_media_type,
)
from lockgate.oci.registry.options import RegistryOptions
from lockgate.oci.targets import OCI, REGISTRY, Target, open_destination, open_source, parse_target
from lockgate.trust.keyless import BUNDLE_MEDIA_TYPE, SIGN_PREDICATE
from lockgate.trust.keys.model import PublicKey, Signer
from lockgate.trust.revocation import RevocationList
from lockgate.trust.simplesigning import MEDIA_TYPE, make_payload, parse_payload, same_repository
from lockgate.trust.timestamp import ANNOTATION as TIMESTAMP_ANNOTATION
from lockgate.trust.timestamp import TsaTrust
from lockgate.trust.x509chain import CERTIFICATE_ANNOTATION, CertTrust

SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
SIG_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"
_BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"


def signature_tag(digest: str) -> str:
    """cosign's signature tag for a manifest digest: ``sha256-<hex>.sig``."""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}-{hexpart}.sig"


def default_identity(target: Target) -> str:
    """The docker-reference lockgate signs for a target: ``registry/repository`` (as cosign writes it), or the
    layout directory's absolute path (use ``identity=`` to sign a layout for its future registry name)."""
    if target.transport == REGISTRY:
        assert target.reference is not None
        if target.reference.registry == "docker.io":
            # cosign writes go-containerregistry's Repository.Name(), which spells Docker Hub this way
            return f"index.docker.io/{target.reference.repository}"
        return target.reference.name
    assert target.path is not None
    return str(target.path.resolve())


def _with_tag(target: Target, tag: str | None) -> Target:
    if target.transport == REGISTRY:
        assert target.reference is not None
        ref = target.reference.with_tag(tag) if tag else target.reference
        return Target(REGISTRY, reference=ref)
    if target.transport == OCI:
        return Target(OCI, path=target.path, tag=tag)
    raise InputError(f"signatures can be stored in registries and OCI layouts, not {target.transport}")


def _sig_config(layers: Sequence[Descriptor]) -> bytes:
    """The config blob cosign's signature images carry (go-containerregistry's empty image + layers)."""
    doc = {
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"} for _ in layers],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [d.digest for d in layers]},
        "config": {},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _manifest(config: Descriptor, layers: Sequence[Descriptor], extra: dict[str, Any] | None = None) -> bytes:
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if extra and "artifactType" in extra:
        doc["artifactType"] = extra["artifactType"]
    doc["config"] = config.to_dict()
    doc["layers"] = [d.to_dict() for d in layers]
    if extra and "subject" in extra:
        doc["subject"] = extra["subject"]
    if extra and "annotations" in extra:
        doc["annotations"] = extra["annotations"]
    return json.dumps(doc, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class SignResult:
    """One signature written."""

    digest: str
    """The signed manifest digest."""
    key_id: str
    stored_at: str
    """Where the signature manifest lives (``...:sha256-<hex>.sig`` or ``...@<referrer digest>``)."""


def _check_pinned(target: Target, digest: str) -> None:
    pinned = target.reference.digest if target.reference is not None else None
    if pinned and pinned != digest:
        raise IntegrityError(f"registry returned {digest} for {target.reference}")


def _resolve(src: ImageSource) -> tuple[bytes, str, str]:
    raw, mt = src.resolve()
    mt = sniff_media_type(raw, mt)
    return raw, mt, sha256_digest(raw)


def sign_image(
    target_text: str,
    signers: Sequence[Signer],
    *,
    annotations: dict[str, str] | None = None,
    identity: str | None = None,
    all_platforms: bool = False,
    referrer: bool = False,
    tag_layout: bool = True,
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
    tsa_url: str | None = None,
    tsa_ca_cert: Path | None = None,
    bundle: bool = False,
    certificate: Path | None = None,
    certificate_chain: Path | None = None,
) -> list[SignResult]:
    """Sign the manifest ``target_text`` resolves to (and each platform manifest with ``all_platforms``).

    ``bundle=True`` writes cosign v3's layout instead (a Sigstore bundle referrer; needs ``tsa_url``).
    """
    limits = limits or Limits()
    cert_annotations = _certificate_annotations(signers, certificate, certificate_chain)
    if bundle and not tsa_url:
        raise ConfigError("--bundle needs --tsa URL: without a transparency log the signed time comes from a TSA")
    target = parse_target(target_text)
    if target.transport not in (REGISTRY, OCI):
        raise InputError(f"cannot sign {target.transport} targets; copy the image to a registry or oci: layout")
    identity = identity or default_identity(target)
    src = open_source(target, options, limits=limits)
    try:
        raw, mt, digest = _resolve(src)
        digests = [digest]
        if all_platforms and mt in INDEX_TYPES:
            digests += [d.digest for d in Index.parse(raw, mt, limits.max_index_entries).manifests]
    finally:
        src.close()
    _check_pinned(target, digest)
    results: list[SignResult] = []
    optional: dict[str, Any] = dict(annotations or {})
    optional.setdefault("timestamp", int(time.time()))
    optional.setdefault("creator", f"lockgate {__version__}")
    for d in digests:
        if bundle:
            assert tsa_url is not None
            for s in signers:
                stored = _write_bundle(target, d, identity, s, tsa_url, tsa_ca_cert, options)
                results.append(SignResult(d, s.public_key.key_id, stored))
            continue
        payload = make_payload(identity, d, optional)
        layers = [_signature_layer(s, payload, tsa_url, tsa_ca_cert, cert_annotations) for s in signers]
        where = []
        if tag_layout:
            where.append(_append_tag_layout(target, d, payload, layers, options, limits))
        if referrer:
            where.append(_write_referrer(target, d, payload, layers, options))
        results.extend(SignResult(d, s.public_key.key_id, ", ".join(where)) for s in signers)
    return results


def _certificate_annotations(
    signers: Sequence[Signer], certificate: Path | None, chain: Path | None
) -> tuple[tuple[str, str], ...]:
    """cosign's certificate/chain annotations, after checking the certificate belongs to the signing key."""
    if certificate is None:
        if chain is not None:
            raise ConfigError("--certificate-chain needs --certificate")
        return ()
    from lockgate.trust.keys.model import key_id
    from lockgate.trust.x509chain import CHAIN_ANNOTATION, load_pem_certs

    if len(signers) != 1:
        raise ConfigError("--certificate works with exactly one --key")
    try:
        leaf_pem = certificate.read_bytes()
        chain_pem = chain.read_bytes() if chain is not None else b""
    except FileNotFoundError as e:
        raise ConfigError(f"certificate file {e.filename} not found") from None
    leaf = load_pem_certs(leaf_pem, str(certificate))[0]
    if chain is not None:
        load_pem_certs(chain_pem, str(chain))
    if key_id(leaf.public_key()) != signers[0].public_key.key_id:  # type: ignore[arg-type]
        raise ConfigError(f"certificate {certificate} does not belong to the signing key")
    ann = [(CERTIFICATE_ANNOTATION, leaf_pem.decode())]
    if chain is not None:
        ann.append((CHAIN_ANNOTATION, chain_pem.decode()))
    return tuple(ann)


def _signature_layer(
    signer: Signer,
    payload: bytes,
    tsa_url: str | None,
    tsa_ca_cert: Path | None,
    extra: tuple[tuple[str, str], ...] = (),
) -> Descriptor:
    sig = signer.sign(payload)
    ann = [(SIGNATURE_ANNOTATION, base64.b64encode(sig).decode()), *extra]
    if tsa_url:
        from lockgate.trust import timestamp

        tsr = timestamp.request_timestamp(tsa_url, sig, ca_cert=tsa_ca_cert)
        ann.append((timestamp.ANNOTATION, timestamp.annotation_value(tsr)))
    return Descriptor(media_type=MEDIA_TYPE, digest=sha256_digest(payload), size=len(payload), annotations=tuple(ann))


def _write_bundle(
    target: Target,
    digest: str,
    identity: str,
    signer: Signer,
    tsa_url: str,
    tsa_ca_cert: Path | None,
    options: RegistryOptions | None,
) -> str:
    from lockgate.trust import timestamp
    from lockgate.trust.bundle import assemble_bundle, make_statement, sign_statement

    statement = make_statement(identity, digest)
    sig = sign_statement(statement, signer)
    tsr = timestamp.request_timestamp(tsa_url, sig, ca_cert=tsa_ca_cert)
    raw = assemble_bundle(statement, signer.public_key.key_id, sig, tsr)
    return _write_referrer_manifest(
        target,
        digest,
        options,
        artifact_type=BUNDLE_MEDIA_TYPE,
        blobs=[(raw, BUNDLE_MEDIA_TYPE, ())],
        annotations={
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": SIGN_PREDICATE,
        },
    )


def _put(dst: ImageDestination, data: bytes, media_type: str) -> Descriptor:
    desc = Descriptor(media_type=media_type, digest=sha256_digest(data), size=len(data))
    if not dst.has_blob(desc):
        dst.put_blob(desc, io.BytesIO(data))
    return desc


def _existing_sig_layers(target: Target, options: RegistryOptions | None, limits: Limits) -> list[Descriptor]:
    try:
        src = open_source(target, options, limits=limits)
    except NotFoundError:
        return []
    try:
        raw, mt = src.resolve()
    except NotFoundError:
        return []
    finally:
        src.close()
    return list(Manifest.parse(raw, mt, limits.max_layers).layers)


def _append_tag_layout(
    target: Target,
    digest: str,
    payload: bytes,
    new_layers: list[Descriptor],
    options: RegistryOptions | None,
    limits: Limits,
) -> str:
    sig_target = _with_tag(target, signature_tag(digest))
    layers = _existing_sig_layers(sig_target, options, limits)
    have = {(d.digest, d.annotation(SIGNATURE_ANNOTATION)) for d in layers}
    layers += [d for d in new_layers if (d.digest, d.annotation(SIGNATURE_ANNOTATION)) not in have]
    if len(layers) > limits.max_signatures:
        raise InputError(f"{sig_target} would hold {len(layers)} signatures (limit {limits.max_signatures})")
    dst = open_destination(sig_target, options, limits=limits)
    try:
        _put(dst, payload, MEDIA_TYPE)
        config = _put(dst, _sig_config(layers), OCI_CONFIG)
        dst.put_manifest(_manifest(config, layers), OCI_MANIFEST, signature_tag(digest))
        dst.commit()
    finally:
        dst.close()
    return str(sig_target)


def _write_referrer(
    target: Target, digest: str, payload: bytes, layers: list[Descriptor], options: RegistryOptions | None
) -> str:
    return _write_referrer_manifest(
        target, digest, options, artifact_type=SIG_ARTIFACT_TYPE, blobs=[(payload, MEDIA_TYPE, None)], layers=layers
    )


def _write_referrer_manifest(
    target: Target,
    digest: str,
    options: RegistryOptions | None,
    *,
    artifact_type: str,
    blobs: list[tuple[bytes, str, tuple[tuple[str, str], ...] | None]],
    layers: list[Descriptor] | None = None,
    annotations: dict[str, str] | None = None,
) -> str:
    """Push ``blobs`` and a manifest with ``subject`` = ``digest`` (layers default to the blobs)."""
    base = _with_tag(target, None) if target.transport == OCI else target
    src = open_source(base, options)
    try:
        subj_raw, subj_mt = src.get_manifest(digest)
    finally:
        src.close()
    subject = Descriptor(media_type=sniff_media_type(subj_raw, subj_mt), digest=digest, size=len(subj_raw))
    dst = open_destination(base, options)
    try:
        put = [(_put(dst, data, mt), ann) for data, mt, ann in blobs]
        if layers is None:
            layers = [Descriptor(d.media_type, d.digest, d.size, annotations=ann or ()) for d, ann in put]
        config = _put(dst, b"{}", OCI_EMPTY)
        extra: dict[str, Any] = {"artifactType": artifact_type, "subject": subject.to_dict()}
        if annotations:
            extra["annotations"] = annotations
        raw = _manifest(config, layers, extra)
        if target.transport == REGISTRY:
            assert target.reference is not None
            client = getattr(dst, "client", None)
            if client is None or not hasattr(client, "add_referrer"):
                raise InputError("registry destination cannot push referrers")
            ref_digest = str(client.add_referrer(target.reference.repository, raw, OCI_MANIFEST))
            where = f"{target.reference.name}@{ref_digest}"
        else:
            ref_digest = dst.put_manifest(raw, OCI_MANIFEST, None)
            dst.commit()
            where = f"oci:{target.path}@{ref_digest}"
    finally:
        dst.close()
    return where


# -- verification ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The outcome for one signature layer."""

    layer_digest: str
    source: str
    """``tag`` or ``referrer``."""
    key_id: str = ""
    """The key that verified it (empty when none did)."""
    ok: bool = False
    reason: str = ""
    docker_reference: str = ""
    signed_at: datetime | None = None
    """Trusted signing time (a verified RFC 3161 timestamp), if any."""
    certificate: str = ""
    """SHA-256 fingerprint of the validated signing certificate, if the signature carried one."""


@dataclass(frozen=True, slots=True)
class ImageVerification:
    """Every signature found for one image digest and what became of it."""

    reference: str
    digest: str
    identity: str
    checks: tuple[SignatureCheck, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def verified_keys(self) -> tuple[str, ...]:
        """Distinct key IDs with at least one fully valid signature, in order found."""
        return tuple(dict.fromkeys(c.key_id for c in self.checks if c.ok))

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "identity": self.identity,
            "verified_keys": list(self.verified_keys),
            "signatures": [
                {
                    "layer": c.layer_digest,
                    "source": c.source,
                    "key_id": c.key_id,
                    "ok": c.ok,
                    "reason": c.reason,
                    "docker_reference": c.docker_reference,
                    "signed_at": c.signed_at.isoformat() if c.signed_at else None,
                    "certificate": c.certificate,
                }
                for c in self.checks
            ],
            "notes": list(self.notes),
        }


def _signature_layers(
    target: Target, digest: str, options: RegistryOptions | None, limits: Limits
) -> tuple[list[tuple[str, Descriptor, ImageSource]], list[ImageSource], list[str]]:
    """(source kind, layer, source to read it from) for the tag layout and referrers."""
    found: list[tuple[str, Descriptor, ImageSource]] = []
    opened: list[ImageSource] = []
    notes: list[str] = []
    sig_target = _with_tag(target, signature_tag(digest))
    try:
        src = open_source(sig_target, options, limits=limits)
        opened.append(src)
        raw, mt = src.resolve()
        for d in Manifest.parse(raw, mt, limits.max_layers).layers:
            found.append(("tag", d, src))
    except NotFoundError:
        pass
    base = open_source(_with_tag(target, None) if target.transport == OCI else target, options, limits=limits)
    opened.append(base)
    referrers = _referrers(base, target, digest, notes)
    if len(referrers) > limits.max_signatures:
        notes.append(f"{len(referrers)} referrers found; only the first {limits.max_signatures} were read")
        referrers = referrers[: limits.max_signatures]
    for ref_desc in referrers:
        try:
            raw, mt = base.get_manifest(ref_desc.digest)
            m = Manifest.parse(raw, mt, limits.max_layers)
        except (InputError, NotFoundError) as e:
            notes.append(f"referrer {ref_desc.digest}: {e}")
            continue
        if m.subject is None or m.subject.digest != digest:
            continue
        if BUNDLE_MEDIA_TYPE in (m.artifact_type, m.config.media_type):
            found.extend(("bundle", d, base) for d in m.layers if d.media_type.startswith(_BUNDLE_PREFIX))
            continue
        if SIG_ARTIFACT_TYPE not in (m.artifact_type, m.config.media_type):
            continue
        for d in m.layers:
            found.append(("referrer", d, base))
    return found, opened, notes


def _referrers(base: ImageSource, target: Target, digest: str, notes: list[str]) -> list[Descriptor]:
    if target.transport == REGISTRY:
        client = getattr(base, "client", None)
        assert target.reference is not None
        if client is None:
            return []
        try:
            found = client.referrers(target.reference.repository, digest, None)
            return [d for d in found if d.artifact_type in ("", SIG_ARTIFACT_TYPE, BUNDLE_MEDIA_TYPE)]
        except (InputError, NotFoundError) as e:
            notes.append(f"referrers: {e}")
            return []
    entries = getattr(base, "entries", None)
    if entries is None:
        return []
    return [
        d
        for d in entries()
        if d.media_type == OCI_MANIFEST
        and (
            d.artifact_type in (SIG_ARTIFACT_TYPE, BUNDLE_MEDIA_TYPE)
            or (not d.artifact_type and not d.annotation(ANNOTATION_REF_NAME))
        )
    ]


def verify_image(
    target_text: str,
    keys: Sequence[PublicKey],
    *,
    annotations: dict[str, str] | None = None,
    identity: str | None = None,
    mirrors: Sequence[str] = (),
    revocations: RevocationList | None = None,
    options: RegistryOptions | None = None,
    limits: Limits | None = None,
    tsa: TsaTrust | None = None,
    cert_trust: CertTrust | None = None,
) -> ImageVerification:
    """Check every signature of the image ``target_text`` names against ``keys``.

    A signature counts when it verifies with one of ``keys`` over its payload, the payload is a cosign
    simple-signing payload for this manifest digest, its docker-reference names the image's repository
    (or ``identity`` / one of ``mirrors``), it carries every ``annotations`` entry, and its key is not revoked.
    """
    limits = limits or Limits()
    target = parse_target(target_text)
    if target.transport not in (REGISTRY, OCI):
        raise InputError(f"cannot verify {target.transport} targets; use a registry reference or oci: layout")
    identity = identity or default_identity(target)
    src = open_source(target, options, limits=limits)
    try:
        _, _, digest = _resolve(src)
    finally:
        src.close()
    _check_pinned(target, digest)
    layers, opened, notes = _signature_layers(target, digest, options, limits)
    checks: list[SignatureCheck] = []
    try:
        if len(layers) > limits.max_signatures:
            notes.append(f"{len(layers)} signatures found; only the first {limits.max_signatures} were checked")
            layers = layers[: limits.max_signatures]
        for kind, desc, store in layers:
            checks.append(
                _check_layer(
                    kind, desc, store, digest, keys, identity, mirrors, annotations or {}, revocations, tsa, cert_trust
                )
            )
    finally:
        for s in opened:
            s.close()
    return ImageVerification(str(target), digest, identity, tuple(checks), tuple(notes))


def _check_layer(
    kind: str,
    desc: Descriptor,
    store: ImageSource,
    digest: str,
    keys: Sequence[PublicKey],
    identity: str,
    mirrors: Sequence[str],
    annotations: dict[str, str],
    revocations: RevocationList | None,
    tsa: TsaTrust | None,
    cert_trust: CertTrust | None = None,
) -> SignatureCheck:
    def fail(reason: str, **kw: Any) -> SignatureCheck:
        return SignatureCheck(desc.digest, kind, ok=False, reason=reason, **kw)

    if kind == "bundle":
        return _check_bundle(desc, store, digest, keys, identity, mirrors, annotations, revocations, tsa)

    if desc.media_type != MEDIA_TYPE:
        return fail(f"layer media type {desc.media_type!r} is not a simple-signing payload")
    sig_b64 = desc.annotation(SIGNATURE_ANNOTATION)
    if not sig_b64:
        return fail(f"layer has no {SIGNATURE_ANNOTATION} annotation")
    try:
        sig = base64.b64decode(sig_b64, validate=True)
    except (binascii.Error, ValueError):
        return fail("signature annotation is not base64")
    try:
        payload_raw = read_blob(store, desc, 256 * 1024)
    except (InputError, IntegrityError, NotFoundError) as e:
        return fail(f"payload: {e}")
    leaf = None
    cert_pem = desc.annotation(CERTIFICATE_ANNOTATION)
    candidates = list(keys)
    if cert_trust is not None and cert_pem:
        from lockgate.trust.x509chain import load_pem_certs

        try:
            leaf = load_pem_certs(cert_pem.encode(), "signing certificate")[0]
            candidates.append(PublicKey(leaf.public_key(), "certificate"))  # type: ignore[arg-type]
        except (InputError, TypeError) as e:
            return fail(f"certificate annotation: {e}")
    key: PublicKey | None = None
    for k in candidates:
        try:
            k.verify(payload_raw, sig)
            key = k
            break
        except IntegrityError:
            continue
    if key is None:
        return fail("signature does not verify with any given key")
    try:
        payload = parse_payload(payload_raw)
    except InputError as e:
        return fail(str(e), key_id=key.key_id)
    common: dict[str, Any] = {"key_id": key.key_id, "docker_reference": payload.docker_reference}
    ts_annotation = desc.annotation(TIMESTAMP_ANNOTATION)
    if tsa is not None and ts_annotation:
        from lockgate.trust.timestamp import parse_annotation, verify_timestamp

        try:
            common["signed_at"] = verify_timestamp(parse_annotation(ts_annotation), sig, tsa)
        except (InputError, IntegrityError) as e:
            return fail(str(e), **common)
    if leaf is not None and cert_trust is not None:
        from lockgate.trust.x509chain import CHAIN_ANNOTATION, fingerprint, load_pem_certs, validate_chain

        try:
            chain_pem = desc.annotation(CHAIN_ANNOTATION)
            chain = load_pem_certs(chain_pem.encode(), "certificate chain") if chain_pem else []
            validate_chain(leaf, chain, cert_trust, common.get("signed_at"))
        except (InputError, IntegrityError) as e:
            return fail(str(e), **common)
        common["certificate"] = fingerprint(leaf)
    if payload.manifest_digest != digest:
        return fail(f"payload signs {payload.manifest_digest}, not {digest}", **common)
    if payload.type.lower() != "cosign container image signature":
        return fail(f"payload type {payload.type!r} is not a cosign container image signature", **common)
    if not any(same_repository(payload.docker_reference, name) for name in (identity, *mirrors)):
        return fail(f"signed for {payload.docker_reference!r}, not {identity!r} (replayed signature?)", **common)
    mismatch = payload.annotation_mismatch(annotations)
    if mismatch:
        return fail(mismatch, **common)
    if revocations is not None:
        refused = revocations.check(key, common.get("signed_at"), common.get("certificate", ""))
        if refused:
            return fail(refused, **common)
    return SignatureCheck(desc.digest, kind, ok=True, **common)


def _check_bundle(
    desc: Descriptor,
    store: ImageSource,
    digest: str,
    keys: Sequence[PublicKey],
    identity: str,
    mirrors: Sequence[str],
    annotations: dict[str, str],
    revocations: RevocationList | None,
    tsa: TsaTrust | None,
) -> SignatureCheck:
    """A key-based Sigstore bundle referrer (cosign v3 layout)."""
    from lockgate.trust.bundle import MAX_BUNDLE_BYTES, parse_keyed_bundle, statement_subject_names, verify_keyed_bundle

    def fail(reason: str, **kw: Any) -> SignatureCheck:
        return SignatureCheck(desc.digest, "bundle", ok=False, reason=reason, **kw)

    try:
        parsed = parse_keyed_bundle(read_blob(store, desc, MAX_BUNDLE_BYTES))
        key, sig = verify_keyed_bundle(parsed, list(keys), digest)
    except (InputError, IntegrityError, NotFoundError) as e:
        return fail(str(e))
    names = statement_subject_names(parsed.payload)
    common: dict[str, Any] = {"key_id": key.key_id, "docker_reference": names[0] if names else ""}
    if names and not any(same_repository(n, want) for n in names for want in (identity, *mirrors)):
        return fail(f"signed for {names[0]!r}, not {identity!r} (replayed signature?)", **common)
    if annotations:
        return fail("bundle signatures carry no annotations to match -a", **common)
    if tsa is not None and parsed.timestamps:
        from lockgate.trust.timestamp import verify_timestamp

        try:
            common["signed_at"] = verify_timestamp(parsed.timestamps[0], sig, tsa)
        except IntegrityError as e:
            return fail(str(e), **common)
    if revocations is not None:
        refused = revocations.check(key, common.get("signed_at"))
        if refused:
            return fail(refused, **common)
    return SignatureCheck(desc.digest, "bundle", ok=True, **common)
