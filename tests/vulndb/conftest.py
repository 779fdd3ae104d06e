"""Shared fixtures for the advisory-database tests: one database built from the whole offline corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.vulndb.feeds.importer import ImportSummary, import_paths
from lockgate.vulndb.store import Store

CORPUS_FEEDS = ("osv/pypi", "osv/go", "alpine-secdb", "debian-dsa")


@pytest.fixture(scope="session")
def corpus_import(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> ImportSummary:
    """Import every vulnerability feed of the corpus once per test session (per xdist worker)."""
    db = tmp_path_factory.mktemp("corpus-db") / "lockgate.db"
    return import_paths(db, [corpus / p for p in CORPUS_FEEDS], replace=True)


@pytest.fixture(scope="session")
def corpus_store(corpus_import: ImportSummary) -> Iterator[Store]:
    """A read-only store over the corpus database."""
    with Store(corpus_import.db_path) as s:
        yield s
