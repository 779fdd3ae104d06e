"""Node.js packages: installed ``node_modules/**/package.json`` and npm, yarn and pnpm lock files.

- ``package.json`` counts only as ``node_modules/[@scope/]name/package.json`` (an installed
  package); a project's own manifest, or one inside a package's tests, is not installed.
  VS Code extension and Unity manifests are not npm packages.
- ``package-lock.json`` / ``npm-shrinkwrap.json`` v1 (nested ``dependencies``) and v2/v3
  (flat ``packages`` keyed by install path); aliases resolve to the real package name,
  ``link`` entries are skipped (their target folder is listed separately).
- ``yarn.lock`` v1 (yarn's own syntax) and berry (YAML-like), read line by line with one
  parser: both put a specifier list at column 0 and ``version`` one level deeper.
- ``pnpm-lock.yaml`` v5 to v9: package keys are dependency paths whose syntax changed per version.
"""

from __future__ import annotations

import re
from typing import Any

from lockgate.inventory.lang._common import (
    Collector,
    Format,
    LangAnalyzer,
    ParseError,
    as_dict,
    as_str,
    decode,
    load_json,
    load_yaml,
    make_purl,
)

ECO = "npm"
_VERSION = re.compile(r"^v?\d+(\.\d+)*([-+][0-9A-Za-z.+-]*)?$")


