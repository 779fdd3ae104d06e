"""The debootstrapped Debian bookworm image (tests/fixtures/images.py) through every local transport.

A real 88-package root file system, so layer streaming and archive indexing are exercised at a
realistic size; skopeo checks each result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.oci.copy import copy_image
from lockgate.oci.targets import open_destination, open_source
from tests.fixtures.images import BuiltImage
from tests.oci.helpers import skopeo, skopeo_config, skopeo_raw_digest

pytestmark = pytest.mark.slow


def copy(src: str, dst: str) -> str:
    source, destination = open_source(src), open_destination(dst)
    try:
        return copy_image(source, destination)
    finally:
        destination.close()
        source.close()


def test_debian_round_trip_through_all_local_transports(debian_image: BuiltImage, tmp_path: Path) -> None:
    oracle = skopeo_config(debian_image.oci_ref)
    digest = copy(debian_image.oci_ref, f"oci-archive:{tmp_path / 'a.tar'}:x")
    assert digest == skopeo_raw_digest(debian_image.oci_ref) == skopeo_raw_digest(f"oci-archive:{tmp_path / 'a.tar'}:x")
    copy(f"oci-archive:{tmp_path / 'a.tar'}:x", f"docker-archive:{tmp_path / 'd.tar'}:lockgate/debian:x")
    assert skopeo_config(f"docker-archive:{tmp_path / 'd.tar'}") == oracle
    copy(f"docker-archive:{tmp_path / 'd.tar'}", f"oci:{tmp_path / 'l'}:y")
    assert skopeo_config(f"oci:{tmp_path / 'l'}:y") == oracle
    # skopeo reads every blob of the final layout (verifying digests) into its own docker-archive
    skopeo("copy", "-q", f"oci:{tmp_path / 'l'}:y", f"docker-archive:{tmp_path / 'sk.tar'}")
    assert skopeo_config(f"docker-archive:{tmp_path / 'sk.tar'}")[1] == oracle[1]


def test_debian_docker_archive_from_make_oci_image(debian_image: BuiltImage, tmp_path: Path) -> None:
    copy(debian_image.archive_ref, f"oci:{tmp_path / 'l'}:z")
    assert skopeo_config(f"oci:{tmp_path / 'l'}:z") == skopeo_config(debian_image.archive_ref)
