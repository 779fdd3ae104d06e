"""OSV range evaluation on hand-written ``affected[]`` entries, one edge case each."""

from __future__ import annotations

from typing import Any

import pytest

from lockgate.errors import InputError
from lockgate.vulndb.osv.ranges import RangeMatch, affected_by, compile_affected
from lockgate.vulndb.versions import UnknownEcosystemError


def eco(*events: dict[str, str], versions: list[str] | None = None, rtype: str = "ECOSYSTEM") -> dict[str, Any]:
    entry: dict[str, Any] = {"ranges": [{"type": rtype, "events": list(events)}]}
    if versions is not None:
        entry["versions"] = versions
    return entry


def hit(ecosystem: str, version: str, affected: dict[str, Any]) -> bool:
    return affected_by(ecosystem, version, affected) is not None


def test_introduced_fixed_interval_is_half_open() -> None:
    a = eco({"introduced": "1.2"}, {"fixed": "1.4.1"})
    assert not hit("PyPI", "1.1.9", a)
    assert hit("PyPI", "1.2", a)
    assert hit("PyPI", "1.2.0", a)  # PEP 440: 1.2 == 1.2.0
    assert hit("PyPI", "1.4.1rc1", a)  # a pre-release of the fix is still affected
    assert not hit("PyPI", "1.4.1", a)
    assert not hit("PyPI", "2.0", a)


def test_introduced_zero_sorts_before_everything() -> None:
    a = eco({"introduced": "0"}, {"fixed": "1.0.0"})
    assert hit("npm", "0.0.0-alpha", a)
    assert hit("PyPI", "0.dev0", a)
    assert hit("Debian:12", "0~rc1", a)
    assert not hit("npm", "1.0.0", a)


def test_no_fixed_means_affected_forever() -> None:
    a = eco({"introduced": "2.0"})
    assert hit("Maven", "2.0", a)
    assert hit("Maven", "99.1", a)
    assert not hit("Maven", "1.9", a)


def test_last_affected_is_inclusive() -> None:
    a = eco({"introduced": "1.0.0"}, {"last_affected": "1.3.0"})
    assert hit("Go", "1.3.0", a)
    assert hit("Go", "v1.3.0", a)
    assert not hit("Go", "1.3.1", a)
    m = affected_by("Go", "1.2.0", a)
    assert m is not None and m.last_affected == "1.3.0" and m.fixed == () and not m.fix_available


def test_limit_bounds_the_range() -> None:
    a = eco({"introduced": "0"}, {"limit": "2.0"})
    assert hit("PyPI", "1.9", a)
    assert not hit("PyPI", "2.0", a)
    assert not hit("PyPI", "3.0", a)
    star = eco({"introduced": "1.0"}, {"limit": "*"})
    assert hit("PyPI", "100", star)
    several = eco({"introduced": "1.0"}, {"limit": "1.5"}, {"limit": "3.0"})
    assert hit("PyPI", "2.0", several)  # below at least one limit
    assert not hit("PyPI", "3.0", several)


def test_multiple_intervals_in_one_range_and_relevant_fix() -> None:
    a = eco({"introduced": "0"}, {"fixed": "1.2.3"}, {"introduced": "2.0.0"}, {"fixed": "2.1.1"})
    m = affected_by("npm", "2.0.5", a)
    assert m == RangeMatch(
        range_type="ECOSYSTEM",
        range_index=0,
        introduced="2.0.0",
        fixed=("2.1.1",),
        last_affected=None,
        all_fixed=("1.2.3", "2.1.1"),
        in_versions=False,
    )
    m = affected_by("npm", "1.0.0", a)
    assert m is not None and m.introduced == "0" and m.fixed == ("1.2.3", "2.1.1")
    assert not hit("npm", "1.5.0", a)
    assert not hit("npm", "2.1.1", a)


def test_unsorted_events_are_sorted_by_the_ecosystem_order() -> None:
    # dpkg: 1.0~rc1 < 1.0 < 1.0+deb1; written in reverse order
    a = eco({"fixed": "1.0+deb1"}, {"introduced": "1.0~rc1"})
    assert hit("Debian:11", "1.0", a)
    assert hit("Debian:11", "1.0~rc1", a)
    assert not hit("Debian:11", "1.0~beta", a)
    assert not hit("Debian:11", "1.0+deb1", a)


def test_equal_introduced_and_fixed_cancel_out() -> None:
    assert not hit("PyPI", "1.0", eco({"introduced": "1.0"}, {"fixed": "1.0"}))
    # fixed at 3.1.1 and broken again at 3.1.1 (PYSEC-2022-236 shape): stays affected
    rebroken = eco({"introduced": "0"}, {"fixed": "3.1.1"}, {"introduced": "3.1.1"}, {"fixed": "3.1.3"})
    assert hit("PyPI", "3.1.1", rebroken)
    assert hit("PyPI", "3.1.2", rebroken)
    assert not hit("PyPI", "3.1.3", rebroken)