def _licenses(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    lic = doc.get("license")
    if isinstance(lic, str):
        out.append(lic)
    elif isinstance(lic, dict):
        out.append(as_str(lic.get("type")))
    for item in doc.get("licenses", []) if isinstance(doc.get("licenses"), list) else []:
        out.append(as_str(item.get("type")) if isinstance(item, dict) else as_str(item))
    return [x.strip() for x in out if x and x.strip()]


def parse_package_json(content: bytes, col: Collector) -> None:
    """An installed package's ``package.json``: needs both name and version."""
    doc = load_json(content)
    if not isinstance(doc, dict):
        raise ParseError("package.json is not a JSON object")
    name, version = as_str(doc.get("name")).strip(), as_str(doc.get("version")).strip()
    if not name or not version:
        return
    if "vscode" in as_dict(doc.get("engines")) or "contributes" in doc or "unity" in doc:
        return  # VS Code extensions and Unity packages share the file name but are not npm packages
    deps = list(as_dict(doc.get("dependencies"))) + list(as_dict(doc.get("optionalDependencies")))
    col.add(ECO, name, version, licenses=_licenses(doc), dependencies=deps)


def _npm_alias(version: str) -> tuple[str, str] | None:
    """``npm:real-name@1.2.3`` -> (real-name, 1.2.3)."""
    if not version.startswith("npm:"):
        return None
    spec = version[4:]
    at = spec.rfind("@")
    if at <= 0:
        return None
    return spec[:at], spec[at + 1 :]


def _groups(entry: dict[str, Any]) -> dict[str, str]:
    g = []
    if entry.get("dev") is True or entry.get("devOptional") is True:
        g.append("dev")
    if entry.get("optional") is True or entry.get("devOptional") is True:
        g.append("optional")
    if entry.get("inBundle") is True or entry.get("bundled") is True:
        g.append("bundled")
    return {"dep_groups": ",".join(sorted(g))} if g else {}


def _lock_version(version: str) -> str:
    """Version of a lock entry; git/file/tarball specifiers give no registry version."""
    if _VERSION.match(version):
        return version.removeprefix("v")
    return ""


def _walk_v1(deps: dict[str, Any], col: Collector, depth: int) -> None:
    if depth > 200:
        raise ParseError("dependencies nested deeper than 200 levels")
    for name, raw in deps.items():
        entry = as_dict(raw)
        version = as_str(entry.get("version"))
        real = name
        alias = _npm_alias(version)
        if alias:
            real, version = alias
        meta = _groups(entry)
        if not _VERSION.match(version):
            if version:
                meta["resolved"] = version
            version = ""
        col.add(ECO, real, version.removeprefix("v"), dependencies=list(as_dict(entry.get("requires"))), metadata=meta)
        _walk_v1(as_dict(entry.get("dependencies")), col, depth + 1)


def parse_package_lock(content: bytes, col: Collector) -> None:
    """``package-lock.json`` / ``npm-shrinkwrap.json``, lock versions 1 to 3."""
    doc = load_json(content)
    if not isinstance(doc, dict):
        raise ParseError("lock file is not a JSON object")
    packages = doc.get("packages")
    if isinstance(packages, dict) and packages:
        entries: list[tuple[str, str, str, dict[str, Any], dict[str, str]]] = []
        purl_at: dict[str, str] = {}
        for path, raw in packages.items():
            entry = as_dict(raw)
            if not path or entry.get("link") is True:
                continue
            version = as_str(entry.get("version"))
            name = as_str(entry.get("name"))
            if not name:
                idx = path.rfind("node_modules/")
                name = path[idx + len("node_modules/") :] if idx >= 0 else path.rstrip("/").rsplit("/", 1)[-1]
            alias = _npm_alias(version)
            if alias:
                name, version = alias
            resolved = as_str(entry.get("resolved"))
            if not version and not resolved.startswith(("git", "github:")):
                continue
            meta = _groups(entry)
            if not version:
                version = resolved
            if not _VERSION.match(version):
                meta["resolved"] = version
                version = ""
            version = version.removeprefix("v")
            entries.append((path, name, version, entry, meta))
            purl_at[path] = make_purl(ECO, name, version)
        for path, name, version, entry, meta in entries:
            wanted = list(as_dict(entry.get("dependencies"))) + list(as_dict(entry.get("optionalDependencies")))
            deps = [_resolve_node(path, d, purl_at) or d for d in wanted]
            col.add(ECO, name, version, licenses=_licenses(entry), dependencies=deps, metadata=meta, purl=purl_at[path])
    else:
        _walk_v1(as_dict(doc.get("dependencies")), col, 0)


def _resolve_node(path: str, dep: str, purl_at: dict[str, str]) -> str:
    """Node's lookup: ``<path>/node_modules/<dep>``, then each enclosing ``node_modules``."""
    base = path
    while True:
        hit = purl_at.get(f"{base}/node_modules/{dep}" if base else f"node_modules/{dep}")
        if hit:
            return hit
        if not base:
            return ""
        idx = base.rfind("/node_modules/")
        base = base[:idx] if idx >= 0 else ""


# --- yarn ----------------------------------------------------------------------------------


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _split_spec(spec: str) -> tuple[str, str]:
    """``name@range`` -> (name, range); scoped names keep their leading ``@``."""
    at = spec.find("@", 1)
    if at < 0:
        return spec, ""
    return spec[:at], spec[at + 1 :]


def parse_yarn_lock(content: bytes, col: Collector) -> None:
    """``yarn.lock`` v1 and berry."""
    text = decode(content)
    entries: list[tuple[str, dict[str, str], list[str]]] = []
    header: str | None = None
    props: dict[str, str] = {}
    deps: list[str] = []
    in_deps = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if header is not None:
                entries.append((header, props, deps))
            header, props, deps, in_deps = line.rstrip().rstrip(":"), {}, [], False
            continue
        if header is None:
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent <= 2:
            in_deps = body.rstrip(":") in ("dependencies", "optionalDependencies")
            if ":" in body and not body.endswith(":") and (body.find(":") < body.find(" ") or " " not in body):
                key, _, value = body.partition(":")
            else:
                key, _, value = body.partition(" ")
            props[_unquote(key)] = _unquote(value)
        elif in_deps:
            dep = body.split(":", 1)[0] if ":" in body.split(" ", 1)[0] else body.split(" ", 1)[0]
            deps.append(_unquote(dep))
    if header is not None:
        entries.append((header, props, deps))
    for head, p, d in entries:
        if head == "__metadata":
            continue
        first = _unquote(head.split(",")[0].strip())
        resolution = p.get("resolution", "")
        if resolution.endswith("@workspace:."):
            continue  # the project itself (berry)
        name, rng = _split_spec(_unquote(resolution) if resolution else first)
        if not resolution and rng.startswith("npm:"):
            alias = _split_spec(rng[4:])
            if alias[0]:
                name = alias[0]
        version = p.get("version", "")
        if not version and not resolution:
            version = rng if _VERSION.match(rng) else ""
        if not name or not version:
            col.problem(f"entry without name or version: {head[:80]}")
            continue
        col.add(ECO, name, version, dependencies=d)


# --- pnpm ----------------------------------------------------------------------------------


def _pnpm_key(key: str, lock_version: float) -> tuple[str, str]:
    """Name and version from a pnpm dependency path (either may be empty when the path has none)."""
    path = key.lstrip("/")
    if lock_version < 6:
        segs = path.split("/")
        if len(segs) < 2:
            raise ParseError(f"invalid dependency path: {key}")
        version = segs[-1].split("_", 1)[0]
        name = segs[-2]
        if len(segs) >= 3 and segs[-3].startswith("@"):
            name = f"{segs[-3]}/{name}"
        if not _VERSION.match(version):
            return "", ""
        return name, version
    path = path.split("(", 1)[0]
    at = path.rfind("@")
    if at <= 0:
        raise ParseError(f"invalid dependency path: {key}")
    name, version = path[:at], path[at + 1 :]
    if not name.startswith("@") and "/" in name:
        name = name.rsplit("/", 1)[-1]
    elif name.count("/") > 1:
        name = "/".join(name.split("/")[-2:])
    return name, version


def parse_pnpm_lock(content: bytes, col: Collector) -> None:
    """``pnpm-lock.yaml`` lockfile versions 5.x to 9.x."""
    doc = load_yaml(content)
    if doc is None:
        return
    if not isinstance(doc, dict):
        raise ParseError("pnpm lock file is not a mapping")
    try:
        lock_version = float(str(doc.get("lockfileVersion", "5")).split(".", 1)[0] or 5)
    except ValueError:
        lock_version = 5.0
    graph = _PnpmGraph(doc) if lock_version >= 9 else None
    for key, raw in as_dict(doc.get("packages")).items():
        entry = as_dict(raw)
        name, version = as_str(entry.get("name")), str(entry.get("version") or "")
        if not name or not version:
            try:
                key_name, key_version = _pnpm_key(str(key), lock_version)
            except ParseError as exc:
                col.problem(str(exc))
                continue
            name = name or key_name
            version = version or key_version
            if not name or not _VERSION.match(version):
                continue
        meta = _groups(entry)
        deps = list(as_dict(entry.get("dependencies"))) + list(as_dict(entry.get("optionalDependencies")))
        if graph is not None:
            pkg_key = str(key).split("(", 1)[0]
            deps = graph.dependencies(pkg_key)
            if graph.dev_only(pkg_key):
                meta["dep_groups"] = "dev"
        col.add(ECO, name, version.removeprefix("v"), dependencies=deps, metadata=meta)


class _PnpmGraph:
    """Lock version 9: edges live in ``snapshots`` (keys carry peer suffixes), roots in ``importers``.

    A package is dev-only when it is reachable from some importer's ``devDependencies`` but
    from no importer's ``dependencies``/``optionalDependencies`` (what ``pnpm list --prod`` omits).
    """

    def __init__(self, doc: dict[str, Any]) -> None:
        self.edges: dict[str, list[str]] = {}
        for key, raw in as_dict(doc.get("snapshots")).items():
            entry = as_dict(raw)
            targets = [
                _snapshot_key(dep, str(ver))
                for section in ("dependencies", "optionalDependencies")
                for dep, ver in as_dict(entry.get(section)).items()
            ]
            self.edges[str(key)] = [t for t in targets if t]
        self.by_package: dict[str, list[str]] = {}
        for key in self.edges:
            self.by_package.setdefault(key.split("(", 1)[0], []).append(key)
        prod: list[str] = []
        dev: list[str] = []
        for importer in as_dict(doc.get("importers")).values():
            imp = as_dict(importer)
            for section, roots in (("dependencies", prod), ("optionalDependencies", prod), ("devDependencies", dev)):
                for dep, spec in as_dict(imp.get(section)).items():
                    ver = as_str(as_dict(spec).get("version")) if isinstance(spec, dict) else str(spec)
                    target = _snapshot_key(dep, ver)
                    if target:
                        roots.append(target)
        self.prod = self._reach(prod)
        self.dev = self._reach(dev)

    def _reach(self, roots: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            stack.extend(self.edges.get(key, ()))
        return {k.split("(", 1)[0] for k in seen}

    def dependencies(self, package_key: str) -> list[str]:
        out: list[str] = []
        for snap in self.by_package.get(package_key, ()):
            for target in self.edges.get(snap, ()):
                name, _, version = target.split("(", 1)[0].rpartition("@")
                purl = make_purl(ECO, name, version) if name and _VERSION.match(version) else ""
                if purl and purl not in out:
                    out.append(purl)
        return out

    def dev_only(self, package_key: str) -> bool:
        return package_key in self.dev and package_key not in self.prod


def _snapshot_key(dep: str, version: str) -> str:
    """Snapshot key a dependency entry points at (``""`` for ``link:`` workspace references)."""
    if not version or version.startswith(("link:", "file:")):
        return ""
    if "@" in version[1:]:  # npm alias: the value names the real package, "real@1.2.3"
        return version
    return f"{dep}@{version}"


def _in_node_modules(path: str) -> bool:
    return path.startswith("node_modules/") or "/node_modules/" in path


def _is_installed_manifest(path: str) -> bool:
    """``node_modules/<name>/package.json`` or ``node_modules/@scope/<name>/package.json`` only:
    package.json files deeper inside a package (test fixtures, examples) are not installed packages."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[-3] == "node_modules" and not parts[-2].startswith("@"):
        return True
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


FORMATS = (
    Format(
        "package.json",
        ECO,
        lambda p, n: n == "package.json" and _is_installed_manifest(p),
        parse_package_json,
        names=("package.json",),
    ),
    Format(
        "package-lock.json",
        ECO,
        lambda p, n: n in ("package-lock.json", "npm-shrinkwrap.json") and not _in_node_modules(p),
        parse_package_lock,
        names=("package-lock.json", "npm-shrinkwrap.json"),
    ),
    Format(
        "yarn.lock",
        ECO,
        lambda p, n: n == "yarn.lock" and not _in_node_modules(p),
        parse_yarn_lock,
        names=("yarn.lock",),
    ),
    Format(
        "pnpm-lock.yaml",
        ECO,
        lambda p, n: n == "pnpm-lock.yaml" and not _in_node_modules(p),
        parse_pnpm_lock,
        names=("pnpm-lock.yaml",),
    ),
)


def analyzer() -> LangAnalyzer:
    """The Node.js analyser."""
    return LangAnalyzer("lang-node", 1, FORMATS, max_size=64 * 1024 * 1024)
