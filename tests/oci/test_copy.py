"""copy_image between local transports, with skopeo reading (and writing) the other side."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lockgate.errors import ConfigError, InputError, IntegrityError
from lockgate.oci.copy import copy_image, open_image
from lockgate.oci.layout import blob_name
from lockgate.oci.model import Descriptor, Platform
from lockgate.oci.targets import open_destination, open_source
from tests.oci.conftest import MultiArch
from tests.oci.helpers import Built, layout_entry, skopeo, skopeo_config, skopeo_raw_digest, tar_members


def copy(src: str, dst: str, **kw: object) -> str:
    source = open_source(src)
    destination = open_destination(dst)
    try:
        return copy_image(source, destination, **kw)  # type: ignore[arg-type]
    finally:
        destination.close()
        source.close()


def test_oci_to_docker_archive_keeps_config_and_diff_ids(image: Built, tmp_path: Path) -> None:
    out = tmp_path / "out.tar"
    copy(image.oci_ref, f"docker-archive:{out}:example.org/app:1.0")
    assert skopeo_config(f"docker-archive:{out}") == skopeo_config(image.oci_ref)
    manifest = json.loads(tar_members(out)["manifest.json"])
    assert manifest[0]["RepoTags"] == ["example.org/app:1.0"]
    # skopeo can select it by name and copy it on (reading and verifying every layer);
    # skopeo rewrites the config when converting to OCI, so only the diff_ids are compared
    skopeo("copy", "-q", f"docker-archive:{out}:example.org/app:1.0", f"oci:{tmp_path / 'back'}:b")
    assert skopeo_config(f"oci:{tmp_path / 'back'}:b")[1] == skopeo_config(image.oci_ref)[1]


def test_docker_archive_to_oci_keeps_config_and_diff_ids(image: Built, tmp_path: Path) -> None:
    out = tmp_path / "layout"
    copy(image.archive_ref, f"oci:{out}:t")
    assert skopeo_config(f"oci:{out}:t") == skopeo_config(image.archive_ref)
    raw = json.loads((out / blob_name(str(layout_entry(out, "t")["digest"]))).read_bytes())
    assert raw["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert {d["mediaType"] for d in raw["layers"]} == {"application/vnd.oci.image.layer.v1.tar"}
    skopeo("copy", "-q", f"oci:{out}:t", f"docker-archive:{tmp_path / 'again.tar'}")


def test_oci_to_oci_archive_preserves_manifest_digest(image: Built, tmp_path: Path) -> None:
    out = tmp_path / "img.tar"
    digest = copy(image.oci_ref, f"oci-archive:{out}:z")
    assert digest == skopeo_raw_digest(image.oci_ref) == skopeo_raw_digest(f"oci-archive:{out}:z")
    # and back from a skopeo-written oci-archive
    sk = tmp_path / "sk.tar"
    skopeo("copy", "-q", image.oci_ref, f"oci-archive:{sk}:q")
    assert copy(f"oci-archive:{sk}:q", f"oci:{tmp_path / 'l'}:q") == digest


def test_skopeo_docker_archive_to_lockgate_oci(image: Built, tmp_path: Path) -> None:
    sk = tmp_path / "sk.tar"
    skopeo("copy", "-q", image.oci_ref, f"docker-archive:{sk}:lockgate/x:1")
    copy(f"docker-archive:{sk}:lockgate/x:1", f"oci:{tmp_path / 'l'}:1")
    assert skopeo_config(f"oci:{tmp_path / 'l'}:1") == skopeo_config(image.oci_ref)


def test_all_platforms_copies_the_whole_index(multiarch: MultiArch, tmp_path: Path) -> None:
    out = tmp_path / "all"
    digest = copy(f"oci:{multiarch.oci}:multi", f"oci:{out}:multi", all_platforms=True)
    assert digest == multiarch.index_digest == skopeo_raw_digest(f"oci:{out}:multi")
    index = json.loads((out / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [digest]
    # both platforms' blobs are there: skopeo can copy each out of it
    for arch, tag in (("amd64", "amd"), ("arm64", "arm")):
        skopeo("copy", "-q", f"--override-arch={arch}", f"oci:{out}:multi", f"oci:{tmp_path / arch}:x")
        assert skopeo_raw_digest(f"oci:{tmp_path / arch}:x") == layout_entry(multiarch.oci, tag)["digest"]
    archive = tmp_path / "all.tar"
    copy(f"oci:{multiarch.oci}:multi", f"oci-archive:{archive}", all_platforms=True)
    assert skopeo_raw_digest(f"oci-archive:{archive}") == digest


def test_one_platform_from_an_index(multiarch: MultiArch, tmp_path: Path) -> None:
    d_amd = copy(f"oci:{multiarch.oci}:multi", f"oci:{tmp_path / 'a'}:x")
    d_arm = copy(f"oci:{multiarch.oci}:multi", f"oci:{tmp_path / 'b'}:x", platform=Platform.parse("linux/arm64/v8"))
    assert d_amd == layout_entry(multiarch.oci, "amd")["digest"] == skopeo_raw_digest(f"oci:{tmp_path / 'a'}:x")
    assert d_arm == layout_entry(multiarch.oci, "arm")["digest"] == skopeo_raw_digest(f"oci:{tmp_path / 'b'}:x")
    out = tmp_path / "arm.tar"
    copy(f"oci:{multiarch.oci}:multi", f"docker-archive:{out}", platform=Platform.parse("linux/arm64"))
    assert skopeo_config(f"docker-archive:{out}") == skopeo_config(f"oci:{multiarch.oci}:arm")
    with pytest.raises(ConfigError, match="single-platform"):
        copy(f"oci:{multiarch.oci}:multi", f"docker-archive:{tmp_path / 'no.tar'}", all_platforms=True)
    assert not (tmp_path / "no.tar").exists()


def test_platform_mismatch_on_single_image(image: Built, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not match"):
        copy(image.oci_ref, f"oci:{tmp_path / 'x'}:x", platform=Platform.parse("linux/arm64"))


def test_existing_blobs_are_skipped_and_progress_reports_all_bytes(image: Built, tmp_path: Path) -> None:
    events: list[tuple[str, int]] = []

    def progress(desc: Descriptor, n: int) -> None:
        events.append((desc.digest, n))

    img = open_image(open_source(image.oci_ref))
    total = img.manifest.config.size + sum(d.size for d in img.layers)
    copy(image.oci_ref, f"oci:{tmp_path / 'l'}:a", progress=progress)
    assert sum(n for _, n in events) == total
    blobs = tmp_path / "l" / "blobs" / "sha256"
    before = {p.name: p.stat().st_mtime_ns for p in blobs.iterdir()}
    events.clear()
    copy(image.oci_ref, f"oci:{tmp_path / 'l'}:b", progress=progress)
    assert sum(n for _, n in events) == total
    assert {p.name: p.stat().st_mtime_ns for p in blobs.iterdir()} == before
    tags = [
        m["annotations"]["org.opencontainers.image.ref.name"]
        for m in json.loads((tmp_path / "l" / "index.json").read_text())["manifests"]
    ]
    assert tags == ["a", "b"]


def test_corrupt_source_blob_fails_and_leaves_no_trace(image_copy: Built, tmp_path: Path) -> None:
    img = open_image(open_source(image_copy.oci_ref))
    layer = img.layers[1]
    path = image_copy.oci / blob_name(layer.digest)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    out = tmp_path / "out"
    with pytest.raises(IntegrityError, match=layer.digest):
        copy(image_copy.oci_ref, f"oci:{out}:x")
    assert not (out / blob_name(layer.digest)).exists()
    assert not (out / "index.json").exists()
    with pytest.raises(IntegrityError, match=layer.digest):
        copy(image_copy.oci_ref, f"docker-archive:{tmp_path / 'x.tar'}")
    with pytest.raises(IntegrityError, match=layer.digest):
        copy(image_copy.oci_ref, f"oci-archive:{tmp_path / 'y.tar'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.tar", "oci", "out"]


def test_lying_config_diff_id_refused_when_writing_docker_archive(image_copy: Built, tmp_path: Path) -> None:
    """A config whose diff_ids do not match the layers cannot produce a docker-archive."""
    entry = layout_entry(image_copy.oci, image_copy.tag)
    man_path = image_copy.oci / blob_name(str(entry["digest"]))
    manifest = json.loads(man_path.read_bytes())
    cfg_path = image_copy.oci / blob_name(manifest["config"]["digest"])
    cfg = json.loads(cfg_path.read_bytes())
    cfg["rootfs"]["diff_ids"][0] = "sha256:" + "0" * 64
    cfg_raw = json.dumps(cfg).encode()
    cfg_digest = "sha256:" + hashlib.sha256(cfg_raw).hexdigest()
    (image_copy.oci / blob_name(cfg_digest)).write_bytes(cfg_raw)
    manifest["config"].update(digest=cfg_digest, size=len(cfg_raw))
    man_raw = json.dumps(manifest).encode()
    man_digest = "sha256:" + hashlib.sha256(man_raw).hexdigest()
    (image_copy.oci / blob_name(man_digest)).write_bytes(man_raw)
    index = json.loads((image_copy.oci / "index.json").read_text())
    index["manifests"][0].update(digest=man_digest, size=len(man_raw))
    (image_copy.oci / "index.json").write_text(json.dumps(index))
    with pytest.raises(IntegrityError, match="diff_id"):
        copy(image_copy.oci_ref, f"docker-archive:{tmp_path / 'x.tar'}")
    assert not (tmp_path / "x.tar").exists()


def test_docker_archive_round_trip_keeps_bytes(image: Built, tmp_path: Path) -> None:
    out = tmp_path / "rt.tar"
    copy(image.archive_ref, f"docker-archive:{out}:lockgate/test:v1")
    a, b = tar_members(image.archive), tar_members(out)
    cfg = json.loads(a["manifest.json"])[0]["Config"]
    assert a[cfg] == b[cfg]
    layers_a = [a[n] for n in json.loads(a["manifest.json"])[0]["Layers"]]
    layers_b = [b[n] for n in json.loads(b["manifest.json"])[0]["Layers"]]
    assert layers_a == layers_b


def test_concurrent_copies_into_one_layout_keep_every_tag(image: Built, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    out = tmp_path / "shared"
    tags = [f"t{i}" for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        digests = list(pool.map(lambda t: copy(image.oci_ref, f"oci:{out}:{t}"), tags))
    assert set(digests) == {skopeo_raw_digest(image.oci_ref)}
    index = json.loads((out / "index.json").read_text())
    assert sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]) == tags


def test_parallel_blob_copy_gives_the_same_result(multiarch: MultiArch, tmp_path: Path) -> None:
    serial = copy(f"oci:{multiarch.oci}:multi", f"oci:{tmp_path / 's'}:m", all_platforms=True)
    parallel = copy(f"oci:{multiarch.oci}:multi", f"oci:{tmp_path / 'p'}:m", all_platforms=True, jobs=4)
    assert serial == parallel == multiarch.index_digest
    assert sorted(p.name for p in (tmp_path / "s" / "blobs" / "sha256").iterdir()) == sorted(
        p.name for p in (tmp_path / "p" / "blobs" / "sha256").iterdir()
    )
    copy(f"oci:{multiarch.oci}:arm", f"docker-archive:{tmp_path / 'p.tar'}", jobs=4)
    assert skopeo_config(f"docker-archive:{tmp_path / 'p.tar'}") == skopeo_config(f"oci:{multiarch.oci}:arm")


@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_zstd_and_uncompressed_layers_to_docker_archive(image: Built, tmp_path: Path, compression: str) -> None:
    from tests.fixtures.images import RawLayer, write_layout

    members = tar_members(image.archive)
    names = json.loads(members["manifest.json"])[0]["Layers"]
    built = write_layout(tmp_path / "z", [RawLayer(tar=members[n], compression=compression) for n in names], tag="z")
    ref = f"oci:{built.oci_dir}:z"
    out = tmp_path / "z.tar"
    copy(ref, f"docker-archive:{out}")
    diff_ids = skopeo_config(ref)[1]
    assert diff_ids == skopeo_config(image.archive_ref)[1]
    assert skopeo_config(f"docker-archive:{out}") == skopeo_config(ref)
    b = tar_members(out)
    assert [b[n] for n in json.loads(b["manifest.json"])[0]["Layers"]] == [members[n] for n in names]


def test_decompression_bombs_stop_docker_archive_writes(tmp_path: Path) -> None:
    """A gzip layer of zeros far past the ratio limit (and the size limit) never lands on disk."""
    from lockgate.config import Limits
    from lockgate.errors import LimitExceededError
    from tests.fixtures.images import RawLayer, write_layout

    zeros = b"\0" * (80 * 1024 * 1024)
    built = write_layout(tmp_path / "bomb", [RawLayer(tar=zeros, compression="gzip")], tag="b")
    ref = f"oci:{built.oci_dir}:b"
    for limits, message in (
        (Limits(max_compression_ratio=100), "100:1"),
        (Limits(max_uncompressed_layer_bytes=1024 * 1024), "more than 1048576 bytes"),
    ):
        source, destination = open_source(ref), open_destination(f"docker-archive:{tmp_path / 'b.tar'}", limits=limits)
        try:
            with pytest.raises(LimitExceededError, match=message):
                copy_image(source, destination, limits=limits)
        finally:
            destination.close()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb"]
