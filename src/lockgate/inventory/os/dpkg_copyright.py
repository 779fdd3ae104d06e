"""Licences of Debian packages from ``usr/share/doc/<package>/copyright``.

dpkg's database has no licence field; like Trivy, lockgate reads the package's copyright
file: ``License:`` fields of the machine-readable format (DEP-5) and references to
``/usr/share/common-licenses/<NAME>`` in free-form files. Debian short names are mapped to
SPDX (``GPL-2+`` -> ``GPL-2.0-or-later``). The analyser emits one version-less *licence
record* per file; :func:`lockgate.inventory.finalize.finalize` attaches it to the installed
package of that name and drops the record.
"""

from __future__ import annotations

import re

from lockgate.fs.model import EMPTY, AnalysisResult, EntryHint, FileEntry
from lockgate.inventory.model import Package
from lockgate.inventory.os import RECORD_KEY

_DOC_RE = re.compile(r"^usr/share/doc/([a-z0-9][a-z0-9+.\-]+)/copyright$")
_LICENSE_RE = re.compile(r"License:([^\n]*)")
_COMMON_RE = re.compile(r"usr/share/common-licenses/([0-9A-Za-z_.+\-]+[0-9A-Za-z+])")
_FAMILY_RE = re.compile(r"^(A|L)?GPL-?(\d)(?:\.(\d))?(\+)?$", re.IGNORECASE)
_GFDL_RE = re.compile(r"^GFDL-?(\d)\.(\d)(\+)?$", re.IGNORECASE)
_SPLIT_RE = re.compile(r"\s*,?\s+(?:or|and)\s+|\s*[|,]\s*", re.IGNORECASE)
_BSD_RE = re.compile(r"^BSD-(\d)-clause(.*)$", re.IGNORECASE)
_GFDL_NIV_RE = re.compile(r"^GFDL-NIV-(\d)\.(\d)(\+)?$", re.IGNORECASE)
_MAX_LICENSES = 64

_SHORT = {
    "apache-2": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "expat": "MIT",
    "mit": "MIT",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "isc": "ISC",
    "zlib": "Zlib",
    "mpl-1.1": "MPL-1.1",
    "mpl-2.0": "MPL-2.0",
    "cc0-1.0": "CC0-1.0",
    "artistic-2.0": "Artistic-2.0",
    "python-2.0": "Python-2.0",
    "openssl": "OpenSSL",
    "psf-2": "PSF-2.0",
    "unicode-dfs-2016": "Unicode-DFS-2016",
    "boost-1.0": "BSL-1.0",
    "bsl-1.0": "BSL-1.0",
    "bitstream-vera": "Bitstream-Vera",
}


def normalize_debian_license(name: str) -> str:
    """A Debian short licence name as SPDX where the mapping is certain, else as written."""
    n = name.strip().rstrip(".")
    m = _FAMILY_RE.match(n)
    if m:
        prefix, major, minor, plus = m.groups()
        version = f"{major}.{minor or '0'}"
        return f"{(prefix or '').upper()}GPL-{version}-{'or-later' if plus else 'only'}"
    m = _GFDL_RE.match(n)
    if m:
        major, minor, plus = m.groups()
        return f"GFDL-{major}.{minor}-{'or-later' if plus else 'only'}"
    m = _GFDL_NIV_RE.match(n)
    if m:
        major, minor, plus = m.groups()
        return f"GFDL-{major}.{minor}-no-invariants-{'or-later' if plus else 'only'}"
    m = _BSD_RE.match(n)
    if m and n.lower() not in _SHORT:
        return f"BSD-{m.group(1)}-Clause{m.group(2)}"
    return _SHORT.get(n.lower(), n)


def parse_copyright(text: str) -> tuple[str, ...]:
    """Licence names declared in a Debian copyright file, in order of first mention."""
    found: list[str] = []

    def add(value: str) -> None:
        if value and value not in found and len(found) < _MAX_LICENSES:
            found.append(value)

    # Regexes with a literal prefix (fast scan): copyright files reach megabytes (boost, llvm).
    hits: list[tuple[int, str, bool]] = []
    for m in _LICENSE_RE.finditer(text):
        if m.start() == 0 or text[m.start() - 1] == "\n":  # a field at the start of a line
            hits.append((m.start(), m.group(1), False))
    for m in _COMMON_RE.finditer(text):
        hits.append((m.start(), m.group(1), True))
    for _, raw, common in sorted(hits):
        if common:
            add(normalize_debian_license(raw))
            continue
        value = raw.strip()
        if not value or len(value) > 200:
            continue
        if " with " in value.lower():
            add(value)  # "GPL-2+ with OpenSSL exception": keep the exception visible
            continue
        for part in _SPLIT_RE.split(value):
            if part.strip():
                add(normalize_debian_license(part))
    return tuple(found)


class DpkgCopyrightAnalyzer:
    """Licence records from ``usr/share/doc/*/copyright`` (joined to packages in finalize)."""

    name = "dpkg-copyright"
    version = 1
    needs_content = True
    squash = True
    entry_hint = EntryHint(names=frozenset({"copyright"}))
    max_size: int | None = 4 * 1024 * 1024

    def required(self, entry: FileEntry) -> bool:
        return entry.path.startswith("usr/share/doc/") and _DOC_RE.match(entry.path) is not None

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        m = _DOC_RE.match(entry.path)
        if m is None or b"\x00" in content:
            return EMPTY
        licenses = parse_copyright(content.decode("utf-8", "replace"))
        if not licenses:
            return EMPTY
        record = Package(
            ecosystem="deb",
            name=m.group(1),
            version="",
            licenses=licenses,
            path=entry.path,
            layer=entry.layer,
            metadata=(RECORD_KEY,),
        )
        return AnalysisResult(packages=(record,))
