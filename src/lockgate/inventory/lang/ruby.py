"""Ruby gems: installed ``specifications/*.gemspec`` and ``Gemfile.lock``.

Installed gemspecs are Ruby code written by RubyGems from a fixed template; we read the
``name``/``version``/``license(s)`` assignments with regular expressions and never evaluate
anything. A version given as a constant is resolved only from a literal assignment in the
same file. ``Gemfile.lock`` is read section by section (GEM, GIT, PATH ``specs:``).
"""

from __future__ import annotations

import re

from lockgate.inventory.lang._common import Collector, Format, LangAnalyzer, ParseError, decode

ECO = "RubyGems"
_SPEC_START = re.compile(r"Gem::Specification\.new\s*(?:do|\{)\s*\|\s*(\w+)\s*\|")
_STRING = r"""(?:%q<([^>]*)>|%q\{([^}]*)\}|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')(?:\.freeze)?"""
_CONST_ASSIGN = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*=\s*" + _STRING, re.M)


def _str(m: re.Match[str], first: int) -> str:
    for i in range(first, first + 4):
        if m.group(i) is not None:
            return m.group(i)
    return ""


def parse_gemspec(content: bytes, col: Collector) -> None:
    """An installed ``*.gemspec`` (RubyGems' generated Ruby DSL)."""
    text = decode(content)
    start = _SPEC_START.search(text)
    if not start:
        return
    var = re.escape(start.group(1))
    body = text[start.end() :]

    def attr(name: str) -> str | None:
        m = re.search(rf"^\s*{var}\.{name}\s*=\s*{_STRING}", body, re.M)
        if m:
            return _str(m, 1)
        c = re.search(rf"^\s*{var}\.{name}\s*=\s*([A-Z][\w:]*)\s*$", body, re.M)
        if c:
            const = c.group(1).rsplit("::", 1)[-1]
            for a in _CONST_ASSIGN.finditer(text):
                if a.group(1) == const:
                    return _str(a, 2)
            raise ParseError(f"{name} is the constant {c.group(1)}, which is not assigned in this file")
        return None

    name, version = attr("name"), attr("version")
    if not name or not version:
        raise ParseError("failed to parse gemspec: no literal name and version")
    licenses: list[str] = []
    m = re.search(rf"^\s*{var}\.licenses?\s*=\s*(\[[^\]]*\]|{_STRING})", body, re.M)
    if m:
        licenses = [_str(x, 1) for x in re.finditer(_STRING, m.group(1))]
    deps = re.findall(rf"{var}\.add_(?:runtime_)?dependency\s*\(?\s*(?:%q<([^>]+)>|[\"']([^\"']+)[\"'])", body)
    col.add(ECO, name, version, licenses=licenses, dependencies=[a or b for a, b in deps])


_SPEC_LINE = re.compile(r"^    (\S+) \(([^)]+)\)\s*$")
_DEP_LINE = re.compile(r"^      (\S+)")


def parse_gemfile_lock(content: bytes, col: Collector) -> None:
    """``Gemfile.lock`` / ``gems.locked``: gems of the GEM, GIT and PATH sections."""
    section = ""
    in_specs = False
    current: tuple[str, str, str, list[str]] | None = None
    found: list[tuple[str, str, str, list[str]]] = []
    for line in decode(content).splitlines():
        if line and not line[0].isspace():
            section = line.strip()
            in_specs = False
            continue
        if section not in ("GEM", "GIT", "PATH"):
            continue
        if line.strip() == "specs:":
            in_specs = True
            continue
        if not in_specs:
            continue
        m = _SPEC_LINE.match(line)
        if m:
            current = (m.group(1), m.group(2), section, [])
            found.append(current)
            continue
        d = _DEP_LINE.match(line)
        if d and current is not None:
            current[3].append(d.group(1))
    for name, full_version, sect, deps in found:
        version, platform = full_version, ""
        m = re.match(r"^(\d[\w.]*?)-([a-z].*)$", full_version)
        if m:
            version, platform = m.group(1), m.group(2)
        meta = {"platform": platform} if platform else {}
        if sect != "GEM":
            meta["source"] = sect.lower()
        col.add(ECO, name, version, dependencies=deps, metadata=meta)


FORMATS = (
    Format(
        "gemspec",
        ECO,
        lambda p, n: n.endswith(".gemspec") and (p.startswith("specifications/") or "/specifications/" in p),
        parse_gemspec,
        suffixes=(".gemspec",),
    ),
    Format(
        "Gemfile.lock",
        ECO,
        lambda p, n: n in ("Gemfile.lock", "gems.locked"),
        parse_gemfile_lock,
        names=("Gemfile.lock", "gems.locked"),
    ),
)


def analyzer() -> LangAnalyzer:
    """The Ruby analyser."""
    return LangAnalyzer("lang-ruby", 1, FORMATS, max_size=16 * 1024 * 1024)
