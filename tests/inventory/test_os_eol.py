"""End-of-life table and finalize(): dates are an input, purls follow the detected OS."""

from __future__ import annotations

import datetime as dt

import pytest

from lockgate.inventory.finalize import finalize, finalize_os, purl_for
from lockgate.inventory.model import OSInfo, Package
from lockgate.inventory.os import eol
from lockgate.inventory.purl import parse_purl


def test_eol_boundary_is_inclusive() -> None:
    os = OSInfo("debian", "10.13", source="etc/debian_version")
    on_day = finalize_os(os, dt.date(2024, 6, 30))
    after = finalize_os(os, dt.date(2024, 7, 1))
    assert on_day is not None and after is not None
    assert on_day.eol == "2024-06-30" and not on_day.eosl
    assert after.eol == "2024-06-30" and after.eosl


@pytest.mark.parametrize(
    ("family", "version", "key"),
    [
        ("debian", "12.5", "12"),
        ("ubuntu", "22.04", "22.04"),
        ("alpine", "3.20.1", "3.20"),
        ("redhat", "9.4", "9"),
        ("rocky", "8.10", "8"),
        ("amazon", "2023", "2023"),
        ("amazon", "2", "2"),
        ("amazon", "2018.03", "1"),
        ("opensuse-leap", "15.5", "15.5"),
        ("sles", "15.3", "15.3"),
        ("photon", "4.0", "4.0"),
        ("cbl-mariner", "2.0", "2.0"),
        ("fedora", "40", "40"),
    ],
)
def test_release_keys_found(family: str, version: str, key: str) -> None:
    status = eol.eol_for(OSInfo(family, version), dt.date(2000, 1, 1))
    assert status is not None and status.release == key
    assert status.eol is not None and not status.expired


def test_ubuntu_lts_has_esm_and_interim_does_not() -> None:
    lts = eol.eol_for(OSInfo("ubuntu", "18.04"), dt.date(2024, 1, 1))
    interim = eol.eol_for(OSInfo("ubuntu", "23.04"), dt.date(2024, 1, 1))
    assert lts is not None and lts.expired and lts.extended is not None and lts.extended > dt.date(2024, 1, 1)
    assert interim is not None and not interim.expired and interim.extended is None


def test_rolling_and_unknown() -> None:
    wolfi = eol.eol_for(OSInfo("wolfi", "20230201"), dt.date(2100, 1, 1))
    assert wolfi is not None and wolfi.eol is None and not wolfi.expired
    assert eol.eol_for(OSInfo("debian", "99"), dt.date(2024, 1, 1)) is None
    assert eol.eol_for(OSInfo("activestate", "1.0"), dt.date(2024, 1, 1)) is None
    unknown = finalize_os(OSInfo("debian", "99"), dt.date(2024, 1, 1))
    assert unknown is not None and unknown.eol is None and not unknown.eosl


@pytest.mark.parametrize("family", ["debian", "alpine", "redhat", "rocky", "alma", "fedora", "opensuse-leap", "photon"])
def test_table_is_ordered_by_release(family: str) -> None:
    """Sanity of the hand-kept table: a later release never reaches EOL before an earlier one."""
    table = eol._TABLES[family]
    keys = sorted(table, key=lambda k: [int(x) for x in k.split(".")])
    if family == "opensuse-leap":
        keys.remove("42.3")  # 42.3 predates 15.0 (the numbering restarted)
    dates = [dt.date.fromisoformat(table[k]) for k in keys]
    assert dates == sorted(dates)


def test_finalize_os_picks_candidate_and_default_today() -> None:
    chosen = finalize_os(
        [
            OSInfo("debian", "12.5", source="etc/debian_version"),
            OSInfo("debian", "12", "bookworm", source="etc/os-release"),
        ]
    )
    assert chosen is not None and chosen.version == "12.5" and chosen.codename == "bookworm"
    assert chosen.eol == "2028-06-30"
    assert chosen.eosl == (dt.date.today() > dt.date(2028, 6, 30))
    assert finalize_os(None) is None and finalize_os([]) is None


def test_finalize_purls_and_duplicates() -> None:
    deb = Package("deb", "libgcc1", "1:5.1.1-12ubuntu1", arch="amd64", path="var/lib/dpkg/status")
    rpm = Package("rpm", "libstdc++", "11.2.0-1.cm2", arch="x86_64", path="var/lib/rpm/rpmdb.sqlite")
    lang = Package("PyPI", "requests", "2.32.0", purl="pkg:pypi/requests@2.32.0")
    rpm_again = Package("rpm", "libstdc++", "11.2.0-1.cm2", arch="x86_64", path="usr/lib/sysimage/rpm/rpmdb.sqlite")
    lang_elsewhere = Package("PyPI", "requests", "2.32.0", path="other/venv")
    out = finalize([deb, deb, lang, rpm, rpm_again], OSInfo("ubuntu", "22.04"))
    assert len(finalize([lang, lang_elsewhere], None)) == 2
    assert [p.name for p in out] == ["libgcc1", "requests", "libstdc++"]
    p = parse_purl(out[0].purl)
    assert (p.type, p.namespace, p.name, p.version) == ("deb", "ubuntu", "libgcc1", "5.1.1-12ubuntu1")
    assert p.qualifiers == {"arch": "amd64", "distro": "ubuntu-22.04", "epoch": "1"}
    assert out[1].purl == "pkg:pypi/requests@2.32.0"
    # rpm packages on an Ubuntu OS: namespace is the family, as Trivy does
    assert parse_purl(out[2].purl).name == "libstdc++"
    # no OS known: default namespaces, no distro qualifier
    assert purl_for(deb, None).startswith("pkg:deb/debian/libgcc1@5.1.1-12ubuntu1?")
    assert "distro" not in parse_purl(purl_for(deb, None)).qualifiers
    apk = Package("apk", "musl", "1.2.5-r0", arch="x86_64")
    assert "distro" not in parse_purl(purl_for(apk, OSInfo("debian", "12"))).qualifiers
    assert parse_purl(purl_for(apk, OSInfo("alpine", "3.20.1"))).qualifiers["distro"] == "3.20.1"


def test_eol_warning_text() -> None:
    old = finalize_os(OSInfo("alpine", "3.15.4"), dt.date(2024, 1, 1))
    new = finalize_os(OSInfo("alpine", "3.22.1"), dt.date(2024, 1, 1))
    warning = eol.eol_warning(old)
    assert warning is not None and "alpine 3.15.4" in warning and "2023-11-01" in warning
    assert eol.eol_warning(new) is None and eol.eol_warning(None) is None
