"""CycloneDX 1.6 JSON, written directly: components with purls, dependencies, vulnerabilities.

The image is the metadata component (type ``container``, its manifest digest as a
hash); the OS is an ``operating-system`` component; every package is a ``library``
with a purl, its licences and lockgate properties (layer, path, source package).

Hand-written (plain dicts and ``json.dumps``) rather than built with cyclonedx-python-lib
for speed: importing the library's model (license-expression, sortedcontainers,
py-serializable), filling its sorted sets, parsing every licence and serializing cost
~0.3 s per run, most of a warm ``lockgate sbom``. The document keeps the library's
content and ordering: tests hold this emitter to the library as an oracle
(``tests/findings/cyclonedx_oracle.py``) on real inventories and validate it against the
official CycloneDX 1.6 JSON schema.

Licences are classified as the library's ``LicenseFactory`` does — an SPDX id
(case-insensitively, from the library's own SPDX id list) becomes ``license.id``, a
valid SPDX expression (license-expression's grammar and symbol table: SPDX keys and
aliases from its vendored ScanCode index, ``WITH`` only before an exception) becomes
``expression``, anything else ``license.name`` — with tables built from the libraries' data
files, shipped precomputed and checked against the installed files (``_licence_data``), instead
of importing the libraries. Purls are written as
packageurl-python normalises them (a quick check lets lockgate's own, already normal purls
through; one that does not parse is left out, as before).

Two deliberate differences: a vulnerability's ``bom-ref`` is ``ID@affected-ref`` (the library
drew a random one), and an affected package with no known version is listed without
``versions`` (the library raised).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lockgate.findings.model import Finding, FindingKind, ScanReport, Severity
from lockgate.findings.render._common import TOOL_NAME, TOOL_VERSION, indented_json
from lockgate.findings.render._licence_data import expression_symbols, spdx_ids
from lockgate.findings.render._licence_data import words as licence_words
from lockgate.inventory.model import Package

SCHEMA_URI = "http://cyclonedx.org/schema/bom-1.6.schema.json"

_SEV = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "high",
    Severity.MEDIUM: "medium",
    Severity.LOW: "low",
    Severity.UNKNOWN: "unknown",
}
# CVSS version → (CycloneDX rating method, the vector prefix the library strips: it and one digit, then "/").
_CVSS_METHOD = {
    "2": ("CVSSv2", "CVSS:2."),
    "3.0": ("CVSSv3", "CVSS:3."),
    "3.1": ("CVSSv31", "CVSS:3."),
    "4.0": ("CVSSv4", "CVSS:4."),
}
_OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})
_KEYWORDS = frozenset({"and", "or", "with", "(", ")"})


def is_spdx_expression(text: str) -> bool:
    """Whether ``license_expression.get_spdx_licensing().validate(text)`` finds no error (strict mode).

    Its steps, reduced to success or failure: every word (case-insensitive; longest known symbol
    first) must be a known SPDX symbol or a keyword; ``licence WITH exception`` triples are grouped
    as license-expression groups them (an exception anywhere else, or a stray ``WITH``, is an
    error); then boolean.py's parser runs, quirks included (``A AND B AND`` passes, ``A AND`` fails).
    """
    symbols, longest = expression_symbols()
    words = licence_words(text.lower())
    tokens: list[tuple[str, bool]] = []  # (kind, is_exception): kind is "sym" or a keyword
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            exception = symbols.get(words[i] if n == 1 else " ".join(words[i : i + n]))
            if exception is not None:
                tokens.append(("sym", exception))
                i += n
                break
        else:
            if words[i] not in _KEYWORDS:
                return False  # an unknown licence key
            tokens.append((words[i], False))
            i += 1
    kinds: list[str] = []
    for group in _with_groups(tokens):
        if len(group) == 3:
            if group[0][1] or not group[2][1]:
                return False  # WITH needs a licence on the left and an exception on the right
        elif group[0][0] == "with" or group[0][1]:
            return False  # a WITH outside a triple, or an exception alone
        kinds.append(group[0][0])
    try:
        return _boolean_parses(kinds)
    except IndexError:  # the library's parser fails the same way on these inputs
        return False


def _with_groups(tokens: list[tuple[str, bool]]) -> list[tuple[tuple[str, bool], ...]]:
    """license-expression's ``build_token_groups_for_with_subexpression``: ``sym WITH sym`` triples, else singles."""

    def is_with(t: list[tuple[str, bool]]) -> bool:
        return t[0][0] == "sym" and t[1][0] == "with" and t[2][0] == "sym"

    if len(tokens) < 3:
        return [(t,) for t in tokens]
    groups: list[tuple[tuple[str, bool], ...]] = []
    triple: list[tuple[str, bool]] = []
    for tok in tokens:
        if len(triple) == 3:
            if is_with(triple):
                groups.append(tuple(triple))
                triple = []
            else:
                groups.append((triple.pop(0),))
        triple.append(tok)
    if len(triple) == 3 and is_with(triple):
        groups.append(tuple(triple))
    else:
        groups.extend((t,) for t in triple)
    return groups


