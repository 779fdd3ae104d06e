"""copy_image to and from a real registry (Debian's docker-registry), skopeo checking the result."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from lockgate.oci.copy import copy_image
from lockgate.oci.model import Platform
from lockgate.oci.registry.options import RegistryOptions
from lockgate.oci.targets import open_destination, open_source
from tests.fixtures.registry import RunningRegistry, skopeo_inspect_flags, unique_repo
from tests.oci.conftest import MultiArch
from tests.oci.helpers import Built, layout_entry, skopeo, skopeo_config, skopeo_raw_digest


def copy(src: str, dst: str, options: RegistryOptions, **kw: object) -> str:
    source = open_source(src, options)
    destination = open_destination(dst, options)
    try:
        return copy_image(source, destination, **kw)  # type: ignore[arg-type]
    finally:
        destination.close()
        source.close()


def remote(reg: RunningRegistry, ref: str) -> str:
    """A skopeo ``docker://`` argument list for ``ref`` on ``reg``."""
    return f"docker://{ref}"


def sk_raw_digest(reg: RunningRegistry, ref: str) -> str:
    r = subprocess.run(
        ["skopeo", "inspect", "--raw", *skopeo_inspect_flags(reg), f"docker://{ref}"], capture_output=True, check=True
    )
    return "sha256:" + hashlib.sha256(r.stdout).hexdigest()


def sk_config(reg: RunningRegistry, ref: str) -> tuple[str, list[str]]:
    r = subprocess.run(
        ["skopeo", "inspect", "--config", "--raw", *skopeo_inspect_flags(reg), f"docker://{ref}"],
        capture_output=True,
        check=True,
    )
    return "sha256:" + hashlib.sha256(r.stdout).hexdigest(), json.loads(r.stdout)["rootfs"]["diff_ids"]


def test_oci_to_registry_and_back_keeps_manifest_digest(
    registry: RunningRegistry, image: Built, tmp_path: Path
) -> None:
    ref = registry.ref(unique_repo(), "v1")
    opts = registry.options()
    digest = copy(image.oci_ref, ref, opts)
    assert digest == skopeo_raw_digest(image.oci_ref) == sk_raw_digest(registry, ref)
    assert copy(ref, f"oci:{tmp_path / 'back'}:v1", opts) == digest
    assert skopeo_raw_digest(f"oci:{tmp_path / 'back'}:v1") == digest
    # a second push of the same image uploads nothing new and keeps the digest
    assert copy(image.oci_ref, ref, opts) == digest


def test_index_to_registry_with_all_platforms(registry: RunningRegistry, multiarch: MultiArch, tmp_path: Path) -> None:
    ref = registry.ref(unique_repo(), "multi")
    opts = registry.options()
    digest = copy(f"oci:{multiarch.oci}:multi", ref, opts, all_platforms=True)
    assert digest == multiarch.index_digest == sk_raw_digest(registry, ref)
    out = tmp_path / "all.tar"
    assert copy(ref, f"oci-archive:{out}:m", opts, all_platforms=True) == digest
    assert skopeo_raw_digest(f"oci-archive:{out}:m") == digest
    # without --all-platforms: the arm64 manifest alone, by digest
    arm = copy(ref, f"oci:{tmp_path / 'arm'}:a", opts, platform=Platform.parse("linux/arm64"))
    assert arm == layout_entry(multiarch.oci, "arm")["digest"]


def test_docker_archive_to_registry_and_back(registry: RunningRegistry, image: Built, tmp_path: Path) -> None:
    ref = registry.ref(unique_repo(), "d")
    opts = registry.options()
    copy(image.archive_ref, ref, opts)
    assert sk_config(registry, ref) == skopeo_config(image.archive_ref)
    out = tmp_path / "back.tar"
    copy(ref, f"docker-archive:{out}:lockgate/back:1", opts)
    assert skopeo_config(f"docker-archive:{out}") == skopeo_config(image.archive_ref)
    # skopeo pulls what lockgate pushed (verifying every blob on the way)
    skopeo("copy", "-q", "--src-tls-verify=false", remote(registry, ref), f"oci:{tmp_path / 'sk'}:x")


def test_basic_auth_registry(basic_registry: RunningRegistry, image: Built) -> None:
    ref = basic_registry.ref(unique_repo(), "v1")
    digest = copy(image.oci_ref, ref, basic_registry.options())
    assert digest == sk_raw_digest(basic_registry, ref)


def test_registry_to_registry_mounts_and_keeps_digest(registry: RunningRegistry, multiarch: MultiArch) -> None:
    """Same registry, other repository: blobs are mounted, not uploaded (counted with a spy on the real client)."""
    opts = registry.options()
    first = registry.ref(unique_repo(), "m")
    digest = copy(f"oci:{multiarch.oci}:multi", first, opts, all_platforms=True)
    second = registry.ref(unique_repo(), "m")
    source, destination = open_source(first, opts), open_destination(second, opts)
    uploads: list[str] = []
    real_upload = destination.client.upload_blob  # type: ignore[attr-defined]

    def spy(repo: str, desc: object, stream: object, **kw: object) -> None:
        uploads.append(repo)
        real_upload(repo, desc, stream, **kw)

    destination.client.upload_blob = spy  # type: ignore[attr-defined]
    try:
        assert copy_image(source, destination, all_platforms=True, jobs=3) == digest
    finally:
        destination.close()
        source.close()
    assert sk_raw_digest(registry, second) == digest
    assert uploads == []
