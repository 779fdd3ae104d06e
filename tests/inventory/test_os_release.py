"""OS detection against Trivy's release-file test table, plus precedence between release files."""

from __future__ import annotations

from typing import Any

import pytest

from lockgate.inventory.model import OSInfo
from lockgate.inventory.os.release import OSReleaseAnalyzer, detect, select_os
from tests.conftest import CORPUS
from tests.inventory.conftest import load_expected, run_analyzer


def _cases() -> list[Any]:
    return [pytest.param(key, fx, id=key) for key, fx in load_expected(CORPUS, "os-release").items()]


@pytest.mark.parametrize(("key", "fx"), _cases())
def test_fixture_matches_trivy(key: str, fx: dict[str, Any]) -> None:
    content = (CORPUS / "pkgdb" / "os-release" / key).read_bytes()
    result = run_analyzer(OSReleaseAnalyzer(), fx["analyzed_as"], content)
    expected = fx["expected_os"]
    if expected is None:
        assert result.os is None
        return
    assert result.os is not None
    assert (result.os.family, result.os.version) == (expected["family"], expected["name"])
    assert result.os.source == fx["analyzed_as"]


def test_all_fixtures_also_detected_from_usr_lib() -> None:
    fixtures = load_expected(CORPUS, "os-release")
    for key, fx in fixtures.items():
        got = detect("usr/lib/os-release", (CORPUS / "pkgdb" / "os-release" / key).read_bytes())
        exp = fx["expected_os"]
        assert (got.family, got.version) == (exp["family"], exp["name"]) if exp else got is None, key


DEBIAN_OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
UBUNTU_OS_RELEASE = b"""NAME="Ubuntu"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
ID=ubuntu
ID_LIKE=debian
VERSION_ID="22.04"
VERSION_CODENAME=jammy
"""


def test_debian_point_release_refines_os_release() -> None:
    chosen = select_os([detect("etc/debian_version", b"12.5\n"), detect("etc/os-release", DEBIAN_OS_RELEASE)])
    assert chosen is not None
    assert (chosen.family, chosen.version, chosen.codename) == ("debian", "12.5", "bookworm")


def test_ubuntu_os_release_beats_debian_version() -> None:
    chosen = select_os([detect("etc/debian_version", b"bookworm/sid\n"), detect("etc/os-release", UBUNTU_OS_RELEASE)])
    assert chosen is not None
    assert (chosen.family, chosen.version, chosen.codename) == ("ubuntu", "22.04", "jammy")


def test_release_files_without_os_release() -> None:
    assert select_os([detect("etc/alpine-release", b"3.20.1\n")]) == OSInfo(
        "alpine", "3.20.1", name="Alpine Linux v3.20.1", source="etc/alpine-release"
    )
    rocky = detect("etc/rocky-release", b"Rocky Linux release 9.3 (Blue Onyx)\n")
    generic = detect("etc/redhat-release", b"Rocky Linux release 9.3 (Blue Onyx)\n")
    rhel = detect("etc/redhat-release", b"Red Hat Enterprise Linux release 8.9 (Ootpa)\n")
    centos = detect("etc/centos-release", b"CentOS Linux release 7.9.2009 (Core)\n")
    amazon = detect("etc/system-release", b"Amazon Linux release 2023.4.20240319 (Amazon Linux)\n")
    assert rocky and rocky.family == "rocky" and rocky.version == "9.3"
    assert generic and generic.family == "rocky"
    assert rhel and (rhel.family, rhel.version) == ("redhat", "8.9")
    assert centos and (centos.family, centos.version) == ("centos", "7.9.2009")
    assert amazon and (amazon.family, amazon.version) == ("amazon", "2023")
    ami = detect("etc/system-release", b"Amazon Linux AMI release 2018.03\n")
    assert ami and (ami.family, ami.version) == ("amazon", "2018.03")
    # Oracle Linux also ships redhat-release; the specific file wins
    ol = detect("etc/oracle-release", b"Oracle Linux Server release 8.10\n")
    assert select_os([detect("etc/redhat-release", b"Red Hat Enterprise Linux release 8.10\n"), ol]) == ol
    assert select_os([debian := detect("etc/debian_version", b"12.5\n")]) == debian
    assert debian is not None and (debian.version, debian.codename) == ("12.5", "bookworm")
    assert select_os([]) is None


def test_garbage_release_files_are_ignored() -> None:
    analyzer = OSReleaseAnalyzer()
    for path in ("etc/os-release", "etc/redhat-release", "etc/alpine-release", "etc/debian_version"):
        result = run_analyzer(analyzer, path, bytes(range(256)) * 4)
        assert result.os is None
        result = run_analyzer(analyzer, path, b"")
        assert result.os is None
    assert not analyzer.required(__import__("lockgate.fs.model", fromlist=["FileEntry"]).FileEntry("etc/passwd"))


def test_debian_testing_and_ambiguous_debian_version() -> None:
    sid = detect("etc/os-release", b'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\nVERSION_CODENAME=trixie\n')
    assert sid is not None and (sid.family, sid.version) == ("debian", "trixie/sid")
    # "bookworm/sid" is shipped by Ubuntu and Debian testing alike: it decides nothing
    assert detect("etc/debian_version", b"bookworm/sid\n") is None
    assert detect("etc/os-release", b"ID=ubuntu\n") is None  # no release: not detected (as Trivy)
