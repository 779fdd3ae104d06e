"""Pull and push against Debian's real ``docker-registry``, with skopeo as the interop oracle.

What skopeo pushed, lockgate pulls with identical digests; what lockgate pushes (monolithic and
chunked uploads, cross-repository mounts, manifests by tag and digest, an index), skopeo reads
back byte-for-byte.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from lockgate.errors import IntegrityError, NotFoundError
from lockgate.oci.image import ImageDestination, ImageSource, load_image, read_blob
from lockgate.oci.model import OCI_INDEX, OCI_MANIFEST, Descriptor
from lockgate.oci.reference import Reference
from lockgate.oci.registry.client import RegistryClient, RegistryDestination, RegistrySource
from tests.fixtures.registry import (
    OCILayout,
    RunningRegistry,
    skopeo,
    skopeo_inspect_flags,
    skopeo_raw,
    unique_repo,
)


def _layout_manifest(layout: OCILayout) -> tuple[bytes, dict]:
    index = json.loads((layout.path / "index.json").read_text())
    (desc,) = [m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == layout.tag]
    raw = _layout_blob(layout, desc["digest"])
    return raw, json.loads(raw)


def _layout_blob(layout: OCILayout, digest: str) -> bytes:
    algo, _, hexpart = digest.partition(":")
    return (layout.path / "blobs" / algo / hexpart).read_bytes()


def _manifest_digest(raw: bytes, tmp_path: Path) -> str:
    f = tmp_path / "manifest.json"
    f.write_bytes(raw)
    return skopeo("manifest-digest", str(f)).stdout.strip()


def test_pull_what_skopeo_pushed(registry: RunningRegistry, small_image: OCILayout, skopeo_push, tmp_path) -> None:
    repo = unique_repo()
    skopeo_push(small_image, registry, repo, "v1")
    oracle_raw = skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(registry), f"docker://{registry.ref(repo, 'v1')}")
    oracle_config = skopeo_raw(
        "inspect", "--config", "--raw", *skopeo_inspect_flags(registry), f"docker://{registry.ref(repo, 'v1')}"
    )
    src = RegistrySource(Reference.parse(registry.ref(repo, "v1")), registry.options())
    assert isinstance(src, ImageSource)
    try:
        image = load_image(src)
        raw, media_type = src.resolve()
        assert raw == oracle_raw
        assert media_type == OCI_MANIFEST
        assert image.digest == _manifest_digest(oracle_raw, tmp_path) == src.digest
        assert read_blob(src, image.manifest.config, 1 << 20) == oracle_config
        assert dict(image.config.labels).get("org.lockgate.test") == "registry"
        # Every layer streams, verified, and equals what the layout holds.
        for layer in image.layers:
            with src.open_blob(layer) as f:
                data = f.read()
            assert hashlib.sha256(data).hexdigest() == layer.digest.partition(":")[2]
            assert data == _layout_blob(small_image, layer.digest)
        # By digest too.
        by_digest = RegistrySource(Reference.parse(registry.ref(repo, image.digest)), registry.options())
        assert by_digest.resolve()[0] == oracle_raw
        by_digest.close()
    finally:
        src.close()


def _push_layout(layout: OCILayout, dest: RegistryDestination, tag: str | None) -> str:
    raw, manifest = _layout_manifest(layout)
    for d in [manifest["config"], *manifest["layers"]]:
        desc = Descriptor.from_dict(d)
        if not dest.has_blob(desc):
            dest.put_blob(desc, io.BytesIO(_layout_blob(layout, desc.digest)))
    digest = dest.put_manifest(raw, manifest["mediaType"], tag)
    dest.commit()
    return digest


def test_skopeo_reads_what_lockgate_pushed(registry: RunningRegistry, small_image: OCILayout, tmp_path) -> None:
    repo = unique_repo()
    dest = RegistryDestination(Reference.parse(registry.ref(repo, "v2")), registry.options())
    assert isinstance(dest, ImageDestination)
    digest = _push_layout(small_image, dest, "v2")
    dest.close()
    raw, _ = _layout_manifest(small_image)
    oracle = skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(registry), f"docker://{registry.ref(repo, 'v2')}")
    assert oracle == raw
    assert _manifest_digest(oracle, tmp_path) == digest
    # skopeo can copy it out completely (it verifies every blob digest on the way).
    out = tmp_path / "out"
    skopeo("copy", "--quiet", "--src-tls-verify=false", f"docker://{registry.ref(repo, 'v2')}", f"oci:{out}:v2")
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["digest"] == digest


def test_chunked_upload_and_digest_mismatch(registry: RunningRegistry, tmp_path) -> None:
    repo = unique_repo()
    data = hashlib.sha512(b"chunks").digest() * 5000  # 320 000 bytes
    desc = Descriptor("application/octet-stream", "sha256:" + hashlib.sha256(data).hexdigest(), len(data))
    with RegistryClient(registry.host, registry.options()) as c:
        c.upload_blob(repo, desc, io.BytesIO(data), chunk_size=64 * 1024, monolithic_max=1024)
        assert c.has_blob(repo, desc.digest)
        with c.open_blob(repo, desc) as f:
            assert f.read() == data
        # A stream that does not match its descriptor is never committed.
        bad = data[:-1] + b"\x00"
        bad_desc = Descriptor("application/octet-stream", "sha256:" + "0" * 64, len(bad))
        with pytest.raises(IntegrityError, match="does not match its digest"):
            c.upload_blob(repo, bad_desc, io.BytesIO(bad), chunk_size=64 * 1024, monolithic_max=1024)
        with pytest.raises(IntegrityError, match="does not match its digest"):
            c.upload_blob(repo, bad_desc, io.BytesIO(bad))
        with pytest.raises(IntegrityError, match="bytes"):
            c.upload_blob(repo, desc, io.BytesIO(data[:-10]))
        assert not c.has_blob(repo, bad_desc.digest)
    # The blob the registry stored is what skopeo would fetch: check via the raw API with curl-free httpx.
    import httpx

    r = httpx.get(f"{registry.url}/v2/{repo}/blobs/{desc.digest}")
    assert r.status_code == 200 and r.content == data


def test_cross_repository_mount(registry: RunningRegistry, small_image: OCILayout, skopeo_push, tmp_path) -> None:
    src_repo, dst_repo = unique_repo(), unique_repo()
    skopeo_push(small_image, registry, src_repo, "v1")
    raw, manifest = _layout_manifest(small_image)
    layer = Descriptor.from_dict(manifest["layers"][0])
    with RegistryClient(registry.host, registry.options()) as c:
        assert not c.has_blob(dst_repo, layer.digest)
        assert c.mount_blob(dst_repo, layer.digest, src_repo) is True
        assert c.has_blob(dst_repo, layer.digest)
        assert c.mount_blob(unique_repo(), layer.digest, unique_repo()) is False
    # A destination given mount_from mounts every blob and the image is complete.
    dest = RegistryDestination(Reference.parse(registry.ref(dst_repo, "m")), registry.options(), mount_from=[src_repo])

    class NoRead(io.BytesIO):
        def read(self, *a, **k):  # mounting must not read the data
            raise AssertionError("blob data read although it could be mounted")

    for d in [manifest["config"], *manifest["layers"]]:
        dest.put_blob(Descriptor.from_dict(d), NoRead())
    digest = dest.put_manifest(raw, manifest["mediaType"], "m")
    dest.close()
    out = tmp_path / "out"
    skopeo("copy", "--quiet", "--src-tls-verify=false", f"docker://{registry.ref(dst_repo, 'm')}", f"oci:{out}:m")
    assert json.loads((out / "index.json").read_text())["manifests"][0]["digest"] == digest


def test_manifest_by_digest_head_delete_and_index(
    registry: RunningRegistry, small_image: OCILayout, skopeo_push, tmp_path
) -> None:
    repo = unique_repo()
    digest = skopeo_push(small_image, registry, repo, "v1")
    raw, _ = _layout_manifest(small_image)
    with RegistryClient(registry.host, registry.options()) as c:
        head = c.head_manifest(repo, "v1")
        assert head is not None
        assert (head.digest, head.size, head.media_type) == (digest, len(raw), OCI_MANIFEST)
        assert c.head_manifest(repo, "nope") is None
        # Index pushed by tag, read back by skopeo byte-for-byte.
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": len(raw),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
        index_raw = json.dumps(index, indent=2).encode()
        index_digest = c.put_manifest(repo, index_raw, OCI_INDEX, "multi")
        assert index_digest == "sha256:" + hashlib.sha256(index_raw).hexdigest()
        oracle = skopeo_raw(
            "inspect", "--raw", *skopeo_inspect_flags(registry), f"docker://{registry.ref(repo, 'multi')}"
        )
        assert oracle == index_raw
        # Push by digest only: no tag appears.
        other = json.dumps(index).encode()
        other_digest = c.put_manifest(repo, other, OCI_INDEX)
        assert c.get_manifest(repo, other_digest) == (other, OCI_INDEX, other_digest)
        assert sorted(c.tags(repo)) == ["multi", "v1"]
        c.delete_manifest(repo, other_digest)
        with pytest.raises(NotFoundError, match=repo):
            c.get_manifest(repo, other_digest)
        with pytest.raises(NotFoundError, match=f"registry {registry.host}"):
            c.get_manifest(unique_repo(), "latest")


def test_tags_and_catalog_pagination(registry: RunningRegistry, small_image: OCILayout, skopeo_push) -> None:
    """Registry 2.8 ignores ``?n=`` on tags lists (tags pagination is tested against a stand-in in
    test_standin.py) but paginates the catalog with ``Link`` headers, which is checked here."""
    repos = sorted(unique_repo("lockgate/cat") for _ in range(3))
    for tag in ("a", "b", "c"):
        skopeo_push(small_image, registry, repos[0], tag)
    for repo in repos[1:]:
        skopeo_push(small_image, registry, repo, "v1")
    oracle = json.loads(
        skopeo("list-tags", *skopeo_inspect_flags(registry), f"docker://{registry.host}/{repos[0]}").stdout
    )["Tags"]
    with RegistryClient(registry.host, registry.options()) as c:
        assert sorted(c.tags(repos[0])) == sorted(oracle) == ["a", "b", "c"]
        requests: list[str] = []
        c.transport.client.event_hooks["request"].append(lambda r: requests.append(str(r.url)))
        catalog = c.catalog(page_size=1)
        assert set(repos) <= set(catalog)
        assert len(catalog) == len(set(catalog))
        pages = [u for u in requests if "/_catalog" in u]
        assert len(pages) in (len(catalog), len(catalog) + 1)  # one page per repository (+ maybe an empty one)
        assert all("n=1" in u for u in pages)
        assert c.catalog() == catalog
        with pytest.raises(NotFoundError):
            c.tags(unique_repo())


def test_pull_index_and_platform(registry: RunningRegistry, small_image: OCILayout, skopeo_push) -> None:
    """An index pushed by lockgate resolves to its linux/amd64 image through load_image."""
    repo = unique_repo()
    digest = skopeo_push(small_image, registry, repo, "v1")
    raw, _ = _layout_manifest(small_image)
    entry = {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(raw)}
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{**entry, "platform": {"architecture": "amd64", "os": "linux"}}],
    }
    with RegistryClient(registry.host, registry.options()) as c:
        c.put_manifest(repo, json.dumps(index).encode(), OCI_INDEX, "idx")
    src = RegistrySource(Reference.parse(registry.ref(repo, "idx")), registry.options())
    image = load_image(src)
    src.close()
    assert image.index is not None and image.digest == digest


def test_unreachable_registry_is_unavailable() -> None:
    from lockgate.errors import UnavailableError
    from tests.fixtures.registry import free_port

    port = free_port()
    with (
        RegistryClient(f"127.0.0.1:{port}", registry_options_fast()) as c,
        pytest.raises(UnavailableError, match=f"127.0.0.1:{port}"),
    ):
        c.get_manifest("x/y", "latest")


def registry_options_fast():
    from lockgate.oci.registry.options import RegistryOptions

    return RegistryOptions(retries=1, timeout=2.0)


def test_bad_names_never_reach_the_wire(registry: RunningRegistry) -> None:
    from lockgate.errors import InputError

    with RegistryClient(registry.host, registry.options()) as c:
        for call in (
            lambda: c.get_manifest("../../etc", "latest"),
            lambda: c.get_manifest("ok/repo", "../x"),
            lambda: c.head_manifest("UPPER", "v1"),
            lambda: c.tags("a//b"),
            lambda: c.has_blob("repo", "sha256:short"),
            lambda: c.put_manifest("repo", b"{}", OCI_MANIFEST, "bad tag"),
            lambda: c.mount_blob("repo", "sha256:" + "a" * 64, "../other"),
        ):
            with pytest.raises(InputError):
                call()
        assert c.transport._scheme is None  # nothing was sent, not even the probe


def test_docker_schema2_image(registry: RunningRegistry, small_image: OCILayout, tmp_path) -> None:
    """skopeo converts to a Docker schema 2 manifest on push; lockgate pulls it unchanged."""
    from lockgate.oci.model import DOCKER_MANIFEST

    repo = unique_repo()
    ref = registry.ref(repo, "d2")
    skopeo(
        "copy", "--quiet", "--format", "v2s2", *registry.skopeo_flags("dest"), small_image.skopeo_ref, f"docker://{ref}"
    )
    oracle = skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(registry), f"docker://{ref}")
    src = RegistrySource(Reference.parse(ref), registry.options())
    try:
        image = load_image(src)
        assert image.manifest.media_type == DOCKER_MANIFEST
        assert image.manifest.raw == oracle
        assert image.digest == _manifest_digest(oracle, tmp_path)
        head = src.client.head_manifest(repo, "d2")
        assert head is not None and (head.media_type, head.digest) == (DOCKER_MANIFEST, image.digest)
        for layer in image.layers:
            with src.open_blob(layer) as f:
                assert hashlib.sha256(f.read()).hexdigest() == layer.digest.partition(":")[2]
    finally:
        src.close()
