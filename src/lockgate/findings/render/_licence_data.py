"""The licence tables the CycloneDX renderer classifies with, shipped precomputed.

cyclonedx-python-lib's ``LicenseFactory`` decides between SPDX id, expression and name from two data
files of installed libraries: cyclonedx's SPDX id list and license-expression's ScanCode index
(~1 MB; turning it into a symbol table takes ~8 ms). ``licence-tables.json`` next to this module
holds both tables as built from those files, with each file's size and CRC-32. :func:`tables` uses
it while the installed files still match (one read and CRC of each, ~1 ms), else builds the tables
from the files themselves, so an upgraded library is never misread, only slower. Regenerate after an
upgrade with ``python -m lockgate.findings.render._licence_data`` (a test fails while the copy is stale).
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
SHIPPED = Path(__file__).with_name("licence-tables.json")

# (lower-cased SPDX id -> canonical id, symbol -> is_exception, longest symbol in words). A symbol is its
# lower-cased words (see ``words``) joined by one space.
Tables = tuple[dict[str, str], dict[str, bool], int]


def words(text: str) -> list[str]:
    """license-expression's word tokenizer: runs of anything but white space and parentheses, or one parenthesis."""
    if "(" in text or ")" in text:
        text = text.replace("(", " ( ").replace(")", " ) ")
    return text.split()


def library_file(package: str, relative: str) -> Path:
    """A data file shipped inside an installed package, found without importing the package."""
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


def build_tables(spdx_data: bytes, index_data: bytes) -> Tables:
    """The tables from the libraries' files, as the libraries read them.

    SPDX ids: the schema's ``enum``. Symbols: as ``license_expression.get_spdx_licensing()``, each
    ScanCode index entry with an SPDX key contributes that key and its other SPDX keys (aliases,
    which may contain spaces).
    """
    ids = {i.lower(): i for i in json.loads(spdx_data).get("enum", [])}
    symbols: dict[str, bool] = {}
    for key, others, exception in index_entries(index_data.decode("utf-8")):
        for name in (key, *others):
            symbol = " ".join(words(name.lower()))
            if symbol:
                symbols[symbol] = exception
    return ids, symbols, max((s.count(" ") + 1 for s in symbols), default=1)


def _read(spec: tuple[str, str], expected: Any) -> tuple[bytes, bool]:
    """A library file's bytes, and whether they are the ones the shipped tables were built from."""
    path = library_file(*spec)
    data = path.read_bytes()
    return data, _fingerprint(data) == expected


@cache
def tables() -> Tables:
    """The licence tables: the shipped copy when the installed libraries' files match it, else built from them."""
    try:
        shipped: dict[str, Any] = json.loads(SHIPPED.read_bytes())
        sources = shipped["sources"]
    except (OSError, ValueError, KeyError, TypeError):
        shipped, sources = {}, {}
    spdx_data, spdx_same = _read(SPDX_IDS_FILE, sources.get("/".join(SPDX_IDS_FILE)))
    index_data, index_same = _read(EXPRESSION_INDEX_FILE, sources.get("/".join(EXPRESSION_INDEX_FILE)))
    if spdx_same and index_same:
        return shipped["spdx_ids"], shipped["symbols"], shipped["longest"]
    return build_tables(spdx_data, index_data)


def write_shipped(path: Path = SHIPPED) -> None:
    """(Re)write the shipped tables from the installed libraries' files."""
    spdx_data = library_file(*SPDX_IDS_FILE).read_bytes()
    index_data = library_file(*EXPRESSION_INDEX_FILE).read_bytes()
    ids, symbols, longest = build_tables(spdx_data, index_data)
    doc = {
        "sources": {
            "/".join(SPDX_IDS_FILE): _fingerprint(spdx_data),
            "/".join(EXPRESSION_INDEX_FILE): _fingerprint(index_data),
        },
        "spdx_ids": ids,
        "symbols": symbols,
        "longest": longest,
    }
    path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_shipped()