def test_several_ranges_any_matches() -> None:
    a = {
        "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.1"}]},
            {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.2"}]},
        ]
    }
    m = affected_by("RubyGems", "2.1", a)
    assert m is not None and m.range_index == 1 and m.fixed == ("2.2",) and m.all_fixed == ("1.1", "2.2")
    assert not hit("RubyGems", "1.5", a)


def test_semver_range_uses_semver_whatever_the_ecosystem() -> None:
    # under PEP 440 "1.0.0-rc.1" is 1.0.0rc1 as well, but "1.0.0-1" would be a post-release;
    # SemVer reads it as a pre-release, so it is below the fix
    a = eco({"introduced": "0"}, {"fixed": "1.0.0"}, rtype="SEMVER")
    assert hit("PyPI", "1.0.0-1", a)
    assert affected_by("PyPI", "1.0.0-1", eco({"introduced": "0"}, {"fixed": "1.0.0"})) is None
    # and works for an ecosystem lockgate has no ordering for
    assert hit("SomethingNew", "0.9.0", a)
    assert not hit("SomethingNew", "1.0.0+build", a)


def test_explicit_versions_match_by_string_equality() -> None:
    a = {"versions": ["1.0", "1.1"]}
    m = affected_by("PyPI", "1.0", a)
    assert m is not None and m.range_type == "VERSIONS" and m.range_index is None and m.in_versions
    assert not hit("PyPI", "1.0.0", a)  # equal under PEP 440, but the list is matched as strings
    assert not hit("PyPI", "1.2", a)


def test_versions_list_and_ranges_together() -> None:
    a = eco({"introduced": "0"}, {"fixed": "2.0"}, versions=["1.0", "2.5"])
    m = affected_by("PyPI", "1.0", a)
    assert m is not None and m.range_type == "ECOSYSTEM" and m.in_versions
    m = affected_by("PyPI", "2.5", a)  # only the list says so
    assert m is not None and m.range_type == "VERSIONS" and m.fixed == () and m.all_fixed == ("2.0",)


def test_git_ranges_are_ignored_but_counted() -> None:
    a = {
        "ranges": [
            {"type": "GIT", "repo": "https://example.invalid/x.git", "events": [{"introduced": "0"}, {"fixed": "abc"}]},
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.5"}]},
        ]
    }
    compiled = compile_affected("PyPI", a)
    assert compiled.ignored_ranges == 1
    m = compiled.match("1.0")
    assert m is not None and m.range_index == 1 and m.ignored_ranges == 1 and m.all_fixed == ("1.5",)
    only_git = {"ranges": [a["ranges"][0]]}
    assert affected_by("PyPI", "abc", only_git) is None
    assert affected_by("PyPI", "0", only_git) is None


def test_distro_ecosystems() -> None:
    assert hit("Alpine:v3.20", "1.2.3-r0", eco({"introduced": "0"}, {"fixed": "1.2.3-r1"}))
    assert not hit("Alpine:v3.20", "1.2.3_p1-r0", eco({"introduced": "0"}, {"fixed": "1.2.3-r1"}))
    assert hit("Rocky Linux:9", "0:3.10.0-229.el7", eco({"introduced": "0"}, {"fixed": "3.10.0-229.1.2.el7"}))
    assert not hit("Ubuntu:22.04:LTS", "2:1.0-1", eco({"introduced": "0"}, {"fixed": "1.5-1"}))


def test_unknown_ecosystem() -> None:
    a = eco({"introduced": "0"}, {"fixed": "1.0"}, versions=["0.5"])
    with pytest.raises(UnknownEcosystemError, match="Nonexistent"):
        affected_by("Nonexistent", "0.7", a)
    m = affected_by("Nonexistent", "0.5", a)  # the list alone decides
    assert m is not None and m.range_type == "VERSIONS"
    assert isinstance(UnknownEcosystemError("x"), InputError)


@pytest.mark.parametrize(
    "bad",
    [
        {"ranges": "nope"},
        {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": 1}]}]},
        {"ranges": [{"type": "ECOSYSTEM", "events": [{"bogus": "1"}]}]},
        {"ranges": [{"type": "ECOSYSTEM", "events": ["introduced"]}]},
        {"ranges": [{"type": "ECOSYSTEM", "events": {"introduced": "0"}}]},
        {"ranges": ["ECOSYSTEM"]},
        {"versions": "1.0"},
    ],
)
def test_malformed_entries_raise_input_error(bad: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        affected_by("PyPI", "1.0", bad)


def test_compiled_entry_is_reusable() -> None:
    compiled = compile_affected("PyPI", eco({"introduced": "1.0"}, {"fixed": "1.5"}))
    results = [compiled.match(v) is not None for v in ("0.9", "1.0", "1.4", "1.5", "1.4.99")]
    assert results == [False, True, True, False, True]
