"""Fixtures for the encryption tests: key pairs per algorithm and a small plain image."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.encryption._helpers import KeyPair, make_keypair, make_plain_image


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    d = tmp_path_factory.mktemp("enc-keys")
    return {n: make_keypair(d, n) for n in ("rsa", "rsa2", "ec256", "ec384")}


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    return make_plain_image(tmp_path / "plain")
