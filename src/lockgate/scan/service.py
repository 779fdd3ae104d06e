"""Run the pipeline for images, directories and SBOMs, producing one :class:`ScanReport`.

Library code: no printing. Progress goes to an optional callback; timings are recorded
in the report. Every gap (unreadable files, unmatched packages) stays in the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec.structs import replace

from lockgate.config import Settings
from lockgate.errors import ConfigError, NotFoundError
from lockgate.findings.model import CoverageGap, Finding, ScanReport
from lockgate.inventory.model import OSInfo, Package
from lockgate.inventory.registry import AnalyzerSpec
from lockgate.scan.options import Scanner, ScanOptions

if TYPE_CHECKING:
    from lockgate.fs.model import Analyzer
    from lockgate.oci.model import ImageConfig

ProgressFn = Callable[[int], None]
"""Receives byte counts as layers stream; ``total`` is set once via ``ProgressStart``."""
ProgressStart = Callable[[str, int], None]


class _Timer:
    def __init__(self) -> None:
        self.items: list[tuple[str, float]] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.items.append((name, time.perf_counter() - t))


def _config_fingerprint(config: dict[str, object]) -> str:
    """Hash of a scanner's policy section and of the files it names (rule dirs, hash lists).

    Custom rules change what an analyser finds, so they must be part of the layer-cache key;
    files are hashed by content so editing a rule file also invalidates cached results.
    """
    import hashlib
    import json

    h = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    for key in ("rule_dirs", "hash_lists"):
        for item in config.get(key) or []:  # type: ignore[attr-defined]
            p = Path(str(item))
            files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p] if p.is_file() else []
            for f in files:
                h.update(str(f).encode())
                h.update(hashlib.sha256(f.read_bytes()).digest())
    return "cfg=" + h.hexdigest()[:20]


SECRET_SPEC = AnalyzerSpec("secret", 3, None, "lockgate.detect.secrets.custom:default_analyzer", squash=False)
"""The built-in secret scanner's cache-key fields (checked against the real one in the tests)."""


def analyzers_for(options: ScanOptions, *, image: bool) -> list[Analyzer]:
    """The explicit analyser list for the requested scanners (inventory only when needed)."""
    out: list[Analyzer] = []
    if options.wants_inventory:
        from lockgate.inventory.registry import default_analyzers

        out.extend(default_analyzers())
    if Scanner.SECRET in options.scanners:
        if options.secrets_config:
            from lockgate.detect.secrets.custom import load_secret_settings

            secret = load_secret_settings(options.secrets_config).analyzer()
            secret.cache_params = _config_fingerprint(options.secrets_config)  # type: ignore[attr-defined]
            out.append(secret)
        else:
            from lockgate.inventory.registry import LazyAnalyzer

            out.append(LazyAnalyzer(SECRET_SPEC))  # the rules compile only when a layer is read
    if Scanner.MALWARE in options.scanners:
        from lockgate.detect.malware.custom import load_malware_settings

        malware = load_malware_settings(options.malware_config).analyzer()
        if options.malware_config:
            malware.cache_params = _config_fingerprint(options.malware_config)  # type: ignore[attr-defined]
        out.append(malware)
    if Scanner.MISCONFIG in options.scanners and image:
        from lockgate.misconfig.imageconfig import ImageHardeningAnalyzer

        out.append(ImageHardeningAnalyzer())
    return out


def _config_findings(config: ImageConfig, target: str, options: ScanOptions) -> tuple[Finding, ...]:
    """Checks on the image config itself: secrets in env/labels/history, hardening of user and ports."""
    found: list[Finding] = []
    if Scanner.SECRET in options.scanners:
        from lockgate.detect.secrets.config import scan_image_config

        found.extend(scan_image_config(config))
    if Scanner.MISCONFIG in options.scanners:
        from lockgate.misconfig.imageconfig import check_image_config

        found.extend(check_image_config(config, target))
    return tuple(found)


def _match(
    packages: tuple[Package, ...], os: OSInfo | None, options: ScanOptions, settings: Settings
) -> tuple[tuple[Finding, ...], tuple[CoverageGap, ...], tuple[str, ...]]:
    from lockgate.vulndb.matcher import match_report
    from lockgate.vulndb.store import Store, check_fresh

    db = options.db_path or settings.db_path
    if not db.exists():
        raise NotFoundError(
            f"no advisory database at {db}; build one with `lockgate db import PATH` or `lockgate db update`"
        )
    with Store(db) as store:
        check_fresh(store, options.db_max_age, options.reference_time())
        result = match_report(packages, os, store, now=options.reference_time())
    return result.findings, result.gaps, ()


def _finish(
    *,
    target: str,
    artifact_type: str,
    digest: str,
    os: OSInfo | None,
    packages: tuple[Package, ...],
    findings: tuple[Finding, ...],
    gaps: tuple[CoverageGap, ...],
    options: ScanOptions,
    settings: Settings,
    timer: _Timer,
    metadata: tuple[tuple[str, str], ...] = (),
) -> ScanReport:
    warnings: tuple[str, ...] = ()
    if options.wants_vulns:
        with timer.phase("match"):
            vulns, match_gaps, warnings = _match(packages, os, options, settings)
        findings = findings + vulns
        gaps = gaps + match_gaps
    if os is not None and os.eosl:
        warnings = (*warnings, f"{os.family} {os.version} reached end of life on {os.eol}; it gets no security fixes")
    return ScanReport(
        target=target,
        artifact_type=artifact_type,
        artifact_digest=digest,
        os=os,
        packages=packages,
        findings=findings,
        gaps=tuple(dict.fromkeys(gaps)),
        warnings=warnings,
        timings=tuple(timer.items),
        metadata=metadata,
    )


