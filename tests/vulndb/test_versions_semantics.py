"""Hand-written semantics of each comparator, the ecosystem registry, and total-order properties."""

from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.errors import InputError
from lockgate.vulndb.versions import UnknownEcosystemError, comparator_for, supported


def ascending(ecosystem: str, *versions: str) -> None:
    """Each version sorts strictly before the next one."""
    c = comparator_for(ecosystem)
    for a, b in itertools.pairwise(versions):
        assert c.compare(a, b) == -1, f"{ecosystem}: expected {a} < {b}"
        assert c.compare(b, a) == 1, f"{ecosystem}: expected {b} > {a}"


def equal(ecosystem: str, *versions: str) -> None:
    c = comparator_for(ecosystem)
    for a in versions:
        for b in versions:
            assert c.compare(a, b) == 0, f"{ecosystem}: expected {a} == {b}"


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("Debian:12", "dpkg"),
        ("Ubuntu:22.04:LTS", "dpkg"),
        ("Ubuntu:Pro:18.04:LTS", "dpkg"),
        ("deb", "dpkg"),
        ("Alpine:v3.20", "apk"),
        ("Wolfi", "apk"),
        ("apk", "apk"),
        ("Rocky Linux:9", "rpm"),
        ("AlmaLinux:8", "rpm"),
        ("Red Hat:enterprise_linux:9::appstream", "rpm"),
        ("SUSE:Linux Enterprise Server 15 SP5", "rpm"),
        ("openSUSE:Leap 15.5", "rpm"),
        ("Mageia:9", "rpm"),
        ("rpm", "rpm"),
        ("PyPI", "pep440"),
        ("pypi", "pep440"),
        ("npm", "semver"),
        ("crates.io", "semver"),
        ("cargo", "semver"),
        ("Hex", "semver"),
        ("Pub", "pub"),
        ("Go", "go"),
        ("golang", "go"),
        ("Maven", "maven"),
        ("RubyGems", "rubygems"),
        ("gem", "rubygems"),
        ("NuGet", "nuget"),
        ("Packagist", "composer"),
        ("composer", "composer"),
        ("CRAN", "cran"),
        ("Hackage", "hackage"),
    ],
)
def test_registry(ecosystem: str, scheme: str) -> None:
    assert supported(ecosystem)
    assert comparator_for(ecosystem).name == scheme
    assert comparator_for(ecosystem) is comparator_for(ecosystem)  # one shared instance (shared caches)


@pytest.mark.parametrize("ecosystem", ["GIT", "Linux", "OSS-Fuzz", "", "Debain:12", "PyPi2"])
def test_unknown_ecosystem_is_a_clear_input_error(ecosystem: str) -> None:
    assert not supported(ecosystem)
    with pytest.raises(UnknownEcosystemError) as err:
        comparator_for(ecosystem)
    assert isinstance(err.value, InputError)
    assert repr(ecosystem) in str(err.value) and "\n" not in str(err.value)


def test_dpkg() -> None:
    ascending("Debian", "1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+", "1.0.1", "1.1", "1:0.1")
    ascending("Debian", "2.36-9", "2.36-9+deb12u1", "2.36-9+deb12u10", "2.36-10")
    ascending("Debian", "1.2.3-1~bpo11+1", "1.2.3-1", "1.2.3-1ubuntu0.1")
    equal("Debian", "1.0", "0:1.0", "1.0-0", "1.00", "01.0")
    assert comparator_for("Debian").valid("1:2.30-1ubuntu0.2")
    assert not comparator_for("Debian").valid("1:")


def test_apk() -> None:
    ascending(
        "Alpine",
        "1.2_alpha",
        "1.2_alpha1",
        "1.2_beta",
        "1.2_pre1",
        "1.2_rc1",
        "1.2",
        "1.2_cvs1",
        "1.2_svn1",
        "1.2_git1",
        "1.2_hg1",
        "1.2_p1",
        "1.2a",
        "1.2.0",
        "1.2.1-r0",
        "1.2.1-r1",
        "1.2.1-r10",
    )
    ascending("Alpine", "1.01", "1.1", "1.2")  # leading zero: string comparison
    ascending("Alpine", "6.0.2p1-r0", "6.0.2p1-r1")  # invalid in apk 3, still ordered (old openssh)
    # typos that really occur in Alpine's secdb still land where they were meant to
    equal("Alpine", "1.18.-r2", "1.18-r2")
    equal("Alpine", "0.12.5.-r0", "0.12.5-r0")
    ascending("Alpine", "10.2.22-r0", "10.2.22.r0", "10.2.24.r0", "10.2.26.r0", "10.2.27-r0")
    assert comparator_for("Alpine").valid("1.2.3_p1-r0")
    assert not comparator_for("Alpine").valid("1.2.3-foo")


