"""Target strings, parsed with skopeo's transport syntax (first colon splits path and tag)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.errors import ConfigError, InputError, NotFoundError
from lockgate.oci.layout import LayoutSource
from lockgate.oci.targets import open_destination, open_source, parse_target
from tests.oci.helpers import Built


def test_oci_path_and_tag() -> None:
    t = parse_target("oci:/tmp/x:v1.2")
    assert (t.transport, t.path, t.tag) == ("oci", Path("/tmp/x"), "v1.2")
    t = parse_target("oci:rel/dir")
    assert (t.transport, t.path, t.tag) == ("oci", Path("rel/dir"), None)
    # skopeo splits at the first colon: the rest is the tag (ref.name may contain ':')
    t = parse_target("oci:/tmp/x:a:b")
    assert (t.path, t.tag) == (Path("/tmp/x"), "a:b")
    assert str(parse_target("oci:/tmp/x:v1")) == "oci:/tmp/x:v1"


def test_oci_archive() -> None:
    t = parse_target("oci-archive:/tmp/a.tar:latest")
    assert (t.transport, t.path, t.tag) == ("oci-archive", Path("/tmp/a.tar"), "latest")


def test_docker_archive_forms() -> None:
    t = parse_target("docker-archive:/tmp/a.tar")
    assert (t.transport, t.path, t.reference, t.index) == ("docker-archive", Path("/tmp/a.tar"), None, None)
    t = parse_target("docker-archive:/tmp/a.tar:@3")
    assert t.index == 3
    t = parse_target("docker-archive:/tmp/a.tar:alpine")
    assert t.reference is not None and str(t.reference) == "docker.io/library/alpine:latest"
    t = parse_target("docker-archive:/tmp/a.tar:localhost:5000/x/y:z")
    assert t.reference is not None and (t.reference.registry, t.reference.repository, t.reference.tag) == (
        "localhost:5000",
        "x/y",
        "z",
    )


@pytest.mark.parametrize(
    "text",
    [
        "docker-archive:/tmp/a.tar:alpine@sha256:" + "a" * 64,
        "docker-archive:/tmp/a.tar:@x",
        "docker-archive::x",
        "oci::tag",
        "oci:/tmp/x:bad tag",
        "oci:/tmp/x:-lead",
        "Not A Ref!",
        "",
    ],
)
def test_invalid_targets(text: str) -> None:
    with pytest.raises(InputError):
        parse_target(text)


def test_registry_references() -> None:
    t = parse_target("alpine")
    assert t.transport == "registry" and str(t.reference) == "docker.io/library/alpine:latest"
    t = parse_target("docker://127.0.0.1:5000/a/b@sha256:" + "b" * 64)
    assert t.reference is not None and t.reference.digest == "sha256:" + "b" * 64 and t.reference.tag is None


def test_bare_layout_directory(image: Built, tmp_path: Path) -> None:
    t = parse_target(str(image.oci))
    assert (t.transport, t.path, t.tag) == ("oci", image.oci, None)
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="neither an OCI layout"):
        parse_target(str(tmp_path / "plain"))


def test_open_source_and_destination(image: Built, tmp_path: Path) -> None:
    src = open_source(image.oci_ref)
    assert isinstance(src, LayoutSource)
    assert src.reference == image.oci_ref
    with pytest.raises(NotFoundError):
        open_source(f"oci:{tmp_path / 'missing'}")
    with pytest.raises(NotFoundError):
        open_source(f"docker-archive:{tmp_path / 'missing.tar'}")
    with pytest.raises(ConfigError, match="@N"):
        open_destination(f"docker-archive:{tmp_path / 'x.tar'}:@0")
    with pytest.raises(ConfigError, match="does not exist"):
        open_destination(f"oci-archive:{tmp_path / 'nodir' / 'x.tar'}")
    dst = open_destination(f"oci:{tmp_path / 'new' / 'layout'}:t")
    assert (tmp_path / "new" / "layout" / "oci-layout").is_file()
    dst.close()
