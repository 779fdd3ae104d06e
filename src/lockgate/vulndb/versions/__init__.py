"""Version ordering per ecosystem: ``comparator_for("Debian:12").compare(a, b)``.

One small module per scheme (dpkg, apk, rpm, PEP 440, SemVer, Go, Maven, RubyGems,
NuGet, Composer ...) behind the :class:`Comparator` interface; :mod:`.registry` maps
OSV ecosystem names to them.
"""

from lockgate.vulndb.versions.base import Comparator, UnknownEcosystemError
from lockgate.vulndb.versions.registry import comparator_for, supported

__all__ = ["Comparator", "UnknownEcosystemError", "comparator_for", "supported"]