def scan_image(
    target: str,
    options: ScanOptions,
    settings: Settings,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ScanReport:
    """Scan an image reference (any transport). ``progress(done_bytes, total_bytes)`` is optional."""
    from lockgate.fs.walker import analyze_image
    from lockgate.inventory.finalize import finalize, finalize_os
    from lockgate.oci.copy import open_image
    from lockgate.oci.targets import open_source

    timer = _Timer()
    today = options.reference_time().date()
    with timer.phase("open"):
        source = open_source(target, options.registry, limits=settings.limits)
        if options.decryption_keys:
            from lockgate.encryption.image import decrypting_source
            from lockgate.encryption.keys import parse_keys

            try:
                source = decrypting_source(
                    source,
                    parse_keys(options.decryption_keys),
                    platform=options.platform,
                    cache_dir=settings.cache_dir / "staging",
                    limits=settings.limits,
                    strict=False,
                )
            except BaseException:
                source.close()
                raise
    try:
        with timer.phase("config"):
            image = open_image(source, options.platform, settings.limits)
        total = sum(d.size for d in image.layers)
        done = 0

        def on_bytes(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, total)

        with timer.phase("analyze"):
            analysis = analyze_image(
                image,
                analyzers_for(options, image=True),
                settings=settings,
                progress=on_bytes,
                cache=options.use_cache,
            )
        extra: tuple[Finding, ...] = ()
        if Scanner.MALWARE in options.scanners:
            from lockgate.detect.malware.ownership import unowned_binaries

            with timer.phase("ownership"):
                extra = unowned_binaries(image, settings)  # executables no package database owns
    finally:
        source.close()
    os = finalize_os(analysis.os, today)
    packages = finalize(analysis.packages, os, today)
    cfg = image.config
    metadata: list[tuple[str, str]] = [
        ("config_digest", image.manifest.config.digest),
        ("manifest_media_type", image.manifest.media_type),
        ("platform", str(cfg.platform)),
        ("diff_ids", ",".join(analysis.layers)),
    ]
    if image.index is not None:
        metadata.append(("index_digest", image.index.digest))
    return _finish(
        target=target,
        artifact_type="container_image",
        digest=image.digest,
        os=os,
        packages=packages,
        findings=analysis.findings + extra + _config_findings(image.config, target, options),
        gaps=analysis.gaps,
        options=options,
        settings=settings,
        timer=timer,
        metadata=tuple(metadata),
    )


def scan_directory(path: Path, options: ScanOptions, settings: Settings) -> ScanReport:
    """Scan a root file system or project directory."""
    from lockgate.fs.directory import analyze_directory
    from lockgate.inventory.finalize import finalize, finalize_os

    if not path.exists():
        raise NotFoundError(f"{path}: no such file or directory")
    if not path.is_dir():
        raise ConfigError(f"{path}: not a directory (scan fs takes a directory)")
    timer = _Timer()
    today = options.reference_time().date()
    with timer.phase("analyze"):
        analysis = analyze_directory(path, analyzers_for(options, image=False), settings=settings)
    findings, gaps = analysis.findings, analysis.gaps
    if Scanner.MALWARE in options.scanners:
        from lockgate.detect.malware.ownership import unowned_binaries_in_directory

        with timer.phase("ownership"):
            findings = findings + unowned_binaries_in_directory(path, settings)
    if Scanner.MISCONFIG in options.scanners:
        from lockgate.misconfig.scan import scan_config_paths

        with timer.phase("misconfig"):
            config_report = scan_config_paths([path], settings=settings)
        findings, gaps = findings + config_report.findings, gaps + config_report.gaps
    os = finalize_os(analysis.os, today)
    return _finish(
        target=str(path),
        artifact_type="filesystem",
        digest="",
        os=os,
        packages=finalize(analysis.packages, os, today),
        findings=findings,
        gaps=gaps,
        options=options,
        settings=settings,
        timer=timer,
    )


def scan_sbom(path: Path, options: ScanOptions, settings: Settings) -> ScanReport:
    """Scan the inventory recorded in a CycloneDX or SPDX JSON document."""
    from lockgate.inventory.sbom import read_sbom

    timer = _Timer()
    with timer.phase("parse"):
        sbom = read_sbom(path, settings.limits)
    return _finish(
        target=str(path),
        artifact_type="sbom",
        digest=sbom.digest,
        os=sbom.os,
        packages=sbom.packages,
        findings=(),
        gaps=sbom.gaps,
        options=options,
        settings=settings,
        timer=timer,
        metadata=(("sbom_format", sbom.format), ("sbom_subject", sbom.subject)),
    )


def inventory_only(options: ScanOptions) -> ScanOptions:
    """The same options with vulnerability matching switched off (for ``sbom``)."""
    from lockgate.scan.options import Scanner

    return replace(options, scanners=frozenset({Scanner.PKG}))
