"""OCI image layouts: reading what make-oci-image.sh/skopeo wrote, writing what skopeo reads."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from lockgate.config import Limits
from lockgate.errors import InputError, IntegrityError, LimitExceededError, NotFoundError
from lockgate.oci.copy import open_image
from lockgate.oci.image import read_blob
from lockgate.oci.layout import DirectoryStore, LayoutDestination, LayoutSource, blob_name
from lockgate.oci.model import Descriptor, Platform, sha256_digest
from tests.oci.conftest import MultiArch
from tests.oci.helpers import Built, layout_entry, skopeo, skopeo_config, skopeo_raw_digest


def source(oci: Path, tag: str | None = None) -> LayoutSource:
    return LayoutSource(DirectoryStore(oci), tag)


def test_resolves_tag_to_the_manifest_skopeo_sees(image: Built) -> None:
    raw, media_type = source(image.oci, image.tag).resolve()
    assert sha256_digest(raw) == skopeo_raw_digest(image.oci_ref)
    assert media_type == "application/vnd.oci.image.manifest.v1+json"
    img = open_image(source(image.oci, image.tag))
    cfg_digest, diff_ids = skopeo_config(image.oci_ref)
    assert img.config.digest == cfg_digest
    assert list(img.config.diff_ids) == diff_ids
    assert len(img.layers) == 2


def test_every_blob_read_is_verified_and_streams(image: Built) -> None:
    src = source(image.oci, image.tag)
    img = open_image(src)
    for desc in img.layers:
        with src.open_blob(desc) as f:
            data = f.read()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == desc.digest


def test_no_tag_with_one_entry_picks_it(image: Built) -> None:
    raw, _ = source(image.oci).resolve()
    assert sha256_digest(raw) == skopeo_raw_digest(f"oci:{image.oci}")


def test_no_tag_with_several_entries_is_an_error_listing_tags(multiarch: MultiArch) -> None:
    with pytest.raises(InputError, match=r"choose one with :TAG.*amd, arm, multi"):
        source(multiarch.oci).resolve()


def test_unknown_tag_is_not_found(image: Built) -> None:
    with pytest.raises(NotFoundError, match="'nope'"):
        source(image.oci, "nope").resolve()


def test_index_platform_selection(multiarch: MultiArch) -> None:
    src = source(multiarch.oci, "multi")
    raw, _ = src.resolve()
    assert sha256_digest(raw) == multiarch.index_digest == skopeo_raw_digest(f"oci:{multiarch.oci}:multi")
    amd = open_image(src)
    arm = open_image(src, Platform.parse("linux/arm64"))
    assert amd.digest == layout_entry(multiarch.oci, "amd")["digest"]
    assert arm.digest == layout_entry(multiarch.oci, "arm")["digest"]
    assert arm.config.architecture == "arm64"
    assert arm.index is not None
    with pytest.raises(InputError, match=r"linux/s390x.*available: linux/amd64, linux/arm64/v8"):
        open_image(src, Platform.parse("linux/s390x"))


def test_nested_index_is_followed(multiarch: MultiArch, tmp_path: Path) -> None:
    """An index.json entry pointing at an index whose entry is another (platform-less) index."""
    oci = tmp_path / "oci"
    shutil.copytree(multiarch.oci, oci)
    inner = layout_entry(oci, "multi")
    outer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": inner["mediaType"], "digest": inner["digest"], "size": inner["size"]}],
        }
    ).encode()
    h = hashlib.sha256(outer).hexdigest()
    (oci / "blobs" / "sha256" / h).write_bytes(outer)
    index = json.loads((oci / "index.json").read_text())
    index["manifests"].append(
        {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": "sha256:" + h,
            "size": len(outer),
            "annotations": {"org.opencontainers.image.ref.name": "nested"},
        }
    )
    (oci / "index.json").write_text(json.dumps(index))
    img = open_image(source(oci, "nested"), Platform.parse("linux/arm64/v8"))
    assert img.digest == layout_entry(oci, "arm")["digest"]


def test_flipped_byte_in_layer_is_integrity_error_naming_blob(image_copy: Built) -> None:
    src = source(image_copy.oci, image_copy.tag)
    layer = open_image(src).layers[0]
    path = image_copy.oci / blob_name(layer.digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=layer.digest), src.open_blob(layer) as f:
        f.read()


def test_tampered_manifest_is_integrity_error(image_copy: Built) -> None:
    digest = str(layout_entry(image_copy.oci, image_copy.tag)["digest"])
    path = image_copy.oci / blob_name(digest)
    path.write_bytes(path.read_bytes().replace(b"schemaVersion", b"schemaVersio "))
    with pytest.raises(IntegrityError, match=digest):
        source(image_copy.oci, image_copy.tag).resolve()


def test_truncated_blob_is_integrity_error(image_copy: Built) -> None:
    src = source(image_copy.oci, image_copy.tag)
    cfg = open_image(src).manifest.config
    path = image_copy.oci / blob_name(cfg.digest)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(IntegrityError, match="truncated"):
        read_blob(src, cfg, 1 << 20)


@pytest.mark.parametrize(
    "digest",
    ["sha256:../../../../etc/passwd", "sha256:" + "A" * 64, "md5:" + "0" * 32, "sha256:" + "0" * 63],
)
def test_hostile_digests_never_become_paths(image_copy: Built, digest: str) -> None:
    index = json.loads((image_copy.oci / "index.json").read_text())
    index["manifests"][0]["digest"] = digest
    (image_copy.oci / "index.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match="invalid digest"):
        source(image_copy.oci, image_copy.tag).resolve()


def test_symlinked_blob_is_refused(image_copy: Built, tmp_path: Path) -> None:
    src = source(image_copy.oci, image_copy.tag)
    cfg = open_image(src).manifest.config
    path = image_copy.oci / blob_name(cfg.digest)
    outside = tmp_path / "outside"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(InputError, match=r"cannot open|not a regular file"):
        read_blob(src, cfg, 1 << 20)


def test_huge_index_json_is_refused(image_copy: Built) -> None:
    (image_copy.oci / "index.json").write_bytes(b" " * 2048 + b"{}")
    with pytest.raises(LimitExceededError):
        LayoutSource(DirectoryStore(image_copy.oci), limits=Limits(max_manifest_bytes=1024))


def test_not_a_layout(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not an OCI image layout"):
        source(tmp_path)


def test_destination_writes_what_skopeo_reads_and_keeps_entries(image: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(image.oci, out)  # an existing layout with tag v1
    src = source(image.oci, image.tag)
    img = open_image(src)
    dst = LayoutDestination(out, "copy")
    for desc in (img.manifest.config, *img.layers):
        with src.open_blob(desc) as f:
            dst.put_blob(desc, f)
    digest = dst.put_manifest(img.manifest.raw, img.manifest.media_type, None)
    dst.commit()
    assert digest == img.digest == skopeo_raw_digest(f"oci:{out}:copy")
    tags = [
        m["annotations"]["org.opencontainers.image.ref.name"]
        for m in json.loads((out / "index.json").read_text())["manifests"]
    ]
    assert tags == ["v1", "copy"]
    # retagging replaces the entry instead of adding a second one
    dst2 = LayoutDestination(out, "copy")
    dst2.put_manifest(img.manifest.raw, img.manifest.media_type, None)
    dst2.commit()
    assert len(json.loads((out / "index.json").read_text())["manifests"]) == 2
    skopeo("copy", "-q", f"oci:{out}:copy", f"oci:{tmp_path / 'again'}:x")


def test_destination_rejects_bad_blob_without_leaving_it(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    dst = LayoutDestination(tmp_path / "out", "t")
    data = b"hello world"
    good = Descriptor("application/octet-stream", sha256_digest(data), len(data))
    with pytest.raises(IntegrityError, match=good.digest):
        dst.put_blob(good, io.BytesIO(b"hello w0rld"))
    with pytest.raises(IntegrityError, match="larger"):
        dst.put_blob(good, io.BytesIO(data + b"!"))
    assert not dst.has_blob(good)
    assert os.listdir(tmp_path / "out" / "blobs" / "sha256") == []
    dst.put_blob(good, io.BytesIO(data))
    assert dst.has_blob(good)
    assert (tmp_path / "out" / blob_name(good.digest)).read_bytes() == data


def test_destination_refuses_symlinked_blobs_dir(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "blobs").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match="not a directory"):
        LayoutDestination(out)
