"""docker-archive and oci-archive: read what make-oci-image.sh/skopeo wrote, refuse hostile tarballs."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest
import zstandard

from lockgate.config import Limits
from lockgate.errors import InputError, IntegrityError, LimitExceededError, NotFoundError
from lockgate.oci.archive import DockerArchiveSource, TarIndex, open_oci_archive
from lockgate.oci.copy import open_image
from lockgate.oci.model import sha256_digest
from tests.oci.conftest import MultiArch
from tests.oci.helpers import (
    Built,
    TarWriter,
    build,
    merge_archives,
    skopeo,
    skopeo_config,
    skopeo_raw_digest,
    tar_members,
)


def read_all_layers(src: DockerArchiveSource) -> list[str]:
    img = open_image(src)
    out = []
    for desc in img.layers:
        with src.open_blob(desc) as f:
            out.append("sha256:" + hashlib.sha256(f.read()).hexdigest())
    return out


def test_reads_make_oci_image_archive_like_skopeo(image: Built) -> None:
    src = DockerArchiveSource(image.archive)
    img = open_image(src)
    cfg_digest, diff_ids = skopeo_config(image.archive_ref)
    assert img.config.digest == cfg_digest
    assert list(img.config.diff_ids) == diff_ids
    assert [d.digest for d in img.layers] == diff_ids
    assert read_all_layers(src) == diff_ids
    assert src.repo_tags == ("lockgate/test:v1",)


def test_reads_skopeo_written_archive_with_symlinked_layers(image: Built, tmp_path: Path) -> None:
    """skopeo writes ``<legacy-id>/layer.tar`` as symlinks to ``<diffid>.tar``; they are followed inside the tar."""
    out = tmp_path / "sk.tar"
    skopeo("copy", "-q", image.oci_ref, f"docker-archive:{out}:example.com/team/app:2")
    src = DockerArchiveSource(out, name="example.com/team/app:2")
    cfg_digest, diff_ids = skopeo_config(f"docker-archive:{out}")
    assert open_image(src).config.digest == cfg_digest
    assert read_all_layers(src) == diff_ids


def test_multi_image_archive_selection_matches_skopeo(image: Built, tmp_path: Path) -> None:
    other = build(tmp_path / "b", variant="b", repo_tag="lockgate/other:v2")
    multi = merge_archives(tmp_path / "multi.tar", image.archive, other.archive)
    with pytest.raises(InputError, match=r"holds 2 images.*lockgate/test:v1, lockgate/other:v2"):
        DockerArchiveSource(multi)
    for sel, kw in (
        (":@0", {"index": 0}),
        (":@1", {"index": 1}),
        (":lockgate/other:v2", {"name": "lockgate/other:v2"}),
    ):
        cfg_digest, _ = skopeo_config(f"docker-archive:{multi}{sel}")
        assert open_image(DockerArchiveSource(multi, **kw)).config.digest == cfg_digest  # type: ignore[arg-type]
    # RepoTags match after normalisation, as in skopeo
    full = DockerArchiveSource(multi, name="docker.io/lockgate/other:v2")
    assert full.position == 1
    with pytest.raises(NotFoundError):
        DockerArchiveSource(multi, name="lockgate/other:v3")
    with pytest.raises(NotFoundError, match="out of range"):
        DockerArchiveSource(multi, index=2)


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_compressed_layer_members_are_detected(image: Built, tmp_path: Path, kind: str) -> None:
    """Newer ``docker save`` may store compressed layer members; skopeo decompresses them too."""
    members = tar_members(image.archive)
    manifest = json.loads(members["manifest.json"])
    w = TarWriter(tmp_path / f"{kind}.tar")
    for name, data in members.items():
        if name.endswith("layer.tar"):
            data = gzip.compress(data, mtime=0) if kind == "gzip" else zstandard.ZstdCompressor().compress(data)
        w.file(name, data)
    out = w.close()
    src = DockerArchiveSource(out)
    _, diff_ids = skopeo_config(image.archive_ref)
    assert read_all_layers(src) == diff_ids
    assert manifest[0]["Layers"]
    if kind == "gzip":
        assert skopeo_config(f"docker-archive:{out}")[1] == diff_ids


def test_lying_diff_id_is_integrity_error(image: Built, tmp_path: Path) -> None:
    members = tar_members(image.archive)
    manifest = json.loads(members["manifest.json"])
    layer_name = manifest[0]["Layers"][1]
    members[layer_name] = members[layer_name][:-1024] + b"\x01" + members[layer_name][-1023:]
    w = TarWriter(tmp_path / "bad.tar")
    for name, data in members.items():
        w.file(name, data)
    src = DockerArchiveSource(w.close())
    with pytest.raises(IntegrityError, match=open_image(src).layers[1].digest):
        read_all_layers(src)


def _archive_with(tmp_path: Path, image: Built, *extra: tuple[str, ...], drop: str = "") -> Path:
    members = tar_members(image.archive)
    w = TarWriter(tmp_path / "hostile.tar")
    for name, data in members.items():
        if name != drop:
            w.file(name, data)
    for spec in extra:
        kind, *args = spec
        if kind == "file":
            w.file(args[0], args[1].encode())
        elif kind == "symlink":
            w.link(args[0], args[1])
        elif kind == "hardlink":
            w.link(args[0], args[1], hard=True)
        elif kind == "device":
            w.device(args[0])
    return w.close()


@pytest.mark.parametrize(
    ("extra", "drop", "message"),
    [
        ((("file", "../evil", "x"),), "", "contains '..'"),
        ((("file", "/etc/evil", "x"),), "", "absolute path"),
        ((("file", "a/../../evil", "x"),), "", "contains '..'"),
        ((("file", "manifest.json", "[]"),), "", "more than once"),
        ((("symlink", "manifest.json", "/etc/passwd"),), "manifest.json", "symlink, not a regular file"),
        ((("device", "dev/null"),), "", "device"),
    ],
)
def test_hostile_archives_are_clean_input_errors(
    image: Built, tmp_path: Path, extra: tuple[tuple[str, ...], ...], drop: str, message: str
) -> None:
    path = _archive_with(tmp_path, image, *extra, drop=drop)
    with pytest.raises(InputError, match=message):
        DockerArchiveSource(path)


@pytest.mark.parametrize(
    ("kind", "target"), [("symlink", "../../../etc/passwd"), ("symlink", "/etc/passwd"), ("hardlink", "../x")]
)
def test_layer_links_cannot_leave_the_archive(image: Built, tmp_path: Path, kind: str, target: str) -> None:
    members = tar_members(image.archive)
    manifest = json.loads(members["manifest.json"])
    layer_name = manifest[0]["Layers"][0]
    w = TarWriter(tmp_path / "links.tar")
    for name, data in members.items():
        if name != layer_name:
            w.file(name, data)
    w.link(layer_name, target, hard=kind == "hardlink")
    with pytest.raises(InputError, match=r"contains '\.\.'|outside the archive|not found"):
        DockerArchiveSource(w.close())


def test_huge_manifest_json_is_refused(image: Built, tmp_path: Path) -> None:
    path = _archive_with(tmp_path, image)
    with pytest.raises(LimitExceededError, match=r"manifest\.json"):
        DockerArchiveSource(path, limits=Limits(max_manifest_bytes=64))


def test_truncated_archive_is_refused(image: Built, tmp_path: Path) -> None:
    data = image.archive.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        DockerArchiveSource(cut)


def test_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "x.tar").write_bytes(os.urandom(4096))
    with pytest.raises(InputError):
        TarIndex(tmp_path / "x.tar")
    with pytest.raises(NotFoundError):
        TarIndex(tmp_path / "missing.tar")


def test_reads_skopeo_oci_archive_with_same_digests(multiarch: MultiArch, tmp_path: Path) -> None:
    out = tmp_path / "img.oci.tar"
    skopeo("copy", "-q", f"oci:{multiarch.oci}:arm", f"oci-archive:{out}:t")
    src = open_oci_archive(out, "t")
    raw, _ = src.resolve()
    assert sha256_digest(raw) == skopeo_raw_digest(f"oci-archive:{out}:t")
    img = open_image(src, None)
    assert img.config.architecture == "arm64"
    for desc in img.layers:
        with src.open_blob(desc) as f:
            assert "sha256:" + hashlib.sha256(f.read()).hexdigest() == desc.digest


def test_oci_archive_with_symlinked_index_is_refused(tmp_path: Path) -> None:
    w = TarWriter(tmp_path / "x.tar")
    w.file("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    w.link("index.json", "/etc/passwd")
    with pytest.raises(InputError, match="symlink"):
        open_oci_archive(w.close())


def test_layer_sources_describe_foreign_layers(image: Built, tmp_path: Path) -> None:
    """``LayerSources`` (Windows base layers) replace the synthesised descriptor; the blob is not in the archive."""
    members = tar_members(image.archive)
    manifest = json.loads(members.pop("manifest.json"))
    cfg = json.loads(members[manifest[0]["Config"]])
    foreign = {
        "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "digest": "sha256:" + "c" * 64,
        "size": 1234,
        "urls": ["https://example.com/base.tar.gz"],
    }
    manifest[0]["LayerSources"] = {cfg["rootfs"]["diff_ids"][0]: foreign}
    w = TarWriter(tmp_path / "foreign.tar")
    for name, data in members.items():
        w.file(name, data)
    w.file("manifest.json", json.dumps(manifest).encode())
    src = DockerArchiveSource(w.close())
    img = open_image(src)
    assert img.layers[0].to_dict() == foreign
    assert img.layers[1].digest == cfg["rootfs"]["diff_ids"][1]
    with pytest.raises(NotFoundError):
        src.open_blob(img.layers[0])


def test_docker25_style_archive_with_oci_blobs(image: Built, tmp_path: Path) -> None:
    """Docker 25+ ``docker save``: an OCI layout plus a manifest.json naming ``blobs/sha256/...`` members.

    With the containerd image store those layer blobs are gzip-compressed; skopeo reads such archives too.
    """
    oci_tar = tmp_path / "layout.tar"
    skopeo("copy", "-q", image.oci_ref, f"oci-archive:{oci_tar}:v1")
    members = tar_members(oci_tar)
    index = json.loads(members["index.json"])
    manifest = json.loads(members["blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]])
    entry = {
        "Config": "blobs/sha256/" + manifest["config"]["digest"].split(":")[1],
        "RepoTags": ["lockgate/test:v1"],
        "Layers": ["blobs/sha256/" + d["digest"].split(":")[1] for d in manifest["layers"]],
    }
    w = TarWriter(tmp_path / "docker25.tar")
    for name, data in members.items():
        w.file(name, data)
    w.file("manifest.json", json.dumps([entry]).encode())
    out = w.close()
    src = DockerArchiveSource(out)
    cfg_digest, diff_ids = skopeo_config(f"docker-archive:{out}")
    assert open_image(src).config.digest == cfg_digest == skopeo_config(image.oci_ref)[0]
    assert read_all_layers(src) == diff_ids


@pytest.mark.parametrize(
    "entries",
    [
        [
            ("file", "oci-layout", '{"imageLayoutVersion":"1.0.0"}'),
            ("file", "index.json", "{"),
            ("file", "index.json", "{}"),
        ],
        [("file", "oci-layout", '{"imageLayoutVersion":"1.0.0"}'), ("file", "blobs/../../index.json", "{}")],
        [("file", "oci-layout", '{"imageLayoutVersion":"9"}'), ("file", "index.json", '{"manifests":[]}')],
        [("file", "oci-layout", '{"imageLayoutVersion":"1.0.0"}'), ("file", "index.json", '{"manifests":{}}')],
        [("file", "oci-layout", "not json"), ("file", "index.json", '{"manifests":[]}')],
    ],
)
def test_hostile_oci_archives(tmp_path: Path, entries: list[tuple[str, str, str]]) -> None:
    w = TarWriter(tmp_path / "h.tar")
    for _, name, data in entries:
        w.file(name, data.encode())
    with pytest.raises(InputError):
        open_oci_archive(w.close()).resolve()
