"""A real debootstrapped Debian bullseye image scanned against the corpus DSA/DLA lists.

Expected findings come from the raw list files (read line by line in ``_oracle.py``), the
installed packages as ``dpkg-query --admindir`` reports them (source package and source
version resolved by dpkg itself) and ``dpkg --compare-versions``; they must equal
lockgate's set of (binary package, vulnerability id) from ``lockgate scan image -f json``.

Two images: the image as debootstrap made it (bullseye 11.11, which carries every fix of the
2023 lists, so no findings are the right answer), and the same image with a second layer
whose dpkg status puts the packages back at their bullseye 11.0 versions (see
``_images.ensure_bullseye_history_image``; epochs and binNMU suffixes that only the binary
versions carry are kept, so the source-version rule is exercised), which gives dozens of
findings (openssl, zlib, util-linux, gnutls, dpkg, ...).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.accuracy._oracle import debian_expected, debian_lines, dpkg_lt, dpkg_query, lockgate_scan, vuln_pairs
from tests.fixtures.images import BuiltImage

pytestmark = pytest.mark.slow


def _inventory(report: dict) -> set[tuple[str, str, str, str]]:  # type: ignore[type-arg]
    return {
        (p["name"], p["version"], p.get("source_name") or p["name"], p.get("source_version") or p["version"])
        for p in report["packages"]
        if p["ecosystem"] == "deb"
    }


def test_bullseye_as_debootstrapped(
    corpus: Path, accuracy_db: Path, bullseye_image_admindir: tuple[BuiltImage, Path]
) -> None:
    image, admindir = bullseye_image_admindir
    rc, doc, err = lockgate_scan(image.oci_ref, accuracy_db)
    assert rc == 0, err
    assert doc["os"]["family"] == "debian" and doc["os"]["version"].startswith("11")
    entries = dpkg_query(admindir)
    assert len(entries) > 80
    assert _inventory(doc) == {(e.package, e.version, e.source, e.source_version) for e in entries}
    expected = debian_expected(entries, debian_lines(corpus, "bullseye"))
    assert vuln_pairs(doc, "deb") == expected
    assert doc["gaps"] == []


def test_bullseye_at_release_versions(
    corpus: Path, accuracy_db: Path, bullseye_history_image: tuple[BuiltImage, Path]
) -> None:
    image, admindir = bullseye_history_image
    rc, doc, err = lockgate_scan(image.oci_ref, accuracy_db)
    assert rc == 0, err
    entries = dpkg_query(admindir)
    # The top layer's status wins over the base layer's: the inventory is the rolled-back one.
    assert _inventory(doc) == {(e.package, e.version, e.source, e.source_version) for e in entries}
    lines = debian_lines(corpus, "bullseye")
    expected = debian_expected(entries, lines)
    got = vuln_pairs(doc, "deb")
    assert len(expected) > 30, "the rolled-back image should be affected by many bullseye advisories"
    assert got == expected, (sorted(got - expected)[:10], sorted(expected - got)[:10])
    # The source version decides: bsdutils is 1:2.36.1-8 (an epoch util-linux 2.36.1-8 does not have), so
    # only the source version is below util-linux's bullseye fix 2.36.1-8+deb11u1.
    assert ("bsdutils", "CVE-2021-3995") in expected
    # Every finding of a source fans out to all its binaries (libssl1.1 carries openssl's CVEs).
    assert {i for p, i in got if p == "libssl1.1"} == {i for p, i in expected if p == "libssl1.1"} != set()
    # Fixed versions: the fix of every advisory line that makes the package affected by that id.
    lt = dpkg_lt((e.source_version, ln.fixed) for e in entries for ln in lines.get(e.source, ()))
    want_fixed: dict[tuple[str, str], set[str]] = {}
    for e in entries:
        for ln in lines.get(e.source, ()):
            if not ln.fixed.startswith("<") and lt[(e.source_version, ln.fixed)]:
                for i in ln.ids:
                    want_fixed.setdefault((e.package, i), set()).add(ln.fixed)
    got_fixed = {(f["package"]["name"], f["id"]): set(f["fixed_versions"]) for f in doc["findings"]}
    assert got_fixed == want_fixed