def test_rpm() -> None:
    ascending("Red Hat", "1.0~rc1", "1.0", "1.0^git1", "1.0.1")
    ascending("Red Hat", "1.0-1.el8", "1.0-1.el9", "1.0-2.el8", "1:0.9-1")
    ascending("Red Hat", "1.0a", "1.0.1")  # numbers beat letters
    equal("Red Hat", "1.0-1", "0:1.0-1", "1.0-01", "1_0-1")
    ascending("Red Hat", "1.0", "1.0-", "1.0-0")  # missing release < any release


def test_pep440() -> None:
    ascending(
        "PyPI",
        "1.0.dev0",
        "1.0a1",
        "1.0a2.dev1",
        "1.0a2",
        "1.0b1",
        "1.0rc1",
        "1.0",
        "1.0+local",
        "1.0.post1",
        "1.1",
        "1!0.1",
    )
    equal("PyPI", "1.0", "1.0.0", "1.0.0.0", "v1.0")
    equal("PyPI", "1.0a1", "1.0.alpha.1", "1.0-a1")
    ascending("PyPI", "0.1-bulbasaur", "0.0.1")  # invalid versions sort before every valid one
    assert not comparator_for("PyPI").valid("0.1-bulbasaur")


def test_semver_npm() -> None:
    # semver.org item 11
    ascending(
        "npm",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    )
    equal("npm", "1.2.3", "v1.2.3", "=1.2.3", " 1.2.3 ", "1.2.3+build.5", "v1.2.3+other")
    assert comparator_for("npm").valid("v1.2.3-rc.1+b")
    assert not comparator_for("npm").valid("1.2")
    assert not comparator_for("npm").valid("=1.2.3")  # loose only
    equal("crates.io", "1.0.0+a", "1.0.0+b")


def test_pub_orders_build_metadata() -> None:
    ascending("Pub", "1.0.0-pre", "1.0.0-pre+build", "1.0.0", "1.0.0+1", "1.0.0+2", "1.0.0+a")


def test_go() -> None:
    ascending(
        "Go",
        "v0.0.0-20191109021931-daa7c04131f5",
        "v0.0.0-20200101000000-aaaaaaaaaaaa",
        "v0.1.0",
        "v1.2.3",
        "v1.2.4-0.20191109021931-daa7c04131f5",
        "v1.2.4-pre",
        "v1.2.4",
    )
    equal("Go", "v2.0.0+incompatible", "2.0.0", "v2.0.0")
    equal("Go", "v1", "v1.0", "v1.0.0")
    ascending("Go", "(devel)", "v0.0.1")
    equal("Go", "(devel)", "not-a-version")
    assert comparator_for("Go").valid("v1.2.3+incompatible")
    from lockgate.vulndb.versions.golang import toolchain_semver

    assert [toolchain_semver(v) for v in ("go1.20", "go1.20.3", "go1.21rc2", "go1.19beta1", "devel +abc")] == [
        "1.20.0",
        "1.20.3",
        "1.21.0-rc.2",
        "1.19.0-beta.1",
        "devel +abc",
    ]
    # GO-2022-0515 style stdlib range: introduced 1.18.0-0, fixed 1.18.4
    ascending("npm", "1.17.12", "1.18.0-0", toolchain_semver("go1.18rc1"), toolchain_semver("go1.18"), "1.18.4")
    assert not comparator_for("Go").valid("v1.2.3.4")


def test_maven() -> None:
    ascending(
        "Maven",
        "1.0-alpha1",
        "1.0-beta1",
        "1.0-milestone1",
        "1.0-rc1",
        "1.0-SNAPSHOT",
        "1.0",
        "1.0-sp1",
        "1.0-abc",
        "1.0-xyz",
        "1.0.1",
    )
    equal("Maven", "1", "1.0", "1.0.0", "1-ga", "1.0-final", "1.0.RELEASE", "1-0")
    equal("Maven", "1.0-rc1", "1.0-cr1", "1.0-RC-1", "1.0rc1")
    equal("Maven", "1.0-a1", "1.0-alpha-1")
    ascending("Maven", "1.1.RC1", "1.1-RC1", "1.1-1", "1.1.1")  # .qualifier < -qualifier < -number < .number


