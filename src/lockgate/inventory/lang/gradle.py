"""Java packages from Gradle's dependency lock files (``gradle.lockfile``, ``*.lockfile`` per configuration).

One ``group:artifact:version=configuration,...`` line per resolved module; ``empty=`` and
comments carry no packages. Modules locked only for test configurations are marked dev.
"""

from __future__ import annotations

from lockgate.inventory.lang._common import Collector, Format, LangAnalyzer, decode

ECO = "Maven"


def parse_gradle_lockfile(content: bytes, col: Collector) -> None:
    """``gradle.lockfile``: ``group:artifact:version=configurations``."""
    for lineno, raw in enumerate(decode(content).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coords, _, configs = line.partition("=")
        parts = coords.split(":")
        if len(parts) != 3 or not all(parts):
            col.problem(f"line {lineno}: not group:artifact:version")
            continue
        group, artifact, version = parts
        names = [c.strip() for c in configs.split(",") if c.strip()]
        meta = {"dep_groups": "dev"} if names and all("test" in c.lower() for c in names) else {}
        col.add(ECO, f"{group}:{artifact}", version, metadata=meta)


FORMATS = (
    Format(
        "gradle.lockfile",
        ECO,
        lambda p, n: n == "gradle.lockfile",
        parse_gradle_lockfile,
        names=("gradle.lockfile",),
    ),
)


def analyzer() -> LangAnalyzer:
    """The Gradle lock-file analyser."""
    return LangAnalyzer("lang-gradle", 1, FORMATS, max_size=16 * 1024 * 1024)
