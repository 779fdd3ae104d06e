"""Go modules from source trees: ``go.mod`` (require/replace/exclude, ``// indirect``) and ``go.sum``.

``go.mod`` is parsed line by line (its grammar is small: directives and parenthesised
blocks). ``replace`` rules are applied to the required modules, local-path replacements
(no version) are recorded on the original module. The ``go``/``toolchain`` directive gives
the ``stdlib`` version, as scalibr and OSV report it. ``go.sum`` lists modules with an
``h1:`` hash of the module zip; ``/go.mod``-only lines are not downloaded modules.
Go versions are stored without the leading ``v`` (OSV's convention); purls keep it.
"""

from __future__ import annotations

import re

from lockgate.inventory.lang._common import Collector, Format, LangAnalyzer, ParseError, decode

ECO = "Go"
_DIRECTIVES = {"module", "go", "toolchain", "require", "replace", "exclude", "retract", "godebug", "tool", "ignore"}
_MODVER = re.compile(r"^v\d+\.\d+\.\d+\S*$")


def _tokens(line: str) -> list[str]:
    out = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)', line):
        out.append(m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3))
    return out


def parse_go_mod(content: bytes, col: Collector) -> None:
    """``go.mod``: required modules after replacements, plus ``stdlib``."""
    text = decode(content)
    requires: list[tuple[str, str, bool]] = []
    replaces: list[tuple[str, str, str, str]] = []
    excludes: set[tuple[str, str]] = set()
    go_version = toolchain = ""
    block: str | None = None
    known = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        code, _, comment = raw.partition("//")
        indirect = comment.strip().startswith("indirect")
        toks = _tokens(code)
        if not toks:
            continue
        if block is not None:
            if toks == [")"]:
                block = None
                continue
            verb, args = block, toks
        else:
            verb, args = toks[0], toks[1:]
            if verb not in _DIRECTIVES:
                if not known:  # the first statement decides whether this is a go.mod at all
                    raise ParseError(f"line {lineno}: unknown directive {verb!r}")
                col.problem(f"line {lineno}: unknown directive {verb!r} skipped")
                continue
            known = True
            if args == ["("]:
                block = verb
                continue
        if verb == "go" and args:
            go_version = args[0]
        elif verb == "toolchain" and args:
            toolchain = args[0]
        elif verb == "require" and len(args) >= 2:
            requires.append((args[0], args[1], indirect))
        elif verb == "exclude" and len(args) >= 2:
            excludes.add((args[0], args[1]))
        elif verb == "replace" and "=>" in args:
            i = args.index("=>")
            lhs, rhs = args[:i], args[i + 1 :]
            if not lhs or not rhs:
                raise ParseError(f"line {lineno}: malformed replace")
            replaces.append((lhs[0], lhs[1] if len(lhs) > 1 else "", rhs[0], rhs[1] if len(rhs) > 1 else ""))
    if block is not None:
        raise ParseError(f"unterminated {block} block")
    for path, version, indirect in requires:
        if (path, version) in excludes:
            continue
        name, ver = path, version
        meta = {"indirect": "true"} if indirect else {}
        for old, old_ver, new, new_ver in replaces:
            if old == path and old_ver in ("", version):
                meta["replaces"] = f"{path}@{version}"
                if new_ver:
                    name, ver = new, new_ver
                else:
                    meta["replaced_by_local"] = new
                    name, ver = "", ""
        if not name:
            continue  # replaced by a local directory: no module version exists to match
        col.add(ECO, name, ver.removeprefix("v"), metadata=meta)
    tc = re.match(r"^go(\d+(?:\.\d+)*)", toolchain)
    std = tc.group(1) if tc else go_version
    if std:
        col.add(ECO, "stdlib", std, metadata={"go_directive": go_version, "toolchain": toolchain})


def parse_go_sum(content: bytes, col: Collector) -> None:
    """``go.sum``: one package per module version with a module-zip hash."""
    seen: set[tuple[str, str]] = set()
    for lineno, line in enumerate(decode(content).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            col.problem(f"line {lineno}: malformed go.sum line")
            continue
        path, version, _h = parts
        if version.endswith("/go.mod"):
            continue
        if (path, version) in seen:
            continue
        seen.add((path, version))
        col.add(ECO, path, version.removeprefix("v"), metadata={"from": "go.sum"})


FORMATS = (
    Format("go.mod", ECO, lambda p, n: n == "go.mod" and "/vendor/" not in p, parse_go_mod, names=("go.mod",)),
    Format("go.sum", ECO, lambda p, n: n == "go.sum" and "/vendor/" not in p, parse_go_sum, names=("go.sum",)),
)


def analyzer() -> LangAnalyzer:
    """The Go source-tree analyser (binaries are handled by ``lang-binary``)."""
    return LangAnalyzer("lang-go", 1, FORMATS, max_size=16 * 1024 * 1024)
