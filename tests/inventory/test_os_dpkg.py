"""dpkg/opkg extractor against the corpus oracle (scalibr and Trivy test tables) and the host's dpkg."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from lockgate.fs.model import FileEntry
from lockgate.inventory.os.dpkg import DpkgAnalyzer, OpkgAnalyzer, parse_status
from tests.conftest import CORPUS
from tests.inventory.conftest import load_expected, run_analyzer


def _evr(d: dict[str, Any], prefix: str = "") -> str:
    """Trivy splits versions into epoch/version/release; join them back as dpkg writes them."""
    v = d[prefix + "version"]
    if d.get(prefix + "release"):
        v = f"{v}-{d[prefix + 'release']}"
    if d.get(prefix + "epoch"):
        v = f"{d[prefix + 'epoch']}:{v}"
    return v


def _cases() -> list[Any]:
    out = []
    for key, fx in load_expected(CORPUS, "dpkg").items():
        for case in fx["cases"]:
            out.append(pytest.param(key, case, id=f"{key}:{case['case']}"))
    return out


def _target(key: str) -> tuple[Any, str, Path]:
    """(analyser, path inside the image, file on disk) for one fixture key."""
    base = CORPUS / "pkgdb" / "dpkg"
    if key.startswith("trivy/"):
        return DpkgAnalyzer(), "var/lib/dpkg/status", base / key / "var/lib/dpkg/status"
    if key.startswith("scalibr/opkg/"):
        return OpkgAnalyzer(), "usr/lib/opkg/status", base / key
    if "/status.d/" in key:
        return DpkgAnalyzer(), "var/lib/dpkg/status.d/" + key.rsplit("/", 1)[1], base / key
    return DpkgAnalyzer(), "var/lib/dpkg/status", base / key


@pytest.mark.parametrize(("key", "case"), _cases())
def test_fixture_matches_oracle(key: str, case: dict[str, Any]) -> None:
    analyzer, path, file = _target(key)
    content = file.read_bytes()
    entry = FileEntry(path=path, size=len(content))
    if not analyzer.required(entry):
        # e.g. status.d/*.md5sums: the oracle expects no packages from it
        assert case.get("packages", []) == []
        assert path.endswith(".md5sums")
        return
    result = run_analyzer(analyzer, path, content)
    if case.get("expect_error"):
        assert result.gaps, "malformed input must produce a coverage gap"
        assert result.gaps[0].where == path
        assert not result.packages
        return
    got = sorted((p.name, p.version) for p in result.packages)
    expected = sorted((p["name"], _evr(p)) for p in case["packages"])
    if "including not installed" in case["case"]:
        # Opt-in upstream variant; lockgate reports installed packages only, a strict subset.
        assert set(got) < set(expected)
        return
    assert got == expected
    by_name = {p.name: p for p in result.packages}
    for p in case["packages"]:
        if "srcname" in p:
            assert by_name[p["name"]].source_name == p["srcname"]
            assert by_name[p["name"]].source_version == _evr(p, "src")
        if "arch" in p:
            assert by_name[p["name"]].arch == p["arch"]
    assert all(p.ecosystem == ("opkg" if "opkg" in key else "deb") for p in result.packages)
    assert all(p.path == path for p in result.packages)


def test_corrupt_status_keeps_good_stanzas() -> None:
    good = b"Package: a\nStatus: install ok installed\nVersion: 1.0\nSource: asrc (0.9)\n\n"
    bad = b"Package b\nthis line is garbage\n\n"
    result = run_analyzer(DpkgAnalyzer(), "var/lib/dpkg/status", good + bad + good.replace(b"a\n", b"c\n", 1))
    assert sorted(p.name for p in result.packages) == ["a", "c"]
    assert result.packages[0].source_name == "asrc"
    assert result.packages[0].source_version == "0.9"
    assert len(result.gaps) == 1
    assert "line 6" in result.gaps[0].reason


def test_half_installed_and_not_installed_are_excluded() -> None:
    text = "".join(
        f"Package: p{i}\nStatus: install ok {state}\nVersion: 1\n\n"
        for i, state in enumerate(["installed", "half-installed", "unpacked", "config-files", "triggers-pending"])
    )
    result = run_analyzer(DpkgAnalyzer(), "var/lib/dpkg/status", text.encode())
    assert sorted(p.name for p in result.packages) == ["p0", "p4"]


def test_binary_content_is_a_gap() -> None:
    result = run_analyzer(DpkgAnalyzer(), "var/lib/dpkg/status", bytes(range(256)) * 8)
    assert not result.packages
    assert result.gaps and "binary" in result.gaps[0].reason


def test_distroless_status_d_without_status_counts_as_installed() -> None:
    content = (CORPUS / "pkgdb/dpkg/scalibr/dpkg/status.d/foo").read_bytes()
    result = run_analyzer(DpkgAnalyzer(), "var/lib/dpkg/status.d/foo", content)
    assert [p.name for p in result.packages] == ["foo"]
    # the same stanza in the main status file has no Status: dpkg would not list it
    assert not run_analyzer(DpkgAnalyzer(), "var/lib/dpkg/status", content).packages


def test_host_dpkg_status_matches_dpkg_query() -> None:
    """Independent oracle: dpkg's own reading of the host database."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status} ${Package} ${Version} ${source:Package} ${source:Version}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    expected = set()
    expected_src = {}
    for line in out.splitlines():
        status, name, version, src, srcver = line.split(" ")
        if status in ("installed", "triggers-pending", "triggers-awaited"):
            expected.add((name, version))
            expected_src[name, version] = (src, srcver)
    assert len(expected) > 50
    content = Path("/var/lib/dpkg/status").read_bytes()
    pkgs, gaps = parse_status(content, "var/lib/dpkg/status")
    assert not gaps
    got = {(p.name, p.version) for p in pkgs}
    # dpkg-query collapses multi-arch duplicates (same name, same version) into one line each arch;
    # compare as sets of (name, version).
    assert got == expected
    for p in pkgs:
        assert (p.source_name, p.source_version) == expected_src[p.name, p.version]
