""".NET packages from ``*.deps.json`` (the runtime dependency manifest next to every app)
and NuGet's ``packages.lock.json``.

``libraries`` lists ``Name/Version`` keys with a ``type``: only ``package`` entries are
NuGet packages (``project`` and ``reference`` are the app's own code). Dependencies come
from the ``targets`` section. NuGet names are case-insensitive; we keep the manifest's casing.
"""

from __future__ import annotations

from lockgate.inventory.lang._common import Collector, Format, LangAnalyzer, ParseError, as_dict, as_str, load_json

ECO = "NuGet"


def parse_deps_json(content: bytes, col: Collector) -> None:
    """``*.deps.json``: libraries of type ``package``."""
    doc = load_json(content)
    if not isinstance(doc, dict):
        raise ParseError("deps.json is not a JSON object")
    deps_of: dict[str, list[str]] = {}
    for target in as_dict(doc.get("targets")).values():
        for key, entry in as_dict(target).items():
            deps_of.setdefault(key.lower(), list(as_dict(as_dict(entry).get("dependencies"))))
    for key, raw in as_dict(doc.get("libraries")).items():
        lib = as_dict(raw)
        if as_str(lib.get("type")).lower() != "package":
            continue
        name, sep, version = key.partition("/")
        if not sep or not name or not version:
            col.problem(f"library key {key[:80]!r} is not Name/Version")
            continue
        meta = {"sha512": as_str(lib.get("sha512"))} if lib.get("sha512") else {}
        col.add(ECO, name, version, dependencies=deps_of.get(key.lower(), []), metadata=meta)


def parse_packages_lock(content: bytes, col: Collector) -> None:
    """NuGet ``packages.lock.json``: every target framework's resolved packages (projects skipped)."""
    doc = load_json(content)
    if not isinstance(doc, dict):
        raise ParseError("packages.lock.json is not a JSON object")
    for framework in as_dict(doc.get("dependencies")).values():
        for name, raw in as_dict(framework).items():
            entry = as_dict(raw)
            version = as_str(entry.get("resolved"))
            if as_str(entry.get("type")).lower() == "project" or not version:
                continue
            meta = {"direct": "true"} if as_str(entry.get("type")) == "Direct" else {}
            col.add(ECO, name, version, dependencies=list(as_dict(entry.get("dependencies"))), metadata=meta)


FORMATS = (
    Format("deps.json", ECO, lambda p, n: n.endswith(".deps.json"), parse_deps_json, suffixes=(".deps.json",)),
    Format(
        "packages.lock.json",
        ECO,
        lambda p, n: n == "packages.lock.json",
        parse_packages_lock,
        names=("packages.lock.json",),
    ),
)


def analyzer() -> LangAnalyzer:
    """The .NET analyser."""
    return LangAnalyzer("lang-dotnet", 1, FORMATS, max_size=32 * 1024 * 1024)
