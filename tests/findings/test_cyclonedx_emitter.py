"""The hand-written CycloneDX emitter against cyclonedx-python-lib (the oracle) and the official 1.6 schema.

Synthetic reports here cover the corners (repeated purls, purl-less and unparsable purls,
dependency by name and by purl, CVSS of every version, repeated advisories, no OS, no digest);
``tests/inventory/test_sbom_cyclonedx.py`` runs the same comparison on real inventories.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import subprocess
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lockgate.errors import ConfigError
from lockgate.findings.model import Finding, FindingKind, ScanReport, Severity
from lockgate.findings.render import _licence_data as licence_data
from lockgate.findings.render import cyclonedx as emitter
from lockgate.findings.render._common import _python_indented, indented_json
from lockgate.findings.render.json import render_json
from lockgate.inventory.model import OSInfo, Package
from tests.findings.cyclonedx_oracle import comparable, library_licence, render_with_library
from tests.findings.sample import sample_report

DEB = Package(
    "deb",
    "libstdc++6",
    "12.2.0-14+deb12u1",
    purl="pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12.5",
    source_name="gcc-12",
    source_version="12.2.0-14+deb12u1",
    licenses=("GPL-3.0-or-later", "GPL-3+ with GCC-exception-3.1", "LGPL-2.1-or-later", "Artistic"),
    path="var/lib/dpkg/status",
    layer="sha256:" + "1" * 64,
    arch="amd64",
)
APP = Package(
    "PyPI",
    "app",
    "1.0",
    purl="pkg:pypi/app@1.0",
    licenses=("MIT", "mit", " MIT ", "", "GPL 2.0", "Apache-2.0 OR MIT"),
    dependencies=("lib", "pkg:pypi/tool@3", "app", "not-installed", "lib"),
)
SOLE_EXPRESSION = Package("PyPI", "exprpkg", "2", purl="pkg:pypi/exprpkg@2", licenses=("Apache-2.0 OR MIT",))
LIB = Package("PyPI", "lib", "", licenses=("GPL-2.0-only WITH Classpath-exception-2.0",))
LIB_AGAIN = Package("PyPI", "lib", "")
TOOL = Package("PyPI", "tool", "3", purl="pkg:pypi/tool@3", licenses=("LicenseRef-scancode-public-domain",))
TOOL_AGAIN = Package("PyPI", "tool", "3", purl="pkg:pypi/tool@3", path="elsewhere", dependencies=("lib",))
UNPARSABLE = Package("npm", "x", "2", purl="not a purl", licenses=("Licence ünïcode",))
NOT_NORMAL = Package("PyPI", "Foo_Bar", "1.0", purl="pkg:PyPI/Foo_Bar@1.0?b=2&a=1")
SCOPED = Package("npm", "@scope/pkg", "1.2.3", purl="pkg:npm/%40scope/pkg@1.2.3", licenses=("ISC",))
PACKAGES = (DEB, APP, SOLE_EXPRESSION, LIB, LIB_AGAIN, TOOL, TOOL_AGAIN, UNPARSABLE, NOT_NORMAL, SCOPED)
V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def _vuln(id_: str, pkg: Package, severity: Severity = Severity.HIGH, **kw: object) -> Finding:
    return Finding(kind=FindingKind.VULNERABILITY, id=id_, severity=severity, package=pkg, **kw)  # type: ignore[arg-type]


FINDINGS = (
    _vuln(
        "CVE-2024-0001",
        APP,
        cvss=(
            ("3.1", V31, 9.8),
            ("2", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
            ("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
            ("3.0", "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("9", "SOMETHING/ELSE", 1.0),
            ("3.1", "", 5.0),
            ("3.1", V31, 9.8),
            ("2", "", 10),
        ),
    ),
    _vuln("CVE-2024-0001", APP, title="again", aliases=("GHSA-b", "GHSA-a", "GHSA-a"), severity_source="nvd"),
    _vuln("CVE-2024-0002", LIB, installed_version="0.9", description="details"),
    _vuln("CVE-2024-0003", Package("PyPI", "ghost", "9", purl="pkg:pypi/ghost@9"), fixed_versions=("9.1", "10")),
    _vuln("CVE-2024-0004", Package("PyPI", "ghost2", "9"), Severity.UNKNOWN),
    _vuln("CVE-2024-0005", TOOL_AGAIN, Severity.LOW, installed_version="2.9"),
    _vuln("CVE-2024-0006", DEB, Severity.CRITICAL, suppressed_by="vex", cvss=(("3.1", V31, 9.8), ("3.0", V31, 9.8))),
    Finding(kind=FindingKind.SECRET, id="aws-access-key-id", severity=Severity.HIGH),
)
REPORTS = {
    "image": ScanReport(
        target="oci:demo:latest",
        artifact_type="container_image",
        artifact_digest="sha256:" + "c" * 64,
        os=OSInfo("debian", "12.5"),
        packages=PACKAGES,
        findings=FINDINGS,
        metadata=(("base_image", "debian:12"), ("arch", "amd64"), ("arch", "amd64")),
    ),
    "directory": ScanReport(target="/srv/app", artifact_type="filesystem", packages=PACKAGES, findings=FINDINGS),
    "empty": ScanReport(target="oci:empty", artifact_type="container_image"),
    "os only": ScanReport(
        target="oci:os", artifact_type="container_image", artifact_digest="sha512:ab", os=OSInfo("alpine", "")
    ),
    "sample": sample_report(gaps=True),
}


def _validate(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_document_equals_the_librarys_and_validates(name: str) -> None:
    report = REPORTS[name]
    text = emitter.render_cyclonedx(report)
    _validate(text)
    # Same content and the same order (components, licences, properties, dependencies, ratings, references).
    assert comparable(text) == comparable(render_with_library(report))


def test_corner_cases_come_out_as_intended() -> None:
    doc = emitter.build_document(REPORTS["image"])
    comps = {c["bom-ref"]: c for c in doc["components"]}
    # A repeated purl gets the package's index; a purl-less package a synthetic ref.
    assert {"pkg:pypi/tool@3", "pkg:pypi/tool@3#6", "PyPI:lib@#3", "PyPI:lib@#4"} <= set(comps)
    assert "purl" not in comps["not a purl"]  # unparsable: kept as a ref, left out as a purl
    assert comps["pkg:PyPI/Foo_Bar@1.0?b=2&a=1"]["purl"] == "pkg:pypi/foo-bar@1.0?a=1&b=2"
    assert comps["pkg:pypi/exprpkg@2"]["licenses"] == [{"expression": "Apache-2.0 OR MIT"}]
    assert comps["pkg:pypi/app@1.0"]["licenses"] == [
        {"license": {"id": "MIT"}},
        {"license": {"name": "Apache-2.0 OR MIT"}},  # an expression beside other licences becomes a name
        {"license": {"name": "GPL 2.0"}},
    ]
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps["pkg:pypi/app@1.0"] == ["PyPI:lib@#3", "pkg:pypi/tool@3"]  # by name, by purl; not itself
    assert deps["pkg:pypi/tool@3"] == ["PyPI:lib@#3"]  # a repeated purl's dependencies go to the first
    assert deps["sha256:" + "c" * 64] == sorted(set(comps))
    first = next(v for v in doc["vulnerabilities"] if v["id"] == "CVE-2024-0001" and "description" not in v)
    ratings = first["ratings"]
    assert ratings[0] == {"severity": "high", "source": {"name": "lockgate"}}
    assert {"method": "CVSSv31", "score": 9.8, "vector": V31.removeprefix("CVSS:3.1/")} in ratings
    assert len(ratings) == 8  # the repeated 3.1 vector counted once
    refs = [v["bom-ref"] for v in doc["vulnerabilities"]]
    assert len(refs) == len(set(refs))


def test_unknown_affected_version_is_left_out_where_the_library_raised() -> None:
    report = ScanReport(
        target="oci:x", artifact_type="container_image", packages=(LIB,), findings=(_vuln("CVE-2024-0007", LIB),)
    )
    text = emitter.render_cyclonedx(report)
    _validate(text)
    assert json.loads(text)["vulnerabilities"][0]["affects"] == [{"ref": "PyPI:lib@#0"}]
    with pytest.raises(Exception, match="version or range"):
        render_with_library(report)


def test_output_is_deterministic_for_a_given_time_and_serial() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = emitter.build_document(REPORTS["image"], now=now, serial="urn:uuid:0")
    assert first == emitter.build_document(REPORTS["image"], now=now, serial="urn:uuid:0")
    assert first["metadata"]["timestamp"] == "2026-01-02T03:04:05+00:00"
    serial = json.loads(emitter.render_cyclonedx(REPORTS["empty"]))["serialNumber"]
    assert len(serial) == 45 and serial.startswith("urn:uuid:") and serial[23] == "4"


def test_indented_json_is_json_dumps_with_indent() -> None:
    values: list[object] = [emitter.build_document(r) for r in REPORTS.values()]
    values += [{}, [], {"a": [], "b": {}, "c": [{}]}, 'ünï\u2028"\\\n\x00', 1, 9.8, 1e-7, True, False, None]
    values.append({"nested": [1, [2.5, None, {"k": "v"}]]})
    values += [(1, "a", (2,)), {1: "int key", "t": (), "f": 1.5}, [Severity.HIGH, FindingKind.SECRET]]
    values += [{'a"b\\': ['x\\"', {}, [[]]], "c": -0.0, "d": 1e300, "e": 2**70, "": ""}, 2**70, -0.0]
    values += [[float("nan")], {"x": [1, {"inf": float("inf"), "-inf": -float("inf")}]}]  # not JSON: the Python writer
    values.append(json.loads(render_json(REPORTS["sample"])))
    for value in values:
        assert indented_json(value) == json.dumps(value, indent=2)
        assert _python_indented(value) == json.dumps(value, indent=2)


def test_json_report_is_json_dumps_with_indent() -> None:
    for report in REPORTS.values():
        assert render_json(report) == json.dumps(report.to_dict(), indent=2) + "\n"


# --- licence classification: the library's LicenseFactory (SPDX id, expression or name) -----------------


def test_data_files_are_where_the_libraries_read_them() -> None:
    from cyclonedx.schema._res import SPDX_JSON
    from license_expression import vendored_scancode_licensedb_index_location

    assert licence_data.library_file(*licence_data.SPDX_IDS_FILE) == Path(SPDX_JSON)
    index = licence_data.library_file(*licence_data.EXPRESSION_INDEX_FILE)
    assert index == Path(vendored_scancode_licensedb_index_location)
    with pytest.raises(ConfigError, match="missing"):
        licence_data.library_file("cyclonedx", "no/such/file.json")


def test_data_files_of_packages_outside_sys_path_are_found_by_importlib(monkeypatch: pytest.MonkeyPatch) -> None:
    import cyclonedx  # (an imported package: importlib's finder knows it without sys.path)

    monkeypatch.setattr(sys, "path", [])
    assert licence_data.library_file(*licence_data.SPDX_IDS_FILE) == Path(
        cyclonedx.__path__[0], licence_data.SPDX_IDS_FILE[1]
    )


_LIBRARY_WORD = re.compile(r"[^\s()]+|[()]")  # license-expression's tokenizer


def test_symbol_table_is_license_expressions() -> None:
    from license_expression import get_spdx_licensing

    want: dict[str, bool] = {}
    for key, symbol in get_spdx_licensing().known_symbols.items():
        for name in (key, *getattr(symbol, "aliases", ())):
            want[" ".join(_LIBRARY_WORD.findall(" ".join(name.split()).lower()))] = bool(symbol.is_exception)
    symbols, longest = emitter.expression_symbols()
    assert symbols == want
    assert longest == max(s.count(" ") + 1 for s in want) > 1  # some aliases have spaces ("GPL 2.0")
    # The fast reading of the index is the same as json.loads's, and falls back to it on any doubt.
    text = licence_data.library_file(*licence_data.EXPRESSION_INDEX_FILE).read_text()
    escaped = text.replace('"389-exception"', '"389\\u002dexception"', 1)
    assert licence_data.index_entries(text) == licence_data.index_entries(escaped)


def _library_bytes(spec: tuple[str, str]) -> bytes:
    return licence_data.library_file(*spec).read_bytes()


# (shipped file, library file it is built from, loader, builder from the library file)
TABLES = {
    "spdx ids": (
        "SHIPPED_IDS",
        licence_data.SPDX_IDS_FILE,
        licence_data.spdx_ids,
        lambda: licence_data.build_spdx_ids(_library_bytes(licence_data.SPDX_IDS_FILE)),
    ),
    "symbols": (
        "SHIPPED_SYMBOLS",
        licence_data.EXPRESSION_INDEX_FILE,
        licence_data.expression_symbols,
        lambda: licence_data.build_symbols(_library_bytes(licence_data.EXPRESSION_INDEX_FILE)),
    ),
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_shipped_tables_are_current(table: str) -> None:
    """The shipped copy is what the installed library's file gives (else regenerate it, see ``_licence_data``)."""
    shipped_attr, source, load, build = TABLES[table]
    shipped = json.loads(getattr(licence_data, shipped_attr).read_bytes())
    data = _library_bytes(source)
    assert shipped["source"] == [len(data), zlib.crc32(data)]
    built = build()
    assert len(built) > 1 and len(built[0] if isinstance(built, tuple) else built) > 700
    load.cache_clear()
    try:
        assert load() == built
        assert load() is load()  # loaded once
    finally:
        load.cache_clear()


