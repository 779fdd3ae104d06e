"""Fixtures for the OCI transport tests: small real images built once per test session (per xdist worker)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.oci.helpers import Built, add_index, build


@dataclass(frozen=True)
class MultiArch:
    """An OCI layout with an amd64 and an arm64/v8 image (tags ``amd``/``arm``) and an index tagged ``multi``."""

    oci: Path
    index_digest: str
    amd: Built
    arm: Built


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A two-layer image (OCI layout ``oci:DIR:v1`` and docker-archive). Read-only: copy before changing."""
    return build(tmp_path_factory.mktemp("img"), repo_tag="lockgate/test:v1")


@pytest.fixture(scope="session")
def multiarch(tmp_path_factory: pytest.TempPathFactory) -> MultiArch:
    """A multi-platform OCI layout. Read-only."""
    base = tmp_path_factory.mktemp("multi")
    oci = base / "oci"
    amd = build(base / "amd", variant="m", tag="amd", arch="amd64", oci=oci, repo_tag="lockgate/multi:amd")
    arm = build(base / "arm", variant="m", tag="arm", arch="arm64", oci=oci, repo_tag="lockgate/multi:arm")
    digest = add_index(oci, "multi", {"amd": ("amd64", ""), "arm": ("arm64", "v8")})
    return MultiArch(oci=oci, index_digest=digest, amd=amd, arm=arm)


@pytest.fixture
def image_copy(image: Built, tmp_path: Path) -> Built:
    """A private, writable copy of :func:`image`."""
    oci = tmp_path / "oci"
    shutil.copytree(image.oci, oci)
    archive = tmp_path / "image.tar"
    shutil.copy2(image.archive, archive)
    return Built(oci=oci, tag=image.tag, archive=archive, repo_tag=image.repo_tag)
