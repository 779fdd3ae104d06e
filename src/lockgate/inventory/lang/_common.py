"""Shared plumbing for the language extractors: formats, a result collector, purls, safe parsing.

Every format is a :class:`Format` — an id, a cheap path matcher (with a file-name
pre-filter) and a parse function that fills a :class:`Collector`. A :class:`LangAnalyzer`
groups formats into one :class:`lockgate.fs.model.Analyzer`, so the walker asks a handful of
analysers (not one per file format) about each entry. Parse functions may raise anything on
hostile input; :func:`run_format` turns every exception into a :class:`CoverageGap` naming
the file, then merges copies of one package and turns dependency names into purls.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace
from packageurl import normalize as _purl_normalize

from lockgate.errors import InputError
from lockgate.findings.model import CoverageGap
from lockgate.fs.model import AnalysisResult, EntryHint, FileEntry, FileType
from lockgate.inventory.model import Package

MAX_PACKAGES_PER_FILE = 200_000
"""More packages than this in one file is treated as hostile input."""

_PURL_TYPES = {
    "PyPI": "pypi",
    "npm": "npm",
    "Go": "golang",
    "Maven": "maven",
    "RubyGems": "gem",
    "crates.io": "cargo",
    "Packagist": "composer",
    "NuGet": "nuget",
}

_PEP503 = re.compile(r"[-_.]+")
_SAFE = re.compile(r"[A-Za-z0-9_.~-]+")
_SAFE_NS = re.compile(r"[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)*")


class ParseError(InputError):
    """A file could not be parsed; the message becomes the coverage-gap reason."""


def pep503(name: str) -> str:
    """Normalise a Python distribution name (PEP 503)."""
    return _PEP503.sub("-", name).lower()


def make_purl(ecosystem: str, name: str, version: str) -> str:
    """Build the package URL for one language package (packageurl-python does the escaping)."""
    return _make_purl(ecosystem, name, version)


@functools.lru_cache(maxsize=65536)
def _make_purl(ecosystem: str, name: str, version: str) -> str:
    ptype = _PURL_TYPES.get(ecosystem)
    if ptype is None or not name:
        return ""
    namespace: str | None = None
    pname = name
    if ecosystem == "npm" and name.startswith("@") and "/" in name:
        namespace, pname = name.split("/", 1)
    elif ecosystem == "Go" and "/" in name:
        namespace, pname = name.rsplit("/", 1)
    elif ecosystem in ("Maven", "Packagist") and (":" in name or "/" in name):
        sep = ":" if ecosystem == "Maven" else "/"
        namespace, pname = name.split(sep, 1)
    elif ecosystem == "PyPI":
        pname = pep503(name)
    if ecosystem == "Go" and version and not version.startswith("v"):
        version = "v" + version  # Go purls carry the module version as Go writes it
    if (
        _SAFE.fullmatch(pname)
        and (not version or _SAFE.fullmatch(version))
        and (not namespace or _SAFE_NS.fullmatch(namespace))
    ):
        # Fast path for the usual case: only unreserved characters, so packageurl's
        # normalisation reduces to its per-type lower-casing (the equality with
        # PackageURL.to_string() is property-tested).
        if ptype in ("pypi", "composer", "npm"):
            pname = pname.lower()
            if ptype == "pypi":
                pname = pname.replace("_", "-")
        if namespace and ptype in ("pypi", "composer"):
            namespace = namespace.lower()
        ns = f"{namespace}/" if namespace else ""
        ver = f"@{version}" if version else ""
        return f"pkg:{ptype}/{ns}{pname}{ver}"
    # packageurl's normalize() does the per-type normalisation and percent-encoding; joining the
    # parts ourselves (as PackageURL.to_string does) avoids normalising twice on this hot path.
    n_type, n_ns, n_name, n_ver, _q, _s = _purl_normalize(ptype, namespace, pname, version or None, None, None)
    ns = f"{n_ns}/" if n_ns else ""
    ver = f"@{n_ver}" if n_ver else ""
    return f"pkg:{n_type}/{ns}{n_name}{ver}"


@dataclass(slots=True)
class Collector:
    """Accumulates what one parse found in one file."""

    path: str
    layer: str = ""
    packages: list[Package] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(
        self,
        ecosystem: str,
        name: str,
        version: str,
        *,
        licenses: Iterable[str] = (),
        dependencies: Iterable[str] = (),
        metadata: dict[str, str] | None = None,
        source_name: str = "",
        source_version: str = "",
        purl: str | None = None,
    ) -> Package:
        """Record one package (purl derived unless given)."""
        if len(self.packages) >= MAX_PACKAGES_PER_FILE:
            raise ParseError(f"more than {MAX_PACKAGES_PER_FILE} packages in one file")
        pkg = Package(
            ecosystem=ecosystem,
            name=name,
            version=version,
            purl=make_purl(ecosystem, name, version) if purl is None else purl,
            source_name=source_name,
            source_version=source_version,
            licenses=tuple(dict.fromkeys(x for x in licenses if x)),
            path=self.path,
            layer=self.layer,
            dependencies=tuple(dict.fromkeys(d for d in dependencies if d)),
            metadata=tuple(sorted((metadata or {}).items())),
        )
        self.packages.append(pkg)
        return pkg

    def problem(self, reason: str) -> None:
        """Note something in the file that could not be understood (becomes a gap)."""
        if len(self.problems) < 20:
            self.problems.append(reason)


ParseFn = Callable[[bytes, Collector], None]


@dataclass(frozen=True, slots=True)
class Format:
    """One file format: how to recognise it by path and how to parse it."""

    id: str
    ecosystem: str
    match: Callable[[str, str], bool]
    """(path, file name) -> wanted; must be cheap (no content)."""
    parse: ParseFn
    names: tuple[str, ...] = ()
    """Pre-filter: exact file names this format can have (with ``suffixes``/``prefixes``:
    the analyser calls ``match`` only for names passing one of them)."""
    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()


def run_format(fmt: Format, content: bytes, path: str, layer: str = "") -> AnalysisResult:
    """Parse ``content`` as ``fmt``; never raises: failures become coverage gaps."""
    col = Collector(path=path, layer=layer)
    try:
        fmt.parse(content, col)
    except ParseError as exc:  # what was read before the problem is kept
        partial = resolve_dependencies(merge_copies(col.packages))
        return AnalysisResult(packages=partial, gaps=(CoverageGap(path, f"{fmt.id}: {exc}", layer),))
    except RecursionError:
        return AnalysisResult(gaps=(CoverageGap(path, f"{fmt.id}: nesting too deep", layer),))
    except MemoryError:
        return AnalysisResult(gaps=(CoverageGap(path, f"{fmt.id}: file too large to parse", layer),))
    except Exception as exc:  # hostile input must never crash a scan
        return AnalysisResult(gaps=(CoverageGap(path, f"{fmt.id}: cannot parse ({type(exc).__name__}: {exc})", layer),))
    gaps = tuple(CoverageGap(path, f"{fmt.id}: {p}", layer) for p in col.problems)
    return AnalysisResult(packages=resolve_dependencies(merge_copies(col.packages)), gaps=gaps)


def merge_copies(packages: Sequence[Package]) -> list[Package]:
    """One (ecosystem, name, version) per file: copies (npm install paths, pnpm peer variants,
    yarn patches) become one entry with the dependencies joined and only the dependency groups
    every copy has (a copy needed in production makes it a production package)."""
    merged: dict[tuple[str, str, str], Package] = {}
    for p in packages:
        key = (p.ecosystem, p.name, p.version)
        prev = merged.get(key)
        if prev is None:
            merged[key] = p
            continue
        prev_meta, meta = dict(prev.metadata), dict(p.metadata)
        groups = set(prev_meta.get("dep_groups", "").split(",")) & set(meta.get("dep_groups", "").split(","))
        prev_meta.pop("dep_groups", None)
        if any(groups):
            prev_meta["dep_groups"] = ",".join(sorted(g for g in groups if g))
        merged[key] = replace(
            prev,
            dependencies=tuple(dict.fromkeys(prev.dependencies + p.dependencies)),
            licenses=tuple(dict.fromkeys(prev.licenses + p.licenses)),
            metadata=tuple(sorted(prev_meta.items())),
        )
    return list(merged.values())


def resolve_dependencies(packages: Sequence[Package]) -> tuple[Package, ...]:
    """Dependency names that match exactly one package of the same file become that package's purl.

    Ambiguous names (two versions in one lock file) stay names; formats that know the exact
    target (npm's install paths, Cargo's ``name version``) put purls there themselves.
    """
    by_name: dict[tuple[str, str], list[str]] = {}
    for p in packages:
        by_name.setdefault((p.ecosystem, p.name), []).append(p.purl)
    out = []
    for p in packages:
        if p.dependencies and not all(d.startswith("pkg:") for d in p.dependencies):
            deps = []
            for d in p.dependencies:
                hits = by_name.get((p.ecosystem, d), ()) if not d.startswith("pkg:") else ()
                deps.append(hits[0] if len(hits) == 1 and hits[0] else d)
            p = replace(p, dependencies=tuple(dict.fromkeys(deps)))  # noqa: PLW2901
        out.append(p)
    return tuple(out)


class LangAnalyzer:
    """An :class:`lockgate.fs.model.Analyzer` over a group of formats of one language."""

    needs_content = True
    squash = True

    def __init__(self, name: str, version: int, formats: Sequence[Format], max_size: int | None = None) -> None:
        self.name = name
        self.version = version
        self.formats = tuple(formats)
        self.max_size = max_size
        # required() runs for every entry of every layer: reject by file name with one set
        # lookup and two C-level string tests before any per-format matcher runs.
        self._names = frozenset(n for f in self.formats for n in f.names)
        self._suffixes = tuple(x for f in self.formats for x in f.suffixes)
        self._prefixes = tuple(x for f in self.formats for x in f.prefixes)
        self.entry_hint = EntryHint(names=self._names, name_suffixes=self._suffixes, name_prefixes=self._prefixes)

    def format_for(self, path: str) -> Format | None:
        """The first format whose matcher accepts ``path``."""
        fname = path.rsplit("/", 1)[-1]
        for fmt in self.formats:
            if fmt.match(path, fname):
                return fmt
        return None

    def required(self, entry: FileEntry) -> bool:
        """Wanted when a regular file's path matches one of the formats."""
        path = entry.path
        fname = path[path.rfind("/") + 1 :]
        if fname not in self._names and not fname.endswith(self._suffixes) and not fname.startswith(self._prefixes):
            return False
        return entry.type is FileType.FILE and self.format_for(path) is not None

    def analyze(self, entry: FileEntry, content: bytes) -> AnalysisResult:
        """Parse the file with the matching format (gaps, never exceptions)."""
        fmt = self.format_for(entry.path)
        if fmt is None:
            return AnalysisResult()
        return run_format(fmt, content, entry.path, entry.layer)

    def __repr__(self) -> str:
        return f"LangAnalyzer({self.name!r}, v{self.version})"