_PRECEDENCE = {"and": 10, "or": 15, "(": 20}
_OPERATORS = ("and", "or")


def _call(args: list[Any]) -> bool:
    """Whether boolean.py's AND/OR accept these arguments: at least two, all expressions (not a parenthesis)."""
    return len(args) >= 2 and all(a is True for a in args)


def _boolean_parses(kinds: list[str]) -> bool:
    """A port of boolean.py's ``BooleanAlgebra.parse`` (nested lists [parent, operation, *args]), reduced
    to whether it succeeds; ``True`` stands for any parsed expression, ``"("`` for an open parenthesis."""
    ast: list[Any] = [None, None]
    prev: str | None = None
    for kind in kinds:
        if prev is None:
            if kind in _OPERATORS:
                return False
        elif (prev == "sym" and kind == "sym") or (prev in _OPERATORS and (kind in _OPERATORS or kind == ")")):
            return False
        if kind == "sym":
            ast.append(True)
        elif kind in _OPERATORS:
            started = _start_operation(ast, kind)
            if started is None:
                return False
            ast = started
        elif kind == "(":
            if prev is not None and prev not in ("and", "or", "("):
                return False
            ast = [ast, "("]
        else:  # ")"
            while True:
                if ast[0] is None:
                    return False
                if ast[1] == "(":
                    ast[0].append(ast[2])
                    ast = ast[0]
                    break
                if not _call(ast[2:]):
                    return False
                ast[0].append(True)
                ast = ast[0]
        prev = kind
    while ast[0] is not None:
        if ast[1] == "(" or not _call(ast[2:]):
            return False
        ast[0].append(True)
        ast = ast[0]
    if ast[1] is None:
        return len(ast) == 3 and ast[2] is True
    return _call(ast[2:])


def _start_operation(ast: list[Any], operation: str) -> list[Any] | None:
    """boolean.py's ``_start_operation``: finish the operations of lower precedence (``None`` on error)."""
    op_prec = _PRECEDENCE[operation]
    while True:
        if ast[1] is None:
            ast[1] = operation
            return ast
        prec = _PRECEDENCE[ast[1]]
        if prec > op_prec:
            return [ast, operation, ast.pop(-1)]
        if prec == op_prec:
            return ast
        if not _call(ast[2:]):
            return None
        if ast[0] is None:
            return [None, operation, True]
        ast[0].append(True)
        ast = ast[0]


@lru_cache(maxsize=4096)
def _classify(text: str) -> tuple[str, str]:
    """``("id", canonical id)``, ``("expression", text)`` or ``("name", text)``, as cyclonedx-python-lib's
    ``LicenseFactory.make_from_string`` decides (licence texts repeat across packages, hence the cache)."""
    spdx_id = spdx_ids().get(text.lower())
    if spdx_id is not None:
        return "id", spdx_id
    return ("expression", text) if is_spdx_expression(text) else ("name", text)


def _licence(text: str) -> dict[str, Any]:
    """One licence as a CycloneDX licence object."""
    kind, value = _classify(text)
    return {"expression": value} if kind == "expression" else {"license": {kind: value}}


