"""Shared fixtures: where the corpus lives, an isolated cache, and the CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("LOCKGATE_SHARED", REPO.parent / "shared")).resolve()
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The read-only shared corpus (``../shared/corpus``)."""
    assert CORPUS.is_dir(), f"corpus not found at {CORPUS}"
    return CORPUS


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own cache and config dirs, so no test sees another's state."""
    base = tmp_path_factory.mktemp("lockgate-home")
    monkeypatch.setenv("LOCKGATE_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("LOCKGATE_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("DOCKER_CONFIG", str(base / "docker"))
    yield


# Fixture plug-ins shared across test folders (real registry, real test images, ...).
# Each module is owned by the area that needs it; add new ones here.
pytest_plugins: list[str] = ["tests.fixtures.registry", "tests.fixtures.images", "tests.fixtures.bullseye"]

# Property tests explore new examples on developers' machines; in CI (CI=true) they are derandomized so a
# submission's result is reproducible. Failures found locally become explicit examples or fixes.
try:
    from hypothesis import settings as _hsettings

    _hsettings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        _hsettings.load_profile("ci")
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass
