"""Every language fixture of ``corpus/pkgdb`` parses to the package list its upstream test asserts.

The oracle is ``<ecosystem>/expected.json`` (scalibr's and Trivy's own test tables). Names
and versions are compared as sets after the ecosystem's normalisation (PEP 503 names for
PyPI, Go versions without the leading ``v``). Where lockgate deliberately differs from the
upstream scanner, the case is listed in ``DIVERGENCES`` with the reason; those entries are
checked too (the divergence must still be exactly what is documented).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lockgate.fs.model import AnalysisResult
from lockgate.inventory.lang import extract
from lockgate.inventory.lang._common import pep503

ECOSYSTEMS = ("python", "npm", "go", "java", "ruby", "rust")

# fixture-path regex -> lockgate format id
FORMAT_OF = [
    (r"^python/.*/wheelegg/|^python/trivy/packaging/", "python-metadata"),
    (r"/requirements/", "requirements.txt"),
    (r"/poetrylock/", "poetry.lock"),
    (r"/pipfilelock/", "Pipfile.lock"),
    (r"/packagelockjson/", "package-lock.json"),
    (r"/yarnlock/", "yarn.lock"),
    (r"/pnpmlock/", "pnpm-lock.yaml"),
    (r"/packagejson/", "package.json"),
    (r"/gomod/", "go.mod"),
    (r"/gosum/", "go.sum"),
    (r"^go/trivy/binary/", "binary"),
    (r"^java/", "jar"),
    (r"/gemfilelock/", "Gemfile.lock"),
    (r"/gemspec/", "gemspec"),
    (r"/cargolock/", "Cargo.lock"),
    (r"/cargoauditable/", "binary"),
]

# (fixture, case) -> (missing from lockgate, extra in lockgate, reason). Every entry is asserted exactly.
DIVERGENCES: dict[tuple[str, str], tuple[set[tuple[str, str]], set[tuple[str, str]], str]] = {
    ("python/scalibr/requirements/example.txt", "pip_example"): (
        {("keyring", "4.1.1"), ("mopidy-dirble", "1.1"), ("pandas", "2.2.3")},
        set(),
        "only `==` pins are installed versions; `>=`/`~=` lower bounds are not, and `-r` files are not followed "
        "(noted as a gap)",
    ),
    ("python/scalibr/requirements/with_versions.txt", "with_version"): (
        {("newspaper3k", "0.2.2"), ("combination-also-valid", "3.5"), ("pkg", "1.2.3")},
        set(),
        "`>=`/`<=` bounds are not installed versions",
    ),
    ("python/scalibr/requirements/per_req_options.txt", "per_requirement_options"): (
        {("foo7", "1.0 unexpected_text_before_options_stays_around")},
        {("foo7", "1.0")},
        "pip itself reads the version token only; scalibr keeps trailing junk in the version",
    ),
    ("go/scalibr/gomod/replace-local.mod", "replacements_ local"): (
        {("./fork/net", "")},
        set(),
        "a module replaced by a local directory has no version to match; not a package",
    ),
    ("go/trivy/gosum/gomod_many.sum", "gomod_many.sum"): (
        {("gopkg.in/check.v1", "0.0.0-20161208181325-20d25e280405"), ("gopkg.in/yaml.v2", "2.2.2")},
        set(),
        "lines with only a `/go.mod` hash are modules whose go.mod was read during version selection but "
        "whose code was never downloaded (scalibr agrees: see indirect-1.16.mod)",
    ),
}

# Upstream errors that lockgate deliberately does not report as coverage gaps.
NO_GAP: dict[tuple[str, str], str] = {
    ("go/trivy/binary/dummy", "sad path"): "an executable-bit file that is not ELF/PE/Mach-O (a script, data) "
    "is simply not a binary: reporting a gap for every such file would drown real gaps",
}


# Formats whose groups are compared (scalibr asserts no groups for pnpm; lockgate keeps v5/v6 `dev: true`).
GROUPED_FORMATS = {"package-lock.json", "poetry.lock", "Pipfile.lock"}


def _groups(p: Any) -> frozenset[str]:
    return frozenset(g for g in dict(p.metadata).get("dep_groups", "").split(",") if g)


def _norm(eco: str, name: str, version: str) -> tuple[str, str]:
    if eco == "python":
        return pep503(name), version
    if eco == "go":
        return name, version.removeprefix("v")
    return name, version


def _cases() -> list[Any]:
    from tests.conftest import CORPUS

    out = []
    for eco in ECOSYSTEMS:
        doc = json.loads((CORPUS / "pkgdb" / eco / "expected.json").read_text())
        for fixture, spec in doc["fixtures"].items():
            for i, case in enumerate(spec["cases"]):
                out.append(pytest.param(eco, fixture, case, id=f"{eco}/{fixture}#{i}:{case['case']}"))
    return out


def _format_for(rel: str) -> str:
    for pattern, fmt in FORMAT_OF:
        if re.search(pattern, rel):
            return fmt
    raise AssertionError(f"no format mapping for {rel}")


def _input(root: Path, eco: str, fixture: str, case: dict[str, Any]) -> tuple[bytes, str]:
    """The bytes and file name the upstream test presented to its extractor."""
    path = root / eco / fixture
    opts = case.get("options", {})
    if "contentPath" in opts:
        # Upstream wraps a MANIFEST.MF into a jar and presents it under a given file name.
        manifest = (root / eco / "scalibr" / opts["contentPath"].removeprefix("testdata/")).read_bytes()
        name = re.search(r"under the file name testdata/(\S+)", case["input_note"])
        assert name
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("META-INF/MANIFEST.MF", manifest)
        return buf.getvalue(), name.group(1)
    return path.read_bytes(), path.name


def _run(root: Path, eco: str, fixture: str, case: dict[str, Any]) -> AnalysisResult:
    content, name = _input(root, eco, fixture, case)
    fmt = _format_for(f"{eco}/{fixture}")
    opts = case.get("options", {})
    if fmt == "jar":
        from lockgate.inventory.lang.java import JarLimits, parse_jar_bytes

        limits = JarLimits(identify_by_filename=opts.get("extractFilename") == "true")
        if opts.get("maxOpenedBytes"):
            limits = JarLimits(
                identify_by_filename=limits.identify_by_filename, max_total_bytes=int(opts["maxOpenedBytes"])
            )
        return parse_jar_bytes(content, name, limits=limits)
    result = extract(fmt, content, path=name)
    if fmt == "go.mod":
        # scalibr reads the sibling go.sum for go <= 1.16 modules; lockgate reports go.sum as its own file.
        sibling = (root / eco / fixture).with_suffix(".sum")
        if sibling.exists():
            extra = extract("go.sum", sibling.read_bytes(), path=sibling.name)
            result = AnalysisResult(packages=result.packages + extra.packages, gaps=result.gaps + extra.gaps)
    return result


@pytest.mark.parametrize(("eco", "fixture", "case"), _cases())
def test_corpus_fixture(corpus: Path, eco: str, fixture: str, case: dict[str, Any]) -> None:
    root = corpus / "pkgdb"
    result = _run(root, eco, fixture, case)
    got = {_norm(eco, p.name, p.version) for p in result.packages}
    want = {_norm(eco, p["name"], p.get("version", "")) for p in case.get("packages", [])}
    if eco == "python" and "requirements" in fixture:
        want = {w for w in want if w[1]}  # unpinned lines name no installed version: not packages
    if eco == "npm" and "/packagejson/" in fixture and want:
        # scalibr also invents "minimum versions" for declared dependency ranges; an installed
        # package.json describes one package, its dependencies are recorded as names.
        first = case["packages"][0]
        declared = {p["name"] for p in case["packages"][1:]}
        want = {(first["name"], first["version"])}
        assert declared <= set(result.packages[0].dependencies)
    missing, extra, _reason = DIVERGENCES.get((f"{eco}/{fixture}", case["case"]), (set(), set(), ""))
    assert got == (want - missing) | extra, f"got {sorted(got)}\nwant {sorted(want)}"
    if "expect_error" in case and (f"{eco}/{fixture}", case["case"]) not in NO_GAP:
        assert result.gaps, "upstream fails on this input: lockgate must report a coverage gap"
        assert all(g.where for g in result.gaps)
    for p in result.packages:
        assert p.path
        assert p.purl.startswith("pkg:"), p
    fmt = _format_for(f"{eco}/{fixture}")
    if fmt in GROUPED_FORMATS and case.get("packages") and "depGroups" in case["packages"][0]:
        # Dependency groups (dev/optional/bundled) as the upstream test asserts them.
        got_groups = {(*_norm(eco, p.name, p.version), _groups(p)) for p in result.packages}
        want_groups = {
            (*_norm(eco, p["name"], p.get("version", "")), frozenset(p["depGroups"])) for p in case["packages"]
        }
        assert got_groups == want_groups


def test_divergences_are_real_cases(corpus: Path) -> None:
    """Every documented divergence names an existing fixture and case."""
    ids = set()
    for eco in ECOSYSTEMS:
        doc = json.loads((corpus / "pkgdb" / eco / "expected.json").read_text())
        for fixture, spec in doc["fixtures"].items():
            ids |= {(f"{eco}/{fixture}", c["case"]) for c in spec["cases"]}
    assert set(DIVERGENCES) <= ids
    assert set(NO_GAP) <= ids