@lru_cache(maxsize=4096)
def _licence_kinds(texts: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``(kind, value)`` of each licence object for these texts (packages of one source share their list)."""
    unique = dict.fromkeys([t.strip() for t in texts])
    unique.pop("", None)
    found = [_classify(t) for t in unique]
    if len(found) == 1:
        return (found[0],)
    # An expression may not stand beside other licences: keep each as a named licence instead. Ids come
    # first ("id" < "name"), then names, each sorted and once.
    return tuple(sorted({("name", v) if k == "expression" else (k, v) for k, v in found}))


def _licences(texts: Iterable[str]) -> list[dict[str, Any]]:
    """CycloneDX licence objects: one expression alone, or several ids/names (never mixed, as the spec says)."""
    return [{"expression": v} if k == "expression" else {"license": {k: v}} for k, v in _licence_kinds(tuple(texts))]


def _properties(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "value": v} for n, v in sorted(set(pairs))]


# Purls that packageurl-python would write back unchanged (lockgate builds its purls the same way): a
# common type, segments of unreserved characters (and "%2B"), a version, sorted lower-case qualifier keys.
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"
_KEY_START = "abcdefghijklmnopqrstuvwxyz"
_KEY_CHARS = _KEY_START + "0123456789._-"
_PLAIN_TYPES = frozenset(
    {"alpm", "apk", "cargo", "cocoapods", "composer", "conda", "deb", "gem", "generic", "github", "golang", "hex"}
    | {"maven", "npm", "nuget", "pypi", "rpm", "swift"}
)
_LOWERED_TYPES = frozenset({"alpm", "apk", "composer", "github", "hex", "npm", "pypi"})  # names lower-cased


def _plain(part: str, extra: str = "") -> bool:
    """Non-empty, of unreserved characters (plus ``extra``) and ``%2B`` only (``not s.strip(chars)``: all in chars)."""
    return bool(part) and not part.replace("%2B", "").strip(_UNRESERVED + extra)


def _is_canonical_purl(text: str) -> bool:
    """A quick, conservative check that ``PackageURL.from_string(text).to_string() == text``."""
    if not text.startswith("pkg:"):
        return False
    head, at, tail = text[4:].partition("@")
    type_, _, path = head.partition("/")
    if type_ == "npm" and path.startswith("%40") and "/" in path:
        path = path[3:]  # a scoped package: packageurl writes the scope's "@" as %40
    if not at or type_ not in _PLAIN_TYPES or not _plain(path, "/") or "//" in path or "/" in (path[0], path[-1]):
        return False
    version, question, qualifiers = tail.partition("?")
    if not _plain(version, ":"):
        return False
    if type_ in _LOWERED_TYPES and (path != path.lower() or "%" in path or (type_ == "pypi" and "_" in path)):
        return False
    if question:
        if not _plain(qualifiers, ":=&"):
            return False
        previous = ""
        for pair in qualifiers.split("&"):  # sorted, unique, lower-case keys; non-empty values
            key, _, value = pair.partition("=")
            if not value or "=" in value or key <= previous or key[0] not in _KEY_START or key.strip(_KEY_CHARS):
                return False
            previous = key
    return True


def _canonical_purl(text: str) -> str | None:
    """The purl as packageurl-python writes it, ``None`` if it does not parse (then the component has none)."""
    if _is_canonical_purl(text):
        return text
    from lockgate.inventory.purl import parse_purl

    try:
        return str(parse_purl(text).to_string())
    except ValueError:
        return None


def _bom_ref(p: Package, i: int) -> str:
    return p.purl or f"{p.ecosystem}:{p.name}@{p.version}#{i}"


def _component(p: Package, ref: str, report: ScanReport) -> dict[str, Any]:
    c: dict[str, Any] = {"bom-ref": ref}
    licences = _licences(p.licenses)
    if licences:
        c["licenses"] = licences
    c["name"] = p.name
    properties = [  # by name (each at most once), as _properties orders them
        {"name": n, "value": v}
        for n, v in (
            ("lockgate:arch", p.arch),
            ("lockgate:ecosystem", p.ecosystem),
            ("lockgate:layer", p.layer),
            ("lockgate:path", p.path),
            ("lockgate:source_name", p.source_name),
            ("lockgate:source_version", p.source_version),
        )
        if v
    ]
    if properties:
        c["properties"] = properties
    purl = _canonical_purl(p.purl) if p.purl else None
    if purl is not None:
        c["purl"] = purl
    if p.ecosystem in _OS_ECOSYSTEMS and report.os is not None:
        c["supplier"] = {"name": report.os.family}
    c["type"] = "library"
    c["version"] = p.version
    return c


def _strip_cvss_prefix(vector: str, prefix: str) -> str:
    """The vector without ``prefix``, its next character (a digit) and a ``/`` after it (regex ``^CVSS:3\\.\\d/?``)."""
    n = len(prefix)
    if vector.startswith(prefix) and len(vector) > n and vector[n].isdecimal():
        return vector[n + 2 :] if vector[n + 1 : n + 2] == "/" else vector[n + 1 :]
    return vector


def _ratings(f: Finding) -> list[dict[str, Any]]:
    """The severity rating first, then CVSS ratings by score, method and vector (the library's order)."""
    cvss: dict[tuple[float, str, str], dict[str, Any]] = {}
    for version, given, score in f.cvss:
        method, prefix = _CVSS_METHOD.get(version, ("other", ""))
        vector = _strip_cvss_prefix(given, prefix) if given and prefix else given
        value = float(str(score))
        cvss[(value, method, vector)] = {"method": method, "score": value, "vector": vector}
    severity = {"severity": _SEV[f.severity], "source": {"name": f.severity_source or "lockgate"}}
    return [severity, *(cvss[k] for k in sorted(cvss))]


def _vulnerability(f: Finding, pkg: Package, target: str) -> dict[str, Any]:
    version = f.installed_version or pkg.version
    affected: dict[str, Any] = {"ref": target}
    if version:  # (the library raised on an empty version; the schema wants a non-empty one or none)
        affected["versions"] = [{"status": "affected", "version": version}]
    v: dict[str, Any] = {"affects": [affected]}
    v["bom-ref"] = f"{f.id}@{target}"
    if f.title:
        v["description"] = f.title
    if f.description:
        v["detail"] = f.description
    v["id"] = f.id
    v["ratings"] = _ratings(f)
    if f.fixed_versions:
        v["recommendation"] = f"Upgrade to {', '.join(f.fixed_versions)}"
    if f.aliases:
        v["references"] = [{"id": a, "source": {"name": "alias"}} for a in sorted(set(f.aliases))]
    return v


def _root(report: ScanReport) -> dict[str, Any]:
    root: dict[str, Any] = {"bom-ref": report.artifact_digest or report.target}
    digest = report.artifact_digest
    if digest.startswith("sha256:"):
        root["hashes"] = [{"alg": "SHA-256", "content": digest.split(":", 1)[1]}]
    root["name"] = report.target
    properties = _properties((f"lockgate:{k}", v) for k, v in report.metadata)
    if properties:
        root["properties"] = properties
    root["type"] = "container" if report.artifact_type == "container_image" else "application"
    if digest.startswith("sha256:"):
        root["version"] = digest
    return root


def build_document(report: ScanReport, *, now: datetime | None = None, serial: str | None = None) -> dict[str, Any]:
    """The CycloneDX 1.6 document for a report, as JSON-ready dicts (``now``/``serial`` fix the run's identity)."""
    root = _root(report)
    root_ref: str = root["bom-ref"]
    components: list[tuple[tuple[str, str, str, str], dict[str, Any]]] = []
    graph: dict[str, set[str]] = {root_ref: set()}
    os_ref = None
    if report.os is not None:
        os_ref = f"os:{report.os.family}@{report.os.version}"
        os_comp = {"bom-ref": os_ref, "name": report.os.family, "type": "operating-system"}
        os_comp["version"] = report.os.version
        components.append((("operating-system", report.os.family, report.os.version, os_ref), os_comp))
        graph[os_ref] = set()
    # bom-refs: the purl (or a synthetic ref); a repeated one gets the package's index appended.
    refs: dict[str, int] = {}
    by_name: dict[str, str] = {}
    by_name_version: dict[tuple[str, str], str] = {}
    for i, p in enumerate(report.packages):
        ref = _bom_ref(p, i)
        while ref in refs or ref in graph:
            ref = f"{ref}#{i}"
        refs[ref] = i
        by_name.setdefault(f"{p.ecosystem}/{p.name}", ref)
        by_name_version.setdefault((p.name, p.version), ref)
        components.append((("library", p.name, p.version, ref), _component(p, ref, report)))
        graph[ref] = set()
    for i, p in enumerate(report.packages):
        parent = _bom_ref(p, i)  # a repeated purl's dependencies go to its first component, as before
        if not p.dependencies or parent not in refs:
            continue
        for d in p.dependencies:
            dep = d if d in refs else by_name.get(f"{p.ecosystem}/{d}")
            if dep is not None and dep != parent:
                graph[parent].add(dep)
    graph[root_ref].update(refs)
    if os_ref is not None:
        graph[root_ref].add(os_ref)
    vulns: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for f in report.findings:
        if f.kind is not FindingKind.VULNERABILITY or f.package is None:
            continue
        target = by_name_version.get((f.package.name, f.package.version)) or f.package.purl or f.package.name
        v = _vulnerability(f, f.package, target)
        n = seen[v["bom-ref"]] = seen.get(v["bom-ref"], 0) + 1
        if n > 1:
            v["bom-ref"] += f"#{n}"
        vulns.append(v)

    doc: dict[str, Any] = {
        "$schema": SCHEMA_URI,
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial or f"urn:uuid:{_uuid4()}",
        "version": 1,
        "metadata": {
            "component": root,
            "timestamp": (now or datetime.now(UTC)).isoformat(),
            "tools": [{"name": TOOL_NAME, "vendor": "lockgate", "version": TOOL_VERSION}],
        },
    }
    if components:
        doc["components"] = [c for _, c in sorted(components, key=lambda kc: kc[0])]
    doc["dependencies"] = [
        {"dependsOn": sorted(deps), "ref": ref} if deps else {"ref": ref} for ref, deps in sorted(graph.items())
    ]
    if vulns:
        doc["vulnerabilities"] = sorted(vulns, key=lambda v: (v["id"], v["bom-ref"]))
    return doc


def _uuid4() -> str:
    """A random (version 4) UUID, without importing ``uuid``."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def render_cyclonedx(report: ScanReport) -> str:
    """CycloneDX 1.6 JSON for a scan report (``scan -f cyclonedx``, ``sbom -f cyclonedx``)."""
    return indented_json(build_document(report)) + "\n"
