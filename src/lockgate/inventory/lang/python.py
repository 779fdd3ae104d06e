"""Python packages: installed metadata (dist-info, egg-info) and lock files.

Wheels and zipped eggs lying in the file system are read from their metadata member.
Installed metadata is RFC 822-style, parsed with the stdlib ``email.parser`` (header names
are case-insensitive, the first ``Version`` wins). Lock files: ``poetry.lock`` and
``uv.lock`` (stdlib ``tomllib``), ``Pipfile.lock`` (JSON) and pinned ``==``/``===`` lines of
``requirements*.txt``. Requirement lines that do not pin one version are not packages:
a range says nothing about what is installed (Trivy does the same).
"""

from __future__ import annotations

import re

from msgspec.structs import replace

from lockgate.inventory.lang import licenses as lic
from lockgate.inventory.lang._common import (
    Collector,
    Format,
    LangAnalyzer,
    ParseError,
    as_dict,
    as_str,
    decode,
    load_json,
    load_toml,
    pep503,
)

ECO = "PyPI"
_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_REQ_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_DEP_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _deps_from_requires(values: list[str]) -> list[str]:
    out = []
    for v in values:
        if "extra ==" in v.replace("extra==", "extra =="):
            continue  # optional extras are not dependencies of a plain install
        m = _DEP_NAME.match(v)
        if m:
            out.append(pep503(m.group(1)))
    return out


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
"""A line that may belong to the header block (``email.feedparser.headerRE``)."""


def metadata_headers(content: bytes) -> dict[str, list[str]]:
    """The header fields of a core-metadata file, by lower-cased name, values in file order.

    Follows ``email.parser.BytesHeaderParser(policy=compat32)``: lines split at CR, LF or CRLF;
    the block ends at the first line that is not a field, a continuation or a ``From `` line;
    folded values keep their line breaks. Unlike ``email`` (which turns every non-ASCII byte into
    U+FFFD), text is decoded as UTF-8, the encoding core metadata prescribes, so ``Café License``
    stays readable. Hand-written because the ``email`` package costs ~10 ms to import and only
    these rules are needed; ``tests/inventory/test_lang_metadata.py`` holds it to ``email.parser``.
    """
    text = content.decode("utf-8", "replace")
    fields: dict[str, list[str]] = {}
    current: list[str] = []
    for m in _LINE.finditer(text):
        line = m.group()
        if not _HEADER_LINE.match(line):
            break
        if line[0] in " \t":
            if current:
                current.append(line)
            continue  # a continuation with no field before it is ignored, as by email
        if current:
            _store(fields, current)
            current = []
        if not line.startswith("From ") and line.find(":") > 0:
            current = [line]
    if current:
        _store(fields, current)
    return fields


def _store(fields: dict[str, list[str]], lines: list[str]) -> None:
    name, value = lines[0].split(":", 1)
    fields.setdefault(name.lower(), []).append((value.lstrip(" \t") + "".join(lines[1:])).rstrip("\r\n"))


def parse_metadata(content: bytes, col: Collector) -> None:
    """``METADATA`` / ``PKG-INFO`` / ``*.egg-info`` file (core metadata, RFC 822 headers)."""
    if not content.strip():
        raise ParseError("empty metadata file")
    headers = metadata_headers(content)

    def first(key: str) -> str:
        values = headers.get(key.lower())
        return values[0] if values else ""

    name = first("Name").strip()
    version = first("Version").strip()
    if not name or not version:
        raise ParseError("metadata has no Name or Version")
    if not _NAME_RE.match(name):
        raise ParseError(f"invalid distribution name {name!r}")
    licenses: list[str] = []
    expr = first("License-Expression").strip()
    if expr:
        licenses.append(expr)
    else:
        declared = lic.normalize(first("License"))
        if declared:
            licenses.append(declared)
        else:
            for c in headers.get("classifier", []):
                spdx = lic.from_classifier(str(c))
                if spdx:
                    licenses.append(spdx)
    deps = _deps_from_requires(headers.get("requires-dist", []))
    col.add(ECO, pep503(name), version, licenses=licenses, dependencies=deps)


def _dep_groups(*groups: str) -> dict[str, str]:
    g = sorted({x for x in groups if x})
    return {"dep_groups": ",".join(g)} if g else {}


def parse_poetry_lock(content: bytes, col: Collector) -> None:
    """``poetry.lock`` (lock versions 1.x and 2.x)."""
    if not content.strip():
        return
    doc = load_toml(content)
    for pkg in doc.get("package", []) or []:
        p = as_dict(pkg)
        name, version = as_str(p.get("name")), as_str(p.get("version"))
        if not name or not version:
            continue
        groups: list[str] = []
        if p.get("optional") is True:
            groups.append("optional")
        if as_str(p.get("category")) == "dev":
            groups.append("dev")
        declared = [g for g in p.get("groups", []) or [] if isinstance(g, str)]
        if "main" not in declared:  # a package the main group needs is not dev-only
            groups.extend(declared)
        deps = [pep503(d) for d in as_dict(p.get("dependencies"))]
        meta = _dep_groups(*groups)
        src = as_dict(p.get("source"))
        if as_str(src.get("type")) == "git":
            meta["source"] = f"git+{as_str(src.get('url'))}@{as_str(src.get('resolved_reference'))}"
        col.add(ECO, pep503(name), version, dependencies=deps, metadata=meta)


def parse_uv_lock(content: bytes, col: Collector) -> None:
    """``uv.lock``: every ``[[package]]`` except the project itself (virtual/editable source)."""
    doc = load_toml(content)
    for pkg in doc.get("package", []) or []:
        p = as_dict(pkg)
        name, version = as_str(p.get("name")), as_str(p.get("version"))
        src = as_dict(p.get("source"))
        if not name or not version or "editable" in src or "virtual" in src:
            continue
        deps = [pep503(as_str(as_dict(d).get("name"))) for d in p.get("dependencies", []) or []]
        col.add(ECO, pep503(name), version, dependencies=[d for d in deps if d])


