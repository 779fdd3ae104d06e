"""Trivy as a second matching oracle on the same images, with a DB built from the same advisories.

The corpus's bullseye DSA/DLA lines and the PyPI/Go OSV records are converted into a Trivy
DB by ``mktrivydb`` (conversion rules in ``_trivydb.py``); ``trivy image --input OCI_DIR
--offline-scan --skip-db-update`` scans the very OCI layouts lockgate scans, and the
(package, id) sets must be equal. Differences that are Trivy's rules, not errors, are
stated where they are removed:

- Debian: none expected here. Trivy compares the *source* version for Debian, as lockgate
  does, and the rolled-back status carries no binNMU versions that could make them differ.
- PyPI: Trivy reports the distribution name as written in METADATA (``Jinja2``) and looks it
  up normalised; names are normalised (PEP 503) before comparing.
- Go: Trivy reports module versions with their ``v`` (and ``stdlib`` as ``v1.23.4``); only
  names and ids are compared.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.accuracy._oracle import debian_lines, iter_osv, lockgate_scan, vuln_pairs
from tests.accuracy._trivydb import debian_buckets, fixture, trivy_image, trivy_pairs, write_trivy_cache
from tests.fixtures.images import BuiltImage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trivy_cache(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    doc = fixture(
        debian_buckets(debian_lines(corpus, "bullseye")),
        iter_osv(corpus / "osv/pypi"),
        iter_osv(corpus / "osv/go"),
    )
    return write_trivy_cache(tmp_path_factory.mktemp("trivy-cache"), doc)


def _norm(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(re.sub(r"[-_.]+", "-", p).lower(), i) for p, i in pairs}


def test_debian_bullseye_equals_trivy(
    accuracy_db: Path, trivy_cache: Path, bullseye_history_image: tuple[BuiltImage, Path]
) -> None:
    image, _ = bullseye_history_image
    report = trivy_image(trivy_cache, image.oci_dir)
    theirs = trivy_pairs(report, "debian")
    rc, doc, err = lockgate_scan(image.oci_ref, accuracy_db)
    assert rc == 0, err
    ours = vuln_pairs(doc, "deb")
    assert len(theirs) > 30
    assert ours == theirs, (sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])
    # Trivy holds the highest bullseye fix per CVE; lockgate lists the fix of every matching advisory.
    fixes = {(f["package"]["name"], f["id"]): f["fixed_versions"] for f in doc["findings"]}
    for r in report["Results"]:
        for v in r.get("Vulnerabilities") or []:
            assert v["FixedVersion"] in fixes[(v["PkgName"], v["VulnerabilityID"])], v


def test_pypi_virtualenv_equals_trivy(
    accuracy_db: Path, trivy_cache: Path, pyvenv_image: tuple[BuiltImage, Path]
) -> None:
    image, _ = pyvenv_image
    theirs = _norm(trivy_pairs(trivy_image(trivy_cache, image.oci_dir), "python-pkg"))
    rc, doc, err = lockgate_scan(image.oci_ref, accuracy_db)
    assert rc == 0, err
    ours = _norm(vuln_pairs(doc, "PyPI"))
    assert len(theirs) > 15
    assert ours == theirs, (sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])


def test_go_binary_equals_trivy(accuracy_db: Path, trivy_cache: Path, syft_image: tuple[BuiltImage, Path]) -> None:
    image, _ = syft_image
    theirs = trivy_pairs(trivy_image(trivy_cache, image.oci_dir), "gobinary")
    rc, doc, err = lockgate_scan(image.oci_ref, accuracy_db)
    assert rc == 0, err
    ours = vuln_pairs(doc, "Go")
    assert len(theirs) > 20
    assert ours == theirs, (sorted(ours - theirs)[:10], sorted(theirs - ours)[:10])
