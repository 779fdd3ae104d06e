"""Java archives (JAR, WAR, EAR, JPI, HPI): Maven coordinates from the archive's own metadata.

Order of evidence, per archive:

1. every ``pom.properties`` (``META-INF/maven/<group>/<artifact>/pom.properties``) with a
   groupId, artifactId and version — one package each (shaded/fat jars list several);
2. otherwise ``META-INF/MANIFEST.MF`` (Implementation-*/Specification-*/Bundle-* headers),
   combined with
3. the file name ``artifact-1.2.3.jar`` when identification by file name is enabled.

Nested archives (``BOOT-INF/lib/*.jar``, ``WEB-INF/lib/*.jar``, jars in EARs) are opened
recursively in memory under limits on depth, total bytes opened and per-member size with a
compression-ratio check, so zip bombs and deep nesting end in a coverage gap, not a crash.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, EntryHint, FileEntry, FileType
from lockgate.inventory.lang._common import Collector, Format, ParseError, decode, run_format

ECO = "Maven"
ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar", ".kar", ".rar")

_VALID_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_FILENAME = re.compile(r"^(?P<artifact>.+?)-(?P<version>\d[\w.+-]*?)(?:-(?:sources|javadoc|tests|all|shaded))?$")

# Artifacts whose manifests do not name their group (a small hand-kept table).
_KNOWN_GROUPS = {
    "axis": "org.apache.axis",
    "axis-ant": "org.apache.axis",
    "commons-logging": "commons-logging",
    "commons-io": "commons-io",
    "commons-lang": "commons-lang",
    "commons-collections": "commons-collections",
    "log4j": "log4j",
    "spring-core": "org.springframework",
}
_KNOWN_PREFIX_GROUPS = (("spring-", "org.springframework"),)


@dataclass(frozen=True, slots=True)
class JarLimits:
    """Safety limits for reading archives (zip bombs, deep nesting)."""

    max_depth: int = 16
    """Deepest nesting of archives inside archives."""
    max_total_bytes: int = 256 * 1024 * 1024
    """Bytes opened in total (the outer archive plus every nested archive read)."""
    max_member_bytes: int = 1024 * 1024
    """Largest ``pom.properties`` / ``MANIFEST.MF`` read."""
    max_ratio: int = 200
    """Compression ratio past which a member (over 1 MiB) is treated as a bomb."""
    max_entries: int = 200_000
    """Entries per archive."""
    identify_by_filename: bool = True
    """Use ``artifact-1.2.3.jar`` when the archive carries no pom.properties."""


class _Budget:
    def __init__(self, limits: JarLimits, opened: int) -> None:
        self.limits = limits
        self.opened = opened


def _properties(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        m = re.match(r"^([^=:\s]+)\s*[=:]?\s*(.*)$", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2).strip()
    return out


def parse_manifest(text: str) -> dict[str, str]:
    """Headers of a MANIFEST.MF (continuation lines joined; the first occurrence of a header wins)."""
    out: dict[str, str] = {}
    key = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.startswith(" ") and key:
            out[key] += line[1:]
            continue
        k, sep, v = line.partition(":")
        if not sep:
            key = ""
            continue
        k = k.strip()
        if k in out:
            key = ""
            continue
        key = k
        out[k] = v.strip()
    return {k: v.strip() for k, v in out.items()}


def _valid(value: str) -> bool:
    return bool(value) and bool(_VALID_ID.match(value))


def _manifest_artifact(m: dict[str, str]) -> str:
    for key in ("Name", "Implementation-Title", "Specification-Title", "Bundle-Name", "Short-Name"):
        value = m.get(key, "")
        if "#" in value:  # Gradle style "group#artifact;version"
            value = value.split("#", 1)[1].split(";", 1)[0]
        if _valid(value):
            return value
    bsn = m.get("Bundle-SymbolicName", "")
    if _valid(bsn):
        return bsn.rsplit(".", 1)[-1]
    return ""


def _manifest_group(m: dict[str, str]) -> str:
    for key in ("Bundle-SymbolicName", "Extension-Name", "Implementation-Vendor-Id", "Implementation-Title"):
        value = m.get(key, "")
        if key == "Implementation-Title":
            if "#" not in value:
                continue
            value = value.split("#", 1)[0]
        if _valid(value) and "." in value:
            return value
    return ""


def _manifest_version(m: dict[str, str]) -> str:
    for key in ("Implementation-Version", "Bundle-Version", "Specification-Version"):
        value = m.get(key, "").split(" ")[0].strip()
        if value and value[0].isdigit():
            return value
    return ""


def _known_group(artifact: str) -> str:
    if artifact in _KNOWN_GROUPS:
        return _KNOWN_GROUPS[artifact]
    for prefix, group in _KNOWN_PREFIX_GROUPS:
        if artifact.startswith(prefix):
            return group
    return ""


def _from_filename(name: str) -> tuple[str, str]:
    base = name.rsplit("/", 1)[-1]
    for suffix in ARCHIVE_SUFFIXES:
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    m = _FILENAME.match(base)
    if m:
        return m.group("artifact"), m.group("version")
    return (base, "") if _valid(base) else ("", "")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, ratio: int) -> bytes:
    if info.file_size > limit:
        raise ParseError(f"{info.filename}: member larger than {limit} bytes")
    if info.file_size > 1024 * 1024 and info.compress_size and info.file_size / info.compress_size > ratio:
        raise ParseError(f"{info.filename}: compression ratio {info.file_size // info.compress_size} (zip bomb?)")
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ParseError(f"{info.filename}: member larger than declared")
    return data


def _scan_archive(data: bytes, name: str, col: Collector, budget: _Budget, depth: int, where: str) -> None:
    limits = budget.limits
    if depth > limits.max_depth:
        raise ParseError(f"{where}: archives nested deeper than {limits.max_depth} levels")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ParseError(f"{where}: not a readable zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise ParseError(f"{where}: more than {limits.max_entries} entries")
        poms: list[dict[str, str]] = []
        manifest: dict[str, str] = {}
        nested: list[zipfile.ZipInfo] = []
        for info in infos:
            fn = info.filename
            if info.is_dir():
                continue
            if fn.endswith("pom.properties"):
                props = _properties(decode(_read_member(zf, info, limits.max_member_bytes, limits.max_ratio)))
                poms.append(props)
            elif fn.upper() == "META-INF/MANIFEST.MF":
                manifest = parse_manifest(decode(_read_member(zf, info, limits.max_member_bytes, limits.max_ratio)))
            elif fn.lower().endswith(ARCHIVE_SUFFIXES):
                nested.append(info)
        found = False
        for props in poms:
            group, artifact, version = props.get("groupId", ""), props.get("artifactId", ""), props.get("version", "")
            if group and artifact and version:
                col.add(ECO, f"{group}:{artifact}", version, metadata={"archive": where})
                found = True
        if not found:
            _from_manifest_and_name(manifest, name, col, limits, where)
        for info in nested:
            inner_where = f"{where}!/{info.filename}"
            if budget.opened + info.file_size > limits.max_total_bytes:
                col.problem(f"{inner_where}: not opened, {limits.max_total_bytes} bytes already opened")
                continue
            try:
                if info.compress_size and info.file_size / max(info.compress_size, 1) > limits.max_ratio:
                    raise ParseError(f"{inner_where}: compression ratio too high (zip bomb?)")
                budget.opened += info.file_size
                with zf.open(info) as fh:
                    inner = fh.read(limits.max_total_bytes + 1)
                _scan_archive(inner, info.filename, col, budget, depth + 1, inner_where)
            except ParseError as exc:
                if depth == 0 and "nested deeper" in str(exc):
                    raise
                col.problem(str(exc))
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                col.problem(f"{inner_where}: unreadable ({exc})")


def _from_manifest_and_name(m: dict[str, str], name: str, col: Collector, limits: JarLimits, where: str) -> None:
    f_art, f_ver = _from_filename(name) if limits.identify_by_filename else ("", "")
    artifact = f_art or _manifest_artifact(m)
    version = f_ver or _manifest_version(m)
    if not artifact or not version:
        return
    group = _known_group(artifact) or _manifest_group(m)
    if not group:
        group = artifact.rsplit(".", 1)[0] if "." in artifact and f_art else artifact
    evidence = "filename" if f_art else "manifest"
    col.add(ECO, f"{group}:{artifact}", version, metadata={"archive": where, "evidence": evidence})


def parse_jar_bytes(content: bytes, path: str, layer: str = "", *, limits: JarLimits | None = None) -> AnalysisResult:
    """Scan one archive held in memory; problems (bombs, depth, corrupt zips) become coverage gaps."""
    lim = limits or JarLimits()

    def parse(data: bytes, col: Collector) -> None:
        _scan_archive(data, path, col, _Budget(lim, len(data)), 0, path)

    return run_format(Format("jar", ECO, _is_archive, parse), content, path, layer)


def _parse_default(content: bytes, col: Collector) -> None:
    _scan_archive(content, col.path, col, _Budget(JarLimits(), len(content)), 0, col.path)


def _is_archive(path: str, name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


FORMATS = (Format("jar", ECO, _is_archive, _parse_default),)


class JavaAnalyzer:
    """Java archives anywhere in the file system."""

    name = "lang-java"
    version = 1
    needs_content = True
    squash = True
    entry_hint = EntryHint(name_suffixes=ARCHIVE_SUFFIXES)
    max_size: int | None = 160 * 1024 * 1024
    """Archives are read into memory: larger ones become a coverage gap (keeps peak RSS bounded)."""

    def __init__(self, limits: JarLimits | None = None) -> None:
        self.limits = limits or JarLimits()

    def required(self, entry: FileEntry) -> bool:
        """Regular files named like a Java archive."""
        path = entry.path
        return (path.endswith(ARCHIVE_SUFFIXES) or path.lower().endswith(ARCHIVE_SUFFIXES)) and (
            entry.type is FileType.FILE and entry.size > 0
        )

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        """Scan the archive; never raises."""
        if content[:2] != b"PK":
            return AnalysisResult(gaps=(CoverageGap(entry.path, "jar: not a zip archive", entry.layer),))
        return parse_jar_bytes(content, entry.path, entry.layer, limits=self.limits)


def analyzer() -> JavaAnalyzer:
    """The Java archive analyser."""
    return JavaAnalyzer()
