"""The lazy inventory analysers: their cache-key fields equal the real analysers', and they load on use."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lockgate.config import Settings
from lockgate.fs.directory import analyze_directory
from lockgate.fs.model import FileEntry
from lockgate.inventory.lang import language_analyzers
from lockgate.inventory.registry import SPECS, AnalyzerSpec, LazyAnalyzer, build, default_analyzers
from lockgate.scan.service import SECRET_SPEC


@pytest.mark.parametrize("spec", (*SPECS, SECRET_SPEC), ids=lambda s: s.name)
def test_spec_matches_the_real_analyzer(spec: AnalyzerSpec) -> None:
    """A stale spec would serve cached results of an older analyser version: every field must agree."""
    lazy = LazyAnalyzer(spec)
    real = build(spec)
    for field in ("name", "version", "needs_content", "squash", "max_size"):
        assert getattr(lazy, field) == getattr(real, field), field
    assert lazy.cache_params == (getattr(real, "cache_params", "") or "")
    if spec.hint is not None:  # a stale hint would hide files from the analyser
        assert spec.hint == getattr(real, "entry_hint", None)


def test_every_language_analyzer_has_a_spec() -> None:
    names = {a.name for a in language_analyzers()}
    assert names <= {s.name for s in SPECS}


def test_key_fields_do_not_load_the_module() -> None:
    spec = next(s for s in SPECS if s.name == "lang-java")
    module = spec.factory.partition(":")[0]
    sys.modules.pop(module, None)
    lazy = LazyAnalyzer(spec)
    assert (lazy.name, lazy.version, lazy.max_size, lazy.cache_params) == ("lang-java", 1, 160 * 1024 * 1024, "")
    assert module not in sys.modules
    assert lazy.required(FileEntry(path="app/lib/x.jar", size=10)) is True
    assert module in sys.modules
    assert "loaded=True" in repr(lazy)


def test_lazy_analyzers_find_what_the_real_ones_find(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\nSource: zlib\n\n"
    )
    (root / "app").mkdir()
    (root / "app/requirements.txt").write_text("requests==2.31.0\n")
    settings = Settings(cache_dir=tmp_path / "cache")
    lazy = analyze_directory(root, default_analyzers(), settings=settings)
    real = analyze_directory(root, [build(s) for s in SPECS], settings=settings)
    assert {(p.ecosystem, p.name, p.version) for p in lazy.packages} == {
        (p.ecosystem, p.name, p.version) for p in real.packages
    }
    assert {(p.name, p.version) for p in lazy.packages} >= {("zlib1g", "1:1.2.13.dfsg-1"), ("requests", "2.31.0")}
    assert lazy.os is not None and lazy.os.family == "debian"


def test_concurrent_first_use_builds_one_analyzer() -> None:
    import threading

    spec = next(s for s in SPECS if s.name == "lang-files")
    lazy = LazyAnalyzer(spec)
    start = threading.Barrier(4)
    seen: list[object] = []

    def use() -> None:
        start.wait()
        lazy.required(FileEntry(path="app/package.json", size=2))
        seen.append(lazy.real)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and all(r is seen[0] for r in seen)


def test_hinted_analyzers_load_only_when_a_file_matches(tmp_path: Path) -> None:
    """A tree without rpm, apk or Java files never imports those analysers' modules."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("Package: a\nStatus: install ok installed\nVersion: 1\n\n")
    lazies = default_analyzers()
    analyze_directory(root, lazies, settings=Settings(cache_dir=tmp_path / "cache"))
    loaded = {a.name for a in lazies if isinstance(a, LazyAnalyzer) and a._real is not None}
    assert {"os-release", "dpkg"} <= loaded
    assert not loaded & {"rpm", "rpm-manifest", "apk", "opkg", "lang-java", "dpkg-copyright"}
