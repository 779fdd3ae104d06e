"""The licence tables the CycloneDX renderer classifies with, shipped precomputed.

cyclonedx-python-lib's ``LicenseFactory`` decides between SPDX id, expression and name from two data
files of installed libraries: cyclonedx's SPDX id list and license-expression's ScanCode index
(~1 MB; turning it into a symbol table takes ~8 ms). ``spdx-ids.json`` and ``licence-symbols.json``
next to this module hold the two tables as built from those files, each with its file's size and
CRC-32. A table is loaded on first use, from the shipped copy while the installed file still
matches it (one read and CRC of the file), else built from the file itself, so an upgraded library
is never misread, only slower. Regenerate after an upgrade with
``python -m lockgate.findings.render._licence_data`` (a test fails while a copy is stale).
"""

from __future__ import annotations

import json
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from lockgate.errors import ConfigError

# Where the libraries keep the data their licence classification uses (``cyclonedx.schema._res.SPDX_JSON``,
# ``license_expression.vendored_scancode_licensedb_index_location``; a test checks these stay the same).
SPDX_IDS_FILE = ("cyclonedx", "schema/_res/spdx.SNAPSHOT.schema.json")
EXPRESSION_INDEX_FILE = ("license_expression", "data/scancode-licensedb-index.json")
SHIPPED_IDS = Path(__file__).with_name("spdx-ids.json")
SHIPPED_SYMBOLS = Path(__file__).with_name("licence-symbols.json")

# A symbol is its lower-cased words (see ``words``) joined by one space.
Symbols = tuple[dict[str, bool], int]  # symbol -> is_exception, and the longest symbol in words


def words(text: str) -> list[str]:
    """license-expression's word tokenizer: runs of anything but white space and parentheses, or one parenthesis."""
    if "(" in text or ")" in text:
        text = text.replace("(", " ( ").replace(")", " ) ")
    return text.split()


def library_file(package: str, relative: str) -> Path:
    """A data file shipped inside an installed package, found without importing the package.

    The first ``sys.path`` entry holding it, as the import system finds a regular package (one stat
    per entry); else ``importlib``'s finder, for packages installed in other ways (~2 ms to import).
    """
    import sys

    for entry in sys.path:
        package_dir = Path(entry or ".", package)
        if (package_dir / "__init__.py").is_file():
            if (package_dir / relative).is_file():
                return package_dir / relative
            break
    from importlib.util import find_spec

    spec = find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder, relative)
        if path.is_file():
            return path
    raise ConfigError(f"{package}: data file {relative} is missing; reinstall lockgate's dependencies")


def _fingerprint(data: bytes) -> list[int]:
    return [len(data), zlib.crc32(data)]


def index_entries(text: str) -> list[tuple[str, list[str], bool]]:
    """(SPDX key, other SPDX keys, is_exception) of each ScanCode index entry that has an SPDX key.

    A regular expression reads the index in a quarter of ``json.loads``'s time; it is used only
    when it provably saw every entry (no escapes, one match per non-null ``spdx_license_key``).
    """
    import re

    if "\\" not in text:
        entry = re.compile(
            r'"spdx_license_key": "([^"\\]*)",\s*"other_spdx_license_keys": \[([^\]\\]*)\],\s*'
            r'"is_exception": (true|false)'
        )
        found = entry.findall(text)
        if len(found) + text.count('"spdx_license_key": null') == text.count('"spdx_license_key"'):
            return [(key, re.findall(r'"([^"]*)"', others), exc == "true") for key, others, exc in found if key]
    return [
        (e["spdx_license_key"], list(e.get("other_spdx_license_keys") or ()), bool(e.get("is_exception", False)))
        for e in json.loads(text)
        if e.get("spdx_license_key")
    ]


def build_spdx_ids(data: bytes) -> dict[str, str]:
    """Lower-cased SPDX licence and exception ids -> canonical spelling: the SPDX schema's ``enum``."""
    return {i.lower(): i for i in json.loads(data).get("enum", [])}


def build_symbols(data: bytes) -> Symbols:
    """The symbol table as ``license_expression.get_spdx_licensing()`` builds it: each ScanCode index
    entry with an SPDX key contributes that key and its other SPDX keys (aliases, which may contain spaces)."""
    symbols: dict[str, bool] = {}
    for key, others, exception in index_entries(data.decode("utf-8")):
        for name in (key, *others):
            symbol = " ".join(words(name.lower()))
            if symbol:
                symbols[symbol] = exception
    return symbols, max((s.count(" ") + 1 for s in symbols), default=1)


def _load(shipped: Path, source: tuple[str, str]) -> tuple[dict[str, Any] | None, bytes]:
    """The shipped table if it was built from the installed ``source`` file (else ``None``), and that file."""
    data = library_file(*source).read_bytes()
    try:
        table: dict[str, Any] = json.loads(shipped.read_bytes())
        if table["source"] == _fingerprint(data):
            return table, data
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None, data


@cache
def spdx_ids() -> dict[str, str]:
    """Lower-cased SPDX licence and exception ids -> their canonical spelling (cyclonedx's list)."""
    table, data = _load(SHIPPED_IDS, SPDX_IDS_FILE)
    return table["ids"] if table is not None else build_spdx_ids(data)


@cache
def expression_symbols() -> Symbols:
    """license-expression's SPDX symbols -> ``is_exception``, and the longest symbol in words."""
    table, data = _load(SHIPPED_SYMBOLS, EXPRESSION_INDEX_FILE)
    return (table["symbols"], table["longest"]) if table is not None else build_symbols(data)


def write_shipped(ids_path: Path = SHIPPED_IDS, symbols_path: Path = SHIPPED_SYMBOLS) -> None:
    """(Re)write the shipped tables from the installed libraries' files."""
    spdx_data = library_file(*SPDX_IDS_FILE).read_bytes()
    index_data = library_file(*EXPRESSION_INDEX_FILE).read_bytes()
    symbols, longest = build_symbols(index_data)
    for path, doc in (
        (ids_path, {"source": _fingerprint(spdx_data), "ids": build_spdx_ids(spdx_data)}),
        (symbols_path, {"source": _fingerprint(index_data), "symbols": symbols, "longest": longest}),
    ):
        path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_shipped()
