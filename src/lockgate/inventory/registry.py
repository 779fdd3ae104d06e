"""The explicit list of default inventory analysers.

One place to see what ``scan --scanners pkg`` and ``sbom`` look at. Each area adds its
analysers to :func:`default_analyzers`.

The analysers are handed out as :class:`LazyAnalyzer` proxies: the layer cache is keyed by an
analyser's name, version and size cap, so a warm re-scan answered from the cache never needs
the analyser's code. The proxies carry those key fields (:data:`SPECS`, checked against the
real classes by ``tests/inventory/test_registry.py``) and import the analyser module only when
a layer actually has to be read — that import (regexes, zip/ELF/rpm parsers, format tables)
is a large part of a warm run's start-up. Where an analyser's entry hint is fixed, the spec
carries it too, so on a cold run the module loads only when a matching file turns up.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from lockgate.fs.model import EntryHint

if TYPE_CHECKING:
    from lockgate.fs.model import AnalysisResult, Analyzer, FileEntry


class AnalyzerSpec(msgspec.Struct, frozen=True):
    """The cache-key fields of an analyser and where its implementation lives."""

    name: str
    version: int
    max_size: int | None
    factory: str
    """``module:callable`` returning the analyser."""
    needs_content: bool = True
    squash: bool = True
    cache_params: str = ""
    hint: EntryHint | None = None
    """The analyser's ``entry_hint`` when it is fixed: the dispatcher then routes entries to the
    proxy without loading the module, which is imported only when a matching file turns up."""


_MiB = 1024 * 1024

_RPMDB = frozenset(
    d + f for d in ("var/lib/rpm/", "usr/lib/sysimage/rpm/") for f in ("Packages", "Packages.db", "rpmdb.sqlite")
)

OS_SPECS: tuple[AnalyzerSpec, ...] = (
    AnalyzerSpec("os-release", 2, 64 * 1024, "lockgate.inventory.os.release:OSReleaseAnalyzer"),
    AnalyzerSpec(
        "dpkg", 1, None, "lockgate.inventory.os.dpkg:DpkgAnalyzer",
        hint=EntryHint(paths=frozenset({"var/lib/dpkg/status"}), path_prefixes=("var/lib/dpkg/status.d/",)),
    ),
    AnalyzerSpec(
        "dpkg-copyright", 1, 4 * _MiB, "lockgate.inventory.os.dpkg_copyright:DpkgCopyrightAnalyzer",
        hint=EntryHint(names=frozenset({"copyright"})),
    ),
    AnalyzerSpec(
        "opkg", 1, None, "lockgate.inventory.os.dpkg:OpkgAnalyzer",
        hint=EntryHint(paths=frozenset({"usr/lib/opkg/status", "var/lib/opkg/status"})),
    ),
    AnalyzerSpec(
        "apk", 1, None, "lockgate.inventory.os.apk:ApkAnalyzer",
        hint=EntryHint(paths=frozenset({"lib/apk/db/installed", "usr/lib/apk/db/installed"})),
    ),
    AnalyzerSpec("rpm", 2, 1024 * _MiB, "lockgate.inventory.os.rpm.analyzer:RpmAnalyzer", hint=EntryHint(paths=_RPMDB)),
    AnalyzerSpec(
        "rpm-manifest", 1, None, "lockgate.inventory.os.rpm.manifest:RpmManifestAnalyzer",
        hint=EntryHint(paths=frozenset({"var/lib/rpmmanifest/container-manifest-2"})),
    ),
)  # fmt: skip
"""Release-file detection and OS package databases (dpkg, opkg, apk, rpm)."""

LANG_SPECS: tuple[AnalyzerSpec, ...] = (
    AnalyzerSpec("lang-files", 1, 64 * _MiB, "lockgate.inventory.lang:files_analyzer"),
    AnalyzerSpec(
        "lang-java",
        1,
        160 * _MiB,
        "lockgate.inventory.lang.java:JavaAnalyzer",
        hint=EntryHint(name_suffixes=(".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar", ".kar", ".rar")),
    ),
    AnalyzerSpec("lang-binary", 1, 256 * _MiB, "lockgate.inventory.lang.binary:BinaryAnalyzer"),
)
"""Language packages: manifests and lock files, Java archives, executables."""

SPECS: tuple[AnalyzerSpec, ...] = OS_SPECS + LANG_SPECS


def build(spec: AnalyzerSpec) -> Analyzer:
    """The real analyser behind ``spec`` (imports its module)."""
    module, _, attr = spec.factory.partition(":")
    factory: Callable[[], Analyzer] = getattr(importlib.import_module(module), attr)
    return factory()


_BUILD_LOCK = threading.Lock()


class LazyAnalyzer:
    """An analyser proxy: cache-key fields now, the implementation on first real use.

    Any attribute beyond the key fields and a fixed ``entry_hint`` (``required``, ``analyze`` ...)
    loads the analyser and is then copied onto the proxy, so the per-entry calls of a cold walk go
    straight to the real bound methods. With a hint, that happens only when an entry matches it.
    """

    required: Callable[[FileEntry], bool]
    analyze: Callable[[FileEntry, bytes], AnalysisResult]

    def __init__(self, spec: AnalyzerSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.version = spec.version
        self.needs_content = spec.needs_content
        self.squash = spec.squash
        self.max_size = spec.max_size
        self.cache_params = spec.cache_params
        self._real: Analyzer | None = None
        if spec.hint is not None:
            self.entry_hint = spec.hint
            # the dispatcher binds these once per layer; they load the analyser on the first matching entry
            self.required = self._load_then_required
            self.analyze = self._load_then_analyze

    @property
    def real(self) -> Analyzer:
        """The loaded analyser (built once, even when two layer threads ask at the same time)."""
        if self._real is None:
            with _BUILD_LOCK:
                if self._real is None:
                    real = build(self.spec)
                    self.required = real.required
                    self.analyze = real.analyze
                    self._real = real
        return self._real

    def _load_then_required(self, entry: FileEntry) -> bool:
        return self.real.required(entry)

    def _load_then_analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        return self.real.analyze(entry, content)

    def __getattr__(self, attr: str) -> Any:
        # Only called for attributes not found normally: never for the key fields above.
        if attr.startswith("__") or attr in ("spec", "_real"):
            raise AttributeError(attr)
        value = getattr(self.real, attr)
        self.__dict__[attr] = value
        return value

    def __repr__(self) -> str:
        return f"LazyAnalyzer({self.name!r}, loaded={self._real is not None})"


def os_analyzers() -> list[Analyzer]:
    """Release-file detection and OS package databases (dpkg, opkg, apk, rpm)."""
    return [LazyAnalyzer(s) for s in OS_SPECS]


def lang_analyzers() -> list[Analyzer]:
    """Language package analysers (owned by the language-inventory area)."""
    return [LazyAnalyzer(s) for s in LANG_SPECS]


def default_analyzers() -> list[Analyzer]:
    """Every inventory analyser, OS first."""
    return [*os_analyzers(), *lang_analyzers()]