def test_rubygems() -> None:
    ascending("RubyGems", "1.0.a", "1.0.a.1", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.10")
    equal("RubyGems", "1.0", "1", "1.0.0", "1.0.0.0")
    equal("RubyGems", "1.0-1", "1.0.pre.1")
    assert comparator_for("RubyGems").valid("1.2.3.beta")
    assert not comparator_for("RubyGems").valid("1..2")


def test_nuget() -> None:
    ascending("NuGet", "1.0.0-alpha", "1.0.0-Beta", "1.0.0-beta.2", "1.0.0-RC.1", "1.0.0", "1.0.0.1", "1.0.1")
    equal("NuGet", "1.0", "1.0.0", "1.0.0.0", "1.00.0", "1.0.0+meta")
    equal("NuGet", "1.0.0-BETA", "1.0.0-beta")
    assert comparator_for("NuGet").valid("1.2.3.4-rc.1+meta")
    assert not comparator_for("NuGet").valid("1.2.3.4.5")


def test_composer() -> None:
    ascending(
        "Packagist",
        "dev-main",
        "1.0.0-dev",
        "1.0.0-alpha1",
        "1.0.0-beta2",
        "1.0.0-RC1",
        "1.0.0",
        "1.0.0-pl1",
        "1.0.1",
    )
    equal("Packagist", "v1.0.0", "1.0.0", "V1.0.0")
    ascending("Packagist", "1.0-foo", "1.0-dev", "1.0")  # PHP: any unknown word < dev
    equal("Packagist", "1.0.0-beta2", "1.0.0beta2", "1.0.0.b2", "1.0.0_beta.2")
    assert comparator_for("Packagist").valid("v2.3.4-RC2")
    assert comparator_for("Packagist").valid("dev-feature/x")


def test_sorted_and_max() -> None:
    deb = comparator_for("Debian")
    assert deb.sorted(["1.0", "1.0~rc1", "1:0.5", "1.0+b1"]) == ["1.0~rc1", "1.0", "1.0+b1", "1:0.5"]
    assert deb.max(["1.0", "1.0~rc1", "1:0.5"]) == "1:0.5"


ALL = [
    "Debian",
    "Alpine",
    "Red Hat",
    "PyPI",
    "npm",
    "Pub",
    "Go",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
    "CRAN",
    "Hackage",
]
_VERSIONISH = st.text(alphabet="0123456789.-_+~^:abcprvRC", max_size=14)


@pytest.mark.parametrize("ecosystem", ALL)
@settings(max_examples=150, deadline=None)
@given(a=_VERSIONISH, b=_VERSIONISH, c=_VERSIONISH)
def test_total_order_properties(ecosystem: str, a: str, b: str, c: str) -> None:
    """Any string compares without error; compare is antisymmetric and transitive, and keys agree."""
    check_total_order(ecosystem, a, b, c)


def check_total_order(ecosystem: str, a: str, b: str, c: str) -> None:
    cmp = comparator_for(ecosystem)
    ab, bc, ac = cmp.compare(a, b), cmp.compare(b, c), cmp.compare(a, c)
    assert ab in (-1, 0, 1)
    assert cmp.compare(b, a) == -ab
    assert cmp.compare(a, a) == 0
    if ab <= 0 and bc <= 0:
        assert ac <= 0, (a, b, c)
        if ab < 0 or bc < 0:
            assert ac < 0, (a, b, c)
    ka, kb = cmp.key(a), cmp.key(b)
    assert (ka > kb) - (ka < kb) == ab
    assert isinstance(cmp.valid(a), bool)


_APK_LIKE = st.from_regex(
    r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,2}[a-c]?(_?(alpha|beta|pre|rc|p|git)[0-9]?)?([-.]r[0-9]{1,2}|p[0-9])?\Z"
)


@settings(max_examples=200, deadline=None)
@given(a=_APK_LIKE, b=_APK_LIKE, c=_APK_LIKE)
def test_apk_total_order_on_real_shapes(a: str, b: str, c: str) -> None:
    """apk: a total order over valid versions and the odd shapes of real secdb data.

    (For arbitrary strings there are corners the corpus vectors force to be
    non-transitive: ``1-ruff2 == 1--ruff1`` and ``1-ruff2 == 1--ruff0``, yet two invalid
    strings that agree part by part compare as text. No real version looks like that.)
    """
    check_total_order("Alpine", a, b, c)


@pytest.mark.parametrize("ecosystem", ALL)
def test_absurdly_long_versions_are_refused_cleanly(ecosystem: str) -> None:
    """A hostile 5,000-digit version must raise the project's InputError, never ValueError."""
    from lockgate.errors import LimitExceededError
    from lockgate.vulndb.osv.ranges import affected_by

    huge = "9" * 5000
    cmp = comparator_for(ecosystem)
    calls = (lambda: cmp.compare(huge, "1.0"), lambda: cmp.compare("1.0", huge), lambda: cmp.key(huge) < cmp.key("1"))
    for call in calls:
        with pytest.raises(LimitExceededError):
            call()
    with contextlib.suppress(LimitExceededError):
        assert cmp.valid(huge) in (True, False)
    with pytest.raises(InputError):
        affected_by(ecosystem, "1.0", {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": huge}]}]})
    assert cmp.compare("9" * 1000, "9" * 999) == 1  # long but sane still works
