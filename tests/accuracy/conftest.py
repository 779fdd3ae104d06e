"""Fixtures of the accuracy tests: the advisory DB and the images of ``_images.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.accuracy._images import ensure_bullseye_history_image, ensure_pyvenv_image, ensure_syft_image
from tests.fixtures.bullseye import ensure_bullseye_image, ensure_bullseye_rootfs
from tests.fixtures.images import BuiltImage


@pytest.fixture(scope="session")
def accuracy_db(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lockgate DB imported (by the CLI) from the corpus Debian lists, PyPI and Go OSV records."""
    db = tmp_path_factory.mktemp("accuracy-db") / "lockgate.db"
    feeds = [corpus / "debian-dsa", corpus / "osv/pypi", corpus / "osv/go"]
    r = subprocess.run(
        [sys.executable, "-m", "lockgate", "db", "import", "--db", str(db), *map(str, feeds)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return db


@pytest.fixture(scope="session")
def bullseye_image_admindir() -> tuple[BuiltImage, Path]:
    """The untouched bullseye image and its rootfs's dpkg admindir."""
    return ensure_bullseye_image(), ensure_bullseye_rootfs() / "var/lib/dpkg"


@pytest.fixture(scope="session")
def bullseye_history_image() -> tuple[BuiltImage, Path]:
    """See :func:`ensure_bullseye_history_image`."""
    return ensure_bullseye_history_image()


@pytest.fixture(scope="session")
def pyvenv_image() -> tuple[BuiltImage, Path]:
    """See :func:`ensure_pyvenv_image`."""
    return ensure_pyvenv_image()


@pytest.fixture(scope="session")
def syft_image() -> tuple[BuiltImage, Path]:
    """See :func:`ensure_syft_image`."""
    return ensure_syft_image()
