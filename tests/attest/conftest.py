"""Fixtures for the attestation tests: key pairs made by the CLI and fresh copies of a test image layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.registry import OCILayout, build_oci_image

from ._helpers import lockgate


@pytest.fixture(scope="session")
def att_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Key pairs written by ``lockgate key generate`` (name -> PREFIX; PREFIX.key and PREFIX.pub exist)."""
    d = tmp_path_factory.mktemp("attest-keys")
    out = {}
    for name, alg in (("alice", "ecdsa-p256"), ("bob", "ed25519"), ("carol", "rsa-3072"), ("mallory", "ecdsa-p256")):
        r = lockgate("key", "generate", "--out", str(d / name), "--algorithm", alg, env={"LOCKGATE_CONFIG_DIR": str(d)})
        assert r.returncode == 0, r.stderr
        out[name] = d / name
    return out


@pytest.fixture(scope="session")
def _att_layouts(tmp_path_factory: pytest.TempPathFactory) -> tuple[OCILayout, OCILayout]:
    base = tmp_path_factory.mktemp("attest-images")
    a = build_oci_image(base / "a", [{"etc/app.conf": b"mode=prod\n", "bin/run": b"#!/bin/sh\necho a\n"}], "v1")
    b = build_oci_image(base / "b", [{"etc/app.conf": b"mode=test\n"}], "v1")
    return a, b


@pytest.fixture
def layout(_att_layouts: tuple[OCILayout, OCILayout], tmp_path: Path) -> OCILayout:
    """A fresh copy of a one-layer image layout (tag ``v1``)."""
    dst = tmp_path / "img"
    shutil.copytree(_att_layouts[0].path, dst)
    return OCILayout(dst, "v1")


@pytest.fixture
def other_layout(_att_layouts: tuple[OCILayout, OCILayout], tmp_path: Path) -> OCILayout:
    """A fresh copy of a second, different image layout."""
    dst = tmp_path / "other"
    shutil.copytree(_att_layouts[1].path, dst)
    return OCILayout(dst, "v1")
