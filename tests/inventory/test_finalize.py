"""``finalize`` against the plain algorithm it implements (one ``replace`` per OS package now).

The reference below is the previous implementation: attach dpkg licence records, drop exact
duplicates (OS packages once per system, language packages once per path), fill OS purls.
"""

from __future__ import annotations

import random

import pytest
from msgspec.structs import replace

from lockgate.inventory.finalize import OS_ECOSYSTEMS, finalize, purl_for
from lockgate.inventory.model import OSInfo, Package
from lockgate.inventory.os import RECORD_KEY


def _reference(packages: list[Package], os: OSInfo | None) -> tuple[Package, ...]:
    deb_licenses: dict[str, tuple[str, ...]] = {}
    for pkg in packages:
        if pkg.ecosystem == "deb" and RECORD_KEY in pkg.metadata:
            deb_licenses.setdefault(pkg.name, pkg.licenses)
    seen: set[tuple[str, ...]] = set()
    out: list[Package] = []
    for pkg in packages:
        if pkg.ecosystem == "deb":
            if RECORD_KEY in pkg.metadata:
                continue
            if not pkg.licenses and pkg.name in deb_licenses:
                pkg = replace(pkg, licenses=deb_licenses[pkg.name])
        ident = (pkg.ecosystem, pkg.name, pkg.version, pkg.arch, "" if pkg.ecosystem in OS_ECOSYSTEMS else pkg.path)
        if ident in seen:
            continue
        seen.add(ident)
        out.append(replace(pkg, purl=purl_for(pkg, os)) if pkg.ecosystem in OS_ECOSYSTEMS else pkg)
    return tuple(out)


def _packages(rnd: random.Random) -> list[Package]:
    out = []
    for _ in range(rnd.randint(0, 40)):
        ecosystem = rnd.choice(["deb", "deb", "apk", "rpm", "opkg", "PyPI", "npm"])
        record = ecosystem == "deb" and rnd.random() < 0.3
        out.append(
            Package(
                ecosystem,
                rnd.choice(["libc6", "libstdc++6", "zlib", "Foo_Bar", "a+b"]),
                rnd.choice(["1.0", "1:2.36-9+deb12u4", "3.0.7-27.el9", ""]),
                purl=rnd.choice(["", "pkg:deb/debian/zlib@1.0", "pkg:pypi/foo-bar@1.0"]),
                licenses=rnd.choice([(), ("GPL-2+",), ("MIT", "BSD-3-clause"), ()]),
                path=rnd.choice(["var/lib/dpkg/status", "usr/lib/sysimage/rpm", "app/requirements.txt", "srv/x"]),
                arch=rnd.choice(["", "amd64", "x86_64"]),
                metadata=(RECORD_KEY,) if record else rnd.choice([(), (("go_version", "go1.22"),)]),
            )
        )
    return out


@pytest.mark.parametrize(
    "os",
    [None, OSInfo("debian", "12.5"), OSInfo("ubuntu", "22.04"), OSInfo("alpine", "3.20.1"), OSInfo("sles", "15.3")],
)
def test_finalize_is_the_reference_algorithm(os: OSInfo | None) -> None:
    rnd = random.Random(str(os))
    for _ in range(300):
        packages = _packages(rnd)
        got = finalize(packages, os)
        assert got == _reference(packages, os)
        assert [p.purl for p in got] == [p.purl for p in _reference(packages, os)]
    merged = finalize(
        [Package("deb", "zlib", "1"), Package("deb", "zlib", "", licenses=("Zlib",), metadata=(RECORD_KEY,))], os
    )
    assert [p.licenses for p in merged] == [("Zlib",)]
