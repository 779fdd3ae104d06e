"""Read advisory documents from a directory (recursive), a single file or a zip (OSV's ``all.zip``).

Documents are JSON or YAML. YAML is composed by PyYAML's C parser (when built in) and
turned into plain data here, counting alias references, so a billion-laughs document is
refused before anything is expanded. Every record that
cannot be read is returned as an :class:`ImportIssue` (file and reason), never raised.
"""

from __future__ import annotations

import gzip
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lockgate.config import Limits
from lockgate.errors import InputError, LimitExceededError
from lockgate.vulndb.model import Advisory
from lockgate.vulndb.osv.model import parse_osv

try:
    _Base: type[Any] = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.BaseLoader

_TAGS = {yaml.ScalarNode: "tag:yaml.org,2002:str", yaml.SequenceNode: "tag:yaml.org,2002:seq"}


class _YamlLoader(_Base):  # type: ignore[misc]
    """Composer only: every node gets the default tag, without running resolver regexes."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        return _TAGS.get(kind, "tag:yaml.org,2002:map")


DOC_SUFFIXES = (".json", ".yaml", ".yml")
GZ_DOC_SUFFIXES = tuple(f"{s}.gz" for s in DOC_SUFFIXES)
"""Gzipped documents (NVD's ``nvdcve-2.0-2024.json.gz``) are read transparently."""
MAX_JSON_FEED_BYTES = 1024 * 1024 * 1024
"""JSON feed files can be large (the Debian tracker JSON, NVD year files); YAML keeps the settings limit."""


def document_limit(name: str, limits: Limits) -> int:
    """Largest accepted size of a document: the YAML limit, or :data:`MAX_JSON_FEED_BYTES` for JSON."""
    if name.lower().removesuffix(".gz").endswith((".yaml", ".yml")):
        return limits.max_yaml_bytes
    return max(limits.max_yaml_bytes, MAX_JSON_FEED_BYTES)


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A record or line that was skipped, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def _to_python(node: yaml.Node, max_aliases: int) -> Any:
    """Plain data from a composed node graph; every scalar stays a string (versions like ``1.10`` too)."""
    seen: set[int] = set()
    aliases = 0

    def conv(n: yaml.Node) -> Any:
        nonlocal aliases
        if isinstance(n, yaml.ScalarNode):
            return n.value
        if id(n) in seen:
            aliases += 1
            if aliases > max_aliases:
                raise LimitExceededError(f"YAML uses more than {max_aliases} alias references")
        seen.add(id(n))
        if isinstance(n, yaml.SequenceNode):
            return [conv(v) for v in n.value]
        out: dict[Any, Any] = {}
        for k, v in n.value:
            key = conv(k)
            if not isinstance(key, str):
                raise InputError(f"line {k.start_mark.line + 1}: mapping keys must be scalars")
            if key == "<<":
                raise InputError(f"line {k.start_mark.line + 1}: YAML merge keys are not supported")
            out[key] = conv(v)
        return out

    return conv(node)


def load_yaml(text: str, *, max_aliases: int) -> Any:
    """Safely decode one YAML document: bounded aliases, no tags, every scalar a string.

    OSV and secdb documents only hold strings; keeping scalars as written avoids YAML 1.1
    surprises (``1.10`` -> 1.1, ``no`` -> False) and is faster than PyYAML's resolver.
    """
    try:
        node = yaml.compose(text, Loader=_YamlLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"invalid YAML{where}: {problem}") from None
    if node is None:
        return None
    try:
        return _to_python(node, max_aliases)
    except RecursionError:
        raise LimitExceededError("YAML nesting is too deep") from None


def decode_document(data: bytes, name: str, limits: Limits) -> Any:
    """Decode JSON or YAML bytes (chosen by file name, JSON sniffed first for other names)."""
    limit = document_limit(name, limits)
    if len(data) > limit:
        raise LimitExceededError(f"{len(data)} bytes exceeds the document limit of {limit}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text") from None
    lower = name.lower().removesuffix(".gz")
    if lower.endswith((".yaml", ".yml")):
        return load_yaml(text, max_aliases=limits.max_yaml_aliases)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        if lower.endswith(".json"):
            raise InputError(f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
        return load_yaml(text, max_aliases=limits.max_yaml_aliases)


def iter_documents(path: Path, limits: Limits, issues: list[ImportIssue]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every JSON/YAML document under ``path``: a directory, a zip or one file."""
    path = Path(path)
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path)
            if any(part.startswith(".") for part in rel.parts) or not p.is_file():
                continue
            if p.name.lower().endswith(DOC_SUFFIXES + GZ_DOC_SUFFIXES):
                yield from _read_file(p, limits, issues)
        return
    if zipfile.is_zipfile(path):
        yield from _iter_zip(path, limits, issues)
        return
    yield from _read_file(path, limits, issues)


def _read_file(p: Path, limits: Limits, issues: list[ImportIssue]) -> Iterator[tuple[str, bytes]]:
    try:
        size = p.stat().st_size
        limit = document_limit(p.name, limits)
        if size > limit:
            issues.append(ImportIssue(str(p), f"{size} bytes exceeds the document limit of {limit}"))
            return
        if p.name.lower().endswith(".gz"):
            with gzip.open(p, "rb") as f:
                data = f.read(limit + 1)
            if len(data) > limit:
                issues.append(ImportIssue(str(p), f"decompresses past the document limit of {limit} bytes"))
                return
        else:
            data = p.read_bytes()
    except (OSError, EOFError, zlib.error) as e:
        issues.append(ImportIssue(str(p), f"cannot read: {getattr(e, 'strerror', None) or e}"))
        return
    yield str(p), data


def _iter_zip(path: Path, limits: Limits, issues: list[ImportIssue]) -> Iterator[tuple[str, bytes]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: not a readable zip archive ({e})") from None
    with zf:
        for info in zf.infolist():
            where = f"{path}!{info.filename}"
            if info.is_dir() or not info.filename.lower().endswith(DOC_SUFFIXES):
                continue
            limit = document_limit(info.filename, limits)
            if info.file_size > limit:
                issues.append(ImportIssue(where, f"{info.file_size} bytes exceeds the limit of {limit}"))
                continue
            try:
                with zf.open(info) as f:
                    data = f.read(limit + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                issues.append(ImportIssue(where, f"corrupt zip member: {e}"))
                continue
            if len(data) > limit:
                issues.append(ImportIssue(where, f"decompresses past the limit of {limit} bytes"))
                continue
            yield where, data


def is_osv_document(doc: Any) -> bool:
    """True when a decoded document looks like one OSV record or a list of them."""
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(d, dict) and "id" in d for d in doc[:5])
    return isinstance(doc, dict) and "id" in doc and ("modified" in doc or "affected" in doc)


def advisories_from_document(doc: Any, where: str, issues: list[ImportIssue], *, source: str = "osv") -> list[Advisory]:
    """Validate one decoded OSV document (a record or a list of records); bad records become issues."""
    records = doc if isinstance(doc, list) else [doc]
    out = []
    for i, rec in enumerate(records):
        label = where if len(records) == 1 else f"{where}[{i}]"
        try:
            out.append(parse_osv(rec, source=source))
        except InputError as e:
            rid = rec.get("id") if isinstance(rec, dict) else None
            issues.append(ImportIssue(label, f"{rid}: {e}" if isinstance(rid, str) else str(e)))
    return out


def iter_osv(path: Path, limits: Limits, issues: list[ImportIssue]) -> Iterator[Advisory]:
    """Every valid OSV record under ``path`` (directory, zip or file); problems go to ``issues``."""
    for where, data in iter_documents(path, limits, issues):
        try:
            doc = decode_document(data, where, limits)
        except InputError as e:
            issues.append(ImportIssue(where, str(e)))
            continue
        yield from advisories_from_document(doc, where, issues)
