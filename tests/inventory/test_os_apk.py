"""apk extractor against the corpus oracle (scalibr and Trivy test tables)."""

from __future__ import annotations

from typing import Any

import pytest

from lockgate.inventory.os.apk import ApkAnalyzer
from tests.conftest import CORPUS
from tests.inventory.conftest import load_expected, run_analyzer

PATH = "lib/apk/db/installed"


def _cases() -> list[Any]:
    return [
        pytest.param(key, case, id=f"{key}:{case['case']}")
        for key, fx in load_expected(CORPUS, "apk").items()
        for case in fx["cases"]
    ]


@pytest.mark.parametrize(("key", "case"), _cases())
def test_fixture_matches_oracle(key: str, case: dict[str, Any]) -> None:
    content = (CORPUS / "pkgdb" / "apk" / key).read_bytes()
    result = run_analyzer(ApkAnalyzer(), PATH, content)
    if case.get("expect_error"):
        assert not result.packages
        assert result.gaps and result.gaps[0].where == PATH
        return
    assert not result.gaps
    got = sorted((p.name, p.version) for p in result.packages)
    assert got == sorted((p["name"], p["version"]) for p in case["packages"])
    by_name = {p.name: p for p in result.packages}
    for exp in case["packages"]:
        pkg = by_name[exp["name"]]
        if "origin" in exp:
            assert pkg.source_name == (exp["origin"] or exp["name"])
        if "srcname" in exp:
            assert pkg.source_name == exp["srcname"]
            assert pkg.source_version == exp["srcversion"]
        if "arch" in exp:
            assert pkg.arch == exp["arch"]
        if "license" in exp:  # scalibr reports the field as written
            assert " ".join(pkg.licenses) == exp["license"]
        if "licenses" in exp:
            assert list(pkg.licenses) == exp["licenses"]
        assert pkg.ecosystem == "apk"


def test_dependencies_and_partial_garbage() -> None:
    db = (
        b"P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\n"
        b"P:busybox\nV:1.36.1-r29\nD:so:libc.musl-x86_64.so.1 musl>=1.2 !busybox-extras\nnot a field\n\n"
    )
    result = run_analyzer(ApkAnalyzer(), PATH, db)
    assert [p.name for p in result.packages] == ["musl", "busybox"]
    assert result.packages[1].dependencies == ("so:libc.musl-x86_64.so.1", "musl")
    assert len(result.gaps) == 1 and "line 10" in result.gaps[0].reason


def test_binary_content_is_a_gap() -> None:
    result = run_analyzer(ApkAnalyzer(), PATH, b"\x00\x01P:x\nV:1\n")
    assert not result.packages and result.gaps