def decode(content: bytes) -> str:
    """Text of a manifest: UTF-8 (with BOM stripped), falling back to Latin-1 rather than failing."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def load_json(content: bytes) -> Any:
    """Parse JSON text from an untrusted file; ParseError when invalid.

    Hostile nesting needs no pre-scan: CPython's C decoder raises RecursionError past the
    interpreter's recursion limit, which :func:`run_format` reports as a gap.
    """
    try:
        return json.loads(decode(content))
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} at line {exc.lineno}") from None


_YAML_ANCHOR = re.compile(rb"(?:^|[\s\[{,:-])&[^\s\[\]{},]+")


def load_yaml(content: bytes, *, max_aliases: int = 1000) -> Any:
    """Parse one YAML document safely (C loader when available; alias bombs refused)."""
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        if _YAML_ANCHOR.search(content):
            aliases = 0
            for event in yaml.parse(content, Loader=loader):
                if isinstance(event, yaml.AliasEvent):
                    aliases += 1
                    if aliases > max_aliases:
                        raise ParseError(f"more than {max_aliases} YAML aliases (alias bomb?)")
        return yaml.load(content, Loader=loader)  # noqa: S506 - safe loader chosen above
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {str(exc).splitlines()[0]}") from None


def load_toml(content: bytes) -> dict[str, Any]:
    """Parse TOML (stdlib ``tomllib``); ParseError when invalid."""
    import tomllib

    try:
        return tomllib.loads(decode(content))
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"invalid TOML: {exc}") from None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict (tolerate odd lock files)."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""