@pytest.mark.parametrize("damage", ["stale", "corrupt", "missing"])
@pytest.mark.parametrize("table", sorted(TABLES))
def test_tables_are_built_from_the_libraries_when_the_shipped_copy_does_not_match(
    table: str, damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped_attr, _, load, build = TABLES[table]
    shipped = json.loads(getattr(licence_data, shipped_attr).read_bytes())
    fake = tmp_path / "table.json"
    if damage == "stale":  # an upgraded library: other bytes; the shipped table must not be used
        shipped["source"][1] ^= 1
        shipped["ids" if "ids" in shipped else "symbols"] = {"mit": False}
        fake.write_text(json.dumps(shipped))
    elif damage == "corrupt":
        fake.write_text('{"source": ')
    monkeypatch.setattr(licence_data, shipped_attr, fake)
    load.cache_clear()
    try:
        assert load() == build()
        assert emitter.is_spdx_expression("GPL-2.0-only WITH Classpath-exception-2.0 OR Apache-2.0")
        assert emitter._licence("apache-2.0") == {"license": {"id": "Apache-2.0"}}
    finally:
        load.cache_clear()


def test_sbom_of_spdx_ids_only_reads_no_symbol_table() -> None:
    code = (
        "from lockgate.findings.render import _licence_data as d, cyclonedx as c\n"
        "assert c._licences(['MIT', 'apache-2.0']) == [{'license': {'id': 'Apache-2.0'}}, {'license': {'id': 'MIT'}}]\n"
        "print(d.spdx_ids.cache_info().currsize, d.expression_symbols.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "0"]


def test_licence_words_are_the_librarys_tokens() -> None:
    rnd = random.Random(3)
    alphabet = ["a", "B", "-", "+", ".", "(", ")", " ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "\x85", "ü", ","]
    texts = ["", "()", " ( MIT)OR(GPL-2.0 )", "GPL 2.0+", *("".join(rnd.choices(alphabet, k=12)) for _ in range(5000))]
    for text in texts:
        assert licence_data.words(text) == _LIBRARY_WORD.findall(text), repr(text)


def _classification_cases() -> list[str]:
    symbols, _ = emitter.expression_symbols()
    names = sorted(symbols)
    licences = [n for n in names if not symbols[n]]
    exceptions = [n for n in names if symbols[n]]
    cases = set(names) | set(emitter.spdx_ids().values()) | {n.upper() for n in names[::7]}
    rnd = random.Random(20261129)
    junk = ["AND", "or", "With", "(", ")", "GPL", "2.0", "GPL 2.0", "public-domain", "/", "+", ",", "NOT", ""]
    for _ in range(4000):
        parts = [rnd.choice([rnd.choice(licences), rnd.choice(exceptions), rnd.choice(junk)]) for _ in range(6)]
        cases.add(" ".join(parts[: rnd.randint(1, 6)]).strip() or "x")

    def expression(depth: int = 0) -> str:
        r = rnd.random()
        if depth > 3 or r < 0.4:
            return rnd.choice(licences) + (f" WITH {rnd.choice(exceptions)}" if rnd.random() < 0.2 else "")
        if r < 0.55:
            return f"({expression(depth + 1)})"
        return expression(depth + 1) + rnd.choice([" AND ", " OR ", " and ", " or ", "\tAND\n"]) + expression(depth + 1)

    cases.update(expression() for _ in range(4000))
    return sorted(cases)


def test_licence_classification_matches_the_library() -> None:
    cases = _classification_cases()
    mismatches = [(t, emitter._licence(t)) for t in cases if emitter._licence(t) != library_licence(t)]
    assert mismatches == []
    kinds = [next(iter(emitter._licence(t))) + str(sorted(emitter._licence(t).get("license", {}))) for t in cases]
    assert min(kinds.count(k) for k in ("expression[]", "license['id']", "license['name']")) > 1000


def test_expression_grammar_matches_license_expression_exhaustively() -> None:
    """Every sequence of up to five tokens: operators in every place, WITH on both kinds of symbol,
    parentheses balanced or not (boolean.py accepts ``A AND B AND`` and ``((A) B)``, rejects ``A AND``)."""
    from cyclonedx.spdx import is_expression

    vocabulary = ["MIT", "GPL-2.0-only", "Classpath-exception-2.0", "AND", "OR", "WITH", "(", ")"]
    texts = [" ".join(t) for n in range(1, 6) for t in itertools.product(vocabulary, repeat=n)]
    mismatches = [t for t in texts if emitter.is_spdx_expression(t) != is_expression(t)]
    assert mismatches == []
    assert sum(map(emitter.is_spdx_expression, texts)) > 100  # not a trivially all-false grammar
    assert emitter.is_spdx_expression("MIT AND GPL-2.0-only AND")
    assert not emitter.is_spdx_expression("MIT AND")


def test_canonical_purl_shortcut_never_disagrees_with_packageurl() -> None:
    from packageurl import PackageURL

    rnd = random.Random(7)
    types = ["deb", "rpm", "apk", "npm", "pypi", "golang", "maven", "github", "pub", "hackage", "cpan", "oci", "Deb"]
    odd = [*"XYZ_+:@/%?#& ", "%2B", "%2b", "%20", "%40", "%3A", "%2F", "%41", "%E2%82%AC", "é"]

    def part(n: int) -> str:
        return "".join(rnd.choice(odd) if rnd.random() < 0.15 else rnd.choice("abcxyz019.-") for _ in range(n))

    taken = 0
    for _ in range(30000):
        text = f"pkg:{rnd.choice(types)}/" + "/".join(part(rnd.randint(0, 6)) for _ in range(rnd.randint(1, 3)))
        text += "@" + part(rnd.randint(0, 8))
        if rnd.random() < 0.6:
            keys = [rnd.choice(["arch", "distro", "epoch", "a", "Arch", "1x", "repository_url"]) for _ in range(3)]
            text += "?" + "&".join(f"{k}={part(4)}" for k in keys[: rnd.randint(1, 3)])
        if emitter._is_canonical_purl(text):
            taken += 1
            assert PackageURL.from_string(text).to_string() == text
    assert taken > 1000
    for purl in (
        DEB.purl,
        "pkg:pypi/python-dateutil@2.9.0.post0",
        "pkg:golang/github.com/x/y@v1.2.3",
        "pkg:npm/%40sindresorhus/is@4.6.0",
    ):
        assert emitter._is_canonical_purl(purl)
        assert PackageURL.from_string(purl).to_string() == purl


_SEG = r"(?:[A-Za-z0-9._~-]|%2B)+"
_VALUE = r"(?:[A-Za-z0-9._~:-]|%2B)+"
_PLAIN_PURL = re.compile(  # the regular expression the string check replaced
    rf"pkg:(?P<type>[a-z]+)/(?P<path>(?:%40)?{_SEG}(?:/{_SEG})*)@{_VALUE}"
    rf"(?:\?(?P<qualifiers>[a-z][a-z0-9._-]*={_VALUE}(?:&[a-z][a-z0-9._-]*={_VALUE})*))?"
)


def _regex_is_canonical_purl(text: str) -> bool:
    m = _PLAIN_PURL.fullmatch(text)
    if m is None or m["type"] not in emitter._PLAIN_TYPES:
        return False
    path, type_ = m["path"], m["type"]
    if path.startswith("%40"):  # npm scopes (@scope/name) are written %40scope/name; no other type's
        path = path[3:]
        if type_ != "npm" or "/" not in path or not re.fullmatch(rf"{_SEG}(?:/{_SEG})*", path):
            return False
    if type_ in emitter._LOWERED_TYPES and (path != path.lower() or "%" in path or (type_ == "pypi" and "_" in path)):
        return False
    if m["qualifiers"]:
        keys = [kv.partition("=")[0] for kv in m["qualifiers"].split("&")]
        return all(a < b for a, b in itertools.pairwise(keys))
    return True


def test_canonical_purl_check_is_the_regular_expression() -> None:
    rnd = random.Random(11)
    odd = ["%2B", "%2b", "%", "_", ":", "~", "#", " ", "é", "/", "@", "?", "&", "=", "A", ""]

    def part(n: int) -> str:
        return "".join(rnd.choice(odd) if rnd.random() < 0.1 else rnd.choice("abz019.-") for _ in range(n))

    texts = []
    for _ in range(30000):
        text = rnd.choice(["pkg:", "pkg:", "pkg:", "Pkg:", ""]) + rnd.choice(
            ["deb", "npm", "pypi", "PyPI", "golang", "x"]
        )
        text += (
            "/" + "/".join(part(rnd.randint(0, 5)) for _ in range(rnd.randint(1, 3))) + "@" + part(rnd.randint(0, 6))
        )
        if rnd.random() < 0.6:
            keys = rnd.choices(["arch", "distro", "epoch", "Key", "1k", "k.-_9", "", "a"], k=rnd.randint(1, 3))
            text += "?" + "&".join(f"{k}={part(3)}" for k in keys)
        texts.append(text)
    texts += [DEB.purl, "pkg:deb/debian/a@1?arch=x&arch=y", "pkg:deb/debian/a@1?", "pkg:deb//a@1", "pkg:deb/a@1@2"]
    texts += ["pkg:npm/%40s/x@1", "pkg:npm/%40S/x@1", "pkg:npm/%40/x@1", "pkg:npm/%40s@1", "pkg:deb/%40s/x@1"]
    agree = [emitter._is_canonical_purl(t) == _regex_is_canonical_purl(t) for t in texts]
    assert all(agree), [t for t, ok in zip(texts, agree, strict=True) if not ok][:5]
    assert 1000 < sum(map(emitter._is_canonical_purl, texts)) < len(texts) / 2


def test_cvss_prefix_is_stripped_as_the_librarys_expression() -> None:
    rnd = random.Random(5)
    pieces = ["CVSS:", "3", ".", "1", "0", "\u0663", "/", "AV:N", "x", ""]
    vectors = ["".join(rnd.choices(pieces, k=rnd.randint(0, 6))) for _ in range(5000)] + [V31, "CVSS:3.1", "CVSS:3."]
    for prefix, pattern in (
        ("CVSS:2.", r"^CVSS:2\.\d/?"),
        ("CVSS:3.", r"^CVSS:3\.\d/?"),
        ("CVSS:4.", r"^CVSS:4\.\d/?"),
    ):
        for vector in vectors:
            assert emitter._strip_cvss_prefix(vector, prefix) == re.sub(pattern, "", vector), vector


def test_rendering_imports_no_sbom_library() -> None:
    """Neither SBOM renderer imports cyclonedx-python-lib, its dependencies, or packageurl for normal purls."""
    code = (
        "import sys\n"
        "from lockgate.findings.render import renderer_for\n"
        "from tests.findings.sample import sample_report\n"
        "assert renderer_for('cyclonedx')(sample_report()) and renderer_for('spdx')(sample_report())\n"
        "heavy = ('cyclonedx', 'license_expression', 'sortedcontainers', 'py_serializable', 'boolean', 'packageurl')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
