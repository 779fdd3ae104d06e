"""Dispatch by entry hints: the tables must never hide an entry an analyser's ``required`` wants."""

from __future__ import annotations

from dataclasses import dataclass, field

from lockgate.config import Limits
from lockgate.fs.dispatch import Dispatcher
from lockgate.fs.layers import LayerStream
from lockgate.fs.model import EMPTY, AnalysisResult, EntryHint, FileEntry, FileType
from lockgate.inventory.registry import default_analyzers
from tests.fixtures.images import BuiltImage

from .helpers import open_image


@dataclass
class Counting:
    """Wants ``*.lock`` files; counts how often ``required`` is asked."""

    name: str = "counting"
    version: int = 1
    needs_content: bool = False
    squash: bool = True
    max_size: int | None = None
    entry_hint: EntryHint | None = field(default_factory=lambda: EntryHint(name_suffixes=(".LOCK",)))
    asked: list[str] = field(default_factory=list)

    def required(self, entry: FileEntry) -> bool:
        self.asked.append(entry.path)
        return entry.path.lower().endswith(".lock")

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        return EMPTY


def brute_force(analyzers: list[object], entry: FileEntry) -> list[int]:
    return [i for i, a in enumerate(analyzers) if a.required(entry)]  # type: ignore[attr-defined]


def test_hinted_analyser_is_asked_only_about_matching_names() -> None:
    hinted, plain = Counting(), Counting(name="plain", entry_hint=None)
    d = Dispatcher([hinted, plain], Limits())
    paths = ["a/Cargo.lock", "b/yarn.LOCK", "c/readme", "lock", "d/lockfile", "e/x.lock/inner"]
    got = {p: d.wanted(FileEntry(path=p)) for p in paths}
    assert got == {p: ([0, 1] if p.lower().endswith(".lock") else []) for p in paths}
    assert hinted.asked == ["a/Cargo.lock", "b/yarn.LOCK"]
    assert plain.asked == paths


def test_every_hint_kind_routes_to_its_analyser() -> None:
    kinds = [
        EntryHint(paths=frozenset({"etc/os-release"})),
        EntryHint(path_prefixes=("var/lib/dpkg/status.d/",)),
        EntryHint(names=frozenset({"package.json"})),
        EntryHint(name_prefixes=("Requirements",)),
        EntryHint(name_suffixes=(".jar",)),
    ]
    analyzers = [Counting(name=f"k{i}", entry_hint=h) for i, h in enumerate(kinds)]
    d = Dispatcher(analyzers, Limits())
    for path, want in [
        ("etc/os-release", 0),
        ("var/lib/dpkg/status.d/base", 1),
        ("srv/app/node_modules/x/package.json", 2),
        ("requirements-dev.txt", 3),
        ("opt/App.JAR", 4),
    ]:
        d.wanted(FileEntry(path=path))
        assert [a.name for a in analyzers if a.asked[-1:] == [path]] == [f"k{want}"], path
    d.wanted(FileEntry(path="usr/bin/env"))
    assert all(a.asked[-1] != "usr/bin/env" for a in analyzers)


def test_inventory_hints_lose_nothing_on_the_debian_layer(debian_image: BuiltImage) -> None:
    """For every entry of the real image (and tricky names), tables and brute force agree."""
    img, _ = open_image(debian_image.oci_ref)
    entries: list[FileEntry] = []
    stream = LayerStream(img.source, img.layers[0], limits=Limits())
    with stream as items:
        entries.extend(it.entry for it in items)
    analyzers = default_analyzers()
    hinted = [a.name for a in analyzers if getattr(a, "entry_hint", None) is not None]
    assert len(hinted) >= 8
    extra = [
        "var/lib/dpkg/status.d/libc6",
        "usr/lib/opkg/status",
        "lib/apk/db/installed",
        "var/lib/rpm/Packages",
        "var/lib/rpm/rpmdb.sqlite",
        "usr/share/rpm/Packages.db",
        "var/lib/rpmmanifest/container-manifest-2",
        "etc/redhat-release",
        "etc/alpine-release",
        "opt/app/lib/Log4J-Core-2.14.1.JAR",
        "srv/app/package-lock.json",
        "srv/app/node_modules/left-pad/package.json",
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
        "app/go.mod",
        "app/Cargo.lock",
        "app/Gemfile.lock",
        "app/requirements.txt",
        "app/poetry.lock",
        "app/composer.lock",
        "usr/share/doc/zlib1g/copyright",
    ]
    entries += [FileEntry(path=p, size=4096, mode=0o755, type=FileType.FILE) for p in extra]
    d = Dispatcher(analyzers, Limits())
    wanted = 0
    for e in entries:
        expected = brute_force(analyzers, e)  # type: ignore[arg-type]
        assert d.wanted(e) == expected, e.path
        wanted += bool(expected)
    assert wanted > 400  # the analysers really wanted files here (dpkg, copyright, ELF binaries ...)