def parse_pipfile_lock(content: bytes, col: Collector) -> None:
    """``Pipfile.lock``: ``default`` and ``develop`` sections (a package in both is not dev-only)."""
    if not content.strip():
        return
    raw = load_json(content)
    if not isinstance(raw, dict):
        raise ParseError("Pipfile.lock is not a JSON object")
    doc = raw
    found: dict[tuple[str, str], set[str]] = {}
    for section, group in (("default", ""), ("develop", "dev")):
        for name, spec in as_dict(doc.get(section)).items():
            version = as_str(as_dict(spec).get("version"))
            if not version.startswith("=="):
                continue
            key = (pep503(name), version.lstrip("="))
            found.setdefault(key, set()).add(group)
    for (name, version), groups in found.items():
        meta = _dep_groups("dev") if groups == {"dev"} else {}
        col.add(ECO, name, version, metadata=meta)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        lines.append(buf + line)
        buf = ""
    if buf:
        lines.append(buf)
    return lines


_OPTION = re.compile(r"\s(?:--?[A-Za-z][\w-]*)(?:[=\s]|$)")


def parse_requirements(content: bytes, col: Collector) -> None:
    """``requirements*.txt``: pinned ``name[extras]==version`` lines (markers, hashes, options dropped)."""
    for raw in _logical_lines(decode(content)):
        line = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            m = re.match(r"^(?:-r|--requirement)[=\s]*(\S+)", line)
            if m and not _is_requirements("", m.group(1).rsplit("/", 1)[-1]):
                # Files named requirements*.txt are scanned on their own; others would be missed.
                col.problem(f"included file not followed: {line[:120]}")
            continue  # options, and -c constraints (they pin nothing by themselves)
        line = line.split(";", 1)[0]
        m = _OPTION.search(" " + line)
        if m:
            line = (" " + line)[: m.start()].strip()
        nm = _REQ_NAME.match(line)
        if not nm:
            continue
        name = nm.group(0)
        rest = line[nm.end() :].strip()
        if rest.startswith("["):
            close = rest.find("]")
            if close < 0:
                continue
            rest = rest[close + 1 :].strip()
        if rest.startswith("==="):
            version = rest[3:].strip()
        elif rest.startswith("==") and "," not in rest:
            version = rest[2:].strip()
        else:
            continue
        version = version.split()[0] if version else ""
        if not version or "*" in version or "$" in version or not re.match(r"^[A-Za-z0-9][\w.!+-]*$", version):
            continue
        col.add(ECO, pep503(name), version)


_MAX_ARCHIVE_MEMBER = 4 * 1024 * 1024


def parse_python_archive(content: bytes, col: Collector) -> None:
    """A wheel (``*.dist-info/METADATA``) or zipped egg (``EGG-INFO/PKG-INFO``) kept as a file."""
    import io
    import zipfile

    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ParseError(f"not a readable zip archive ({exc})") from None
    with zf:
        member = next(
            (
                i
                for i in zf.infolist()
                if i.filename == "EGG-INFO/PKG-INFO"
                or (i.filename.endswith(".dist-info/METADATA") and i.filename.count("/") == 1)
            ),
            None,
        )
        if member is None:
            raise ParseError("archive has no .dist-info/METADATA or EGG-INFO/PKG-INFO")
        if member.file_size > _MAX_ARCHIVE_MEMBER:
            raise ParseError(f"{member.filename} is larger than {_MAX_ARCHIVE_MEMBER} bytes")
        with zf.open(member) as fh:
            data = fh.read(_MAX_ARCHIVE_MEMBER + 1)
    if len(data) > _MAX_ARCHIVE_MEMBER:
        raise ParseError(f"{member.filename} is larger than declared")
    parse_metadata(data, col)
    kind = "egg" if member.filename.startswith("EGG-INFO/") else "wheel"
    col.packages[-1] = replace(col.packages[-1], metadata=(("archive", kind),))


def _is_requirements(path: str, name: str) -> bool:
    return name.startswith("requirements") and name.endswith(".txt")


def _is_metadata(path: str, name: str) -> bool:
    if name == "METADATA":
        return path.endswith(".dist-info/METADATA")
    if name == "PKG-INFO":
        return path.endswith((".egg-info/PKG-INFO", "EGG-INFO/PKG-INFO"))
    return name.endswith(".egg-info")


FORMATS = (
    Format(
        "python-metadata", ECO, _is_metadata, parse_metadata, names=("METADATA", "PKG-INFO"), suffixes=(".egg-info",)
    ),
    Format("poetry.lock", ECO, lambda p, n: n == "poetry.lock", parse_poetry_lock, names=("poetry.lock",)),
    Format("Pipfile.lock", ECO, lambda p, n: n == "Pipfile.lock", parse_pipfile_lock, names=("Pipfile.lock",)),
    Format("uv.lock", ECO, lambda p, n: n == "uv.lock", parse_uv_lock, names=("uv.lock",)),
    Format("requirements.txt", ECO, _is_requirements, parse_requirements, prefixes=("requirements",)),
    Format(
        "python-archive",
        ECO,
        lambda p, n: n.endswith((".whl", ".egg")),
        parse_python_archive,
        suffixes=(".whl", ".egg"),
    ),
)


def analyzer() -> LangAnalyzer:
    """The Python analyser (installed metadata and lock files)."""
    return LangAnalyzer("lang-python", 1, FORMATS, max_size=32 * 1024 * 1024)
