"""PHP packages: ``composer.lock`` and Composer's installed list ``vendor/composer/installed.json``.

``installed.json`` exists in two layouts: a JSON list (Composer 1) and an object with
``packages`` plus ``dev-package-names`` (Composer 2). Versions written ``v1.2.3`` are
stored without the ``v``, the way advisories give them; the purl keeps Composer's text.
"""

from __future__ import annotations

from typing import Any

from lockgate.inventory.lang._common import (
    Collector,
    Format,
    LangAnalyzer,
    ParseError,
    as_dict,
    as_str,
    load_json,
    make_purl,
)

ECO = "Packagist"


def _licenses(p: dict[str, Any]) -> list[str]:
    lic = p.get("license")
    if isinstance(lic, str):
        return [lic]
    if isinstance(lic, list):
        return [x for x in lic if isinstance(x, str)]
    return []


def _add(col: Collector, raw: Any, dev: bool) -> None:
    p = as_dict(raw)
    name, version = as_str(p.get("name")).lower(), as_str(p.get("version"))
    if not name or not version:
        return
    clean = version[1:] if version[:1] in ("v", "V") and version[1:2].isdigit() else version
    deps = [d for d in as_dict(p.get("require")) if "/" in d]  # php, ext-* are platform requirements
    meta = {"dep_groups": "dev"} if dev else {}
    col.add(
        ECO, name, clean, licenses=_licenses(p), dependencies=deps, metadata=meta, purl=make_purl(ECO, name, version)
    )


def parse_composer_lock(content: bytes, col: Collector) -> None:
    """``composer.lock``: ``packages`` and ``packages-dev``."""
    doc = load_json(content)
    if not isinstance(doc, dict):
        raise ParseError("composer.lock is not a JSON object")
    for p in doc.get("packages", []) or []:
        _add(col, p, False)
    for p in doc.get("packages-dev", []) or []:
        _add(col, p, True)


def parse_installed_json(content: bytes, col: Collector) -> None:
    """``vendor/composer/installed.json`` (Composer 1 list or Composer 2 object)."""
    doc = load_json(content)
    if isinstance(doc, list):
        packages, dev_names = doc, set()
    elif isinstance(doc, dict):
        packages = doc.get("packages", []) or []
        dev_names = {str(n).lower() for n in doc.get("dev-package-names", []) or []}
    else:
        raise ParseError("installed.json is neither a list nor an object")
    if not isinstance(packages, list):
        raise ParseError("installed.json: packages is not a list")
    for p in packages:
        _add(col, p, as_str(as_dict(p).get("name")).lower() in dev_names)


FORMATS = (
    Format("composer.lock", ECO, lambda p, n: n == "composer.lock", parse_composer_lock, names=("composer.lock",)),
    Format(
        "installed.json",
        ECO,
        lambda p, n: (
            n == "installed.json"
            and (p == "vendor/composer/installed.json" or p.endswith("/vendor/composer/installed.json"))
        ),
        parse_installed_json,
        names=("installed.json",),
    ),
)


def analyzer() -> LangAnalyzer:
    """The PHP analyser."""
    return LangAnalyzer("lang-php", 1, FORMATS, max_size=32 * 1024 * 1024)
