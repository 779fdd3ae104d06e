"""The explicit list of default inventory analysers.

One place to see what ``scan --scanners pkg`` and ``sbom`` look at. Each area adds its
analysers to :func:`default_analyzers`; imports are local so that importing this module
stays cheap for the CLI.
"""

from __future__ import annotations

from lockgate.fs.model import Analyzer


def os_analyzers() -> list[Analyzer]:
    """Release-file detection and OS package databases (dpkg, opkg, apk, rpm)."""
    from lockgate.inventory.os.apk import ApkAnalyzer
    from lockgate.inventory.os.dpkg import DpkgAnalyzer, OpkgAnalyzer
    from lockgate.inventory.os.dpkg_copyright import DpkgCopyrightAnalyzer
    from lockgate.inventory.os.release import OSReleaseAnalyzer
    from lockgate.inventory.os.rpm.analyzer import RpmAnalyzer
    from lockgate.inventory.os.rpm.manifest import RpmManifestAnalyzer

    return [
        OSReleaseAnalyzer(),
        DpkgAnalyzer(),
        DpkgCopyrightAnalyzer(),
        OpkgAnalyzer(),
        ApkAnalyzer(),
        RpmAnalyzer(),
        RpmManifestAnalyzer(),
    ]


def lang_analyzers() -> list[Analyzer]:
    """Language package analysers (owned by the language-inventory area)."""
    from lockgate.inventory.lang import language_analyzers

    return language_analyzers()


def default_analyzers() -> list[Analyzer]:
    """Every inventory analyser, OS first."""
    return [*os_analyzers(), *lang_analyzers()]
