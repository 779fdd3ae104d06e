"""Every comparison vector in ``corpus/version-vectors`` must hold, both ways round.

Vectors come from upstream test suites (apk-tools, go-*-version, osv-scalibr); the
comparator must give ``cmp`` for ``compare(a, b)`` and ``-cmp`` for ``compare(b, a)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lockgate.vulndb.versions import comparator_for
from lockgate.vulndb.versions.apk import advisory_form, fuzzy_match
from lockgate.vulndb.versions.base import Comparator
from lockgate.vulndb.versions.rpm import rpmvercmp, split

# file -> ecosystems whose comparator must satisfy it
VECTOR_FILES: dict[str, tuple[str, ...]] = {
    "apk-tools-version.json": ("Alpine:v3.20",),
    "go-apk-version.json": ("Alpine",),
    "go-deb-version.json": ("Debian:12",),
    "osv-scalibr-semantic/alpine-versions.json": ("Alpine",),
    "osv-scalibr-semantic/alpine-versions-generated.json": ("Alpine",),
    "osv-scalibr-semantic/debian-versions.json": ("Debian",),
    "osv-scalibr-semantic/debian-versions-generated.json": ("Ubuntu:22.04:LTS",),
    "osv-scalibr-semantic/redhat-versions.json": ("Red Hat", "Rocky Linux:9", "openSUSE:Leap 15.5"),
    "osv-scalibr-semantic/pypi-versions.json": ("PyPI",),
    "osv-scalibr-semantic/pypi-versions-generated.json": ("PyPI",),
    "osv-scalibr-semantic/semver-versions.json": ("npm", "crates.io", "Go", "Hex"),
    "osv-scalibr-semantic/pub-versions.json": ("Pub",),
    "osv-scalibr-semantic/maven-versions.json": ("Maven",),
    "osv-scalibr-semantic/maven-versions-generated.json": ("Maven",),
    "osv-scalibr-semantic/rubygems-versions.json": ("RubyGems",),
    "osv-scalibr-semantic/rubygems-versions-generated.json": ("RubyGems",),
    "osv-scalibr-semantic/nuget-versions.json": ("NuGet",),
    "osv-scalibr-semantic/packagist-versions.json": ("Packagist",),
    "osv-scalibr-semantic/packagist-versions-generated.json": ("Packagist",),
    "osv-scalibr-semantic/cran-versions.json": ("CRAN",),
    "osv-scalibr-semantic/cran-versions-generated.json": ("CRAN",),
    "osv-scalibr-semantic/hackage-versions.json": ("Hackage",),
}


def _load(corpus: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((corpus / "version-vectors" / name).read_text(encoding="utf-8"))
    return data


def _check(comparator: Comparator, vectors: list[dict[str, Any]]) -> list[str]:
    bad = []
    for v in vectors:
        if "cmp" in v:
            want = v["cmp"]
            got, back = comparator.compare(v["a"], v["b"]), comparator.compare(v["b"], v["a"])
            if (got, back) != (want, -want):
                bad.append(f"{v['a']!r} vs {v['b']!r}: want {want}, got {got} / reversed {back}")
            ka, kb = comparator.key(v["a"]), comparator.key(v["b"])
            if (ka > kb) - (ka < kb) != want or (ka == kb) != (want == 0):
                bad.append(f"{v['a']!r} vs {v['b']!r}: sort keys disagree with compare")
        elif "cmp_not" in v and comparator.compare(v["a"], v["b"]) == v["cmp_not"]:
            bad.append(f"{v['a']!r} vs {v['b']!r}: must not be {v['cmp_not']}")
    return bad


def test_every_vector_file_is_covered(corpus: Path) -> None:
    on_disk = {str(p.relative_to(corpus / "version-vectors")) for p in (corpus / "version-vectors").rglob("*.json")}
    assert on_disk == set(VECTOR_FILES) | {"go-rpm-version.json"}


@pytest.mark.parametrize(("name", "ecosystem"), [(n, e) for n, es in VECTOR_FILES.items() for e in es])
def test_vectors(corpus: Path, name: str, ecosystem: str) -> None:
    data = _load(corpus, name)
    if "ecosystems" in data:
        # the file says which ecosystems upstream runs it against; we cover at least those
        assert set(data["ecosystems"]) <= {e.split(":")[0] for es in VECTOR_FILES.values() for e in es}
    vectors = data["vectors"]
    assert len(vectors) > 5
    bad = _check(comparator_for(ecosystem), vectors)
    assert not bad, f"{len(bad)} of {len(vectors)} vectors fail:\n" + "\n".join(bad[:30])


def test_rpmvercmp_vectors(corpus: Path) -> None:
    """go-rpm-version's vectors are rpm's own ``rpmvercmp`` cases: they compare whole strings.

    ``1.2.3.4`` vs ``1-2-3-4`` is 0 for rpmvercmp (``-`` only separates) but not as EVRs
    (rpm splits the release at the last ``-``), so all vectors are checked against
    :func:`rpmvercmp`, and the ones without ``-`` or ``:`` also against the EVR comparator.
    """
    data = _load(corpus, "go-rpm-version.json")
    evr = comparator_for("Rocky Linux:9")
    bad = []
    for v in data["vectors"]:
        a, b, want = v["a"], v["b"], v["cmp"]
        if (rpmvercmp(a, b), rpmvercmp(b, a)) != (want, -want):
            bad.append(f"rpmvercmp {a!r} {b!r} want {want}")
        if not any(c in a + b for c in "-:") and (evr.compare(a, b), evr.compare(b, a)) != (want, -want):
            bad.append(f"evr {a!r} {b!r} want {want}")
    assert len(data["vectors"]) > 4000
    assert not bad, "\n".join(bad[:30])


def test_rpm_parse_cases(corpus: Path) -> None:
    """go-rpm-version's parse cases, where that library follows rpm.

    go-rpm-version splits at the *first* ``-`` and ``:``, maps non-numeric epochs to 0
    and trims blanks; rpm (``rpmverParse``) splits the release at the *last* ``-`` and
    takes an epoch only from leading digits. The cases where the two differ are
    asserted with rpm's answer.
    """
    data = _load(corpus, "go-rpm-version.json")
    rpm_answer = {
        "0:0-0-0": ("0", "0-0", "0"),
        "0:0-0-0-0": ("0", "0-0-0", "0"),
        "0:0:0-0-0": ("0", "0:0-0", "0"),
        "0:0-0:0-0": ("0", "0-0:0", "0"),
        "-1:0-1": (None, "-1:0", "1"),
        "-1:1.2.3": (None, "", "1:1.2.3"),
        "a:0-0": (None, "a:0", "0"),
        "A:1-2": (None, "A:1", "2"),
        "A:1.2.3": (None, "A:1.2.3", None),
    }
    checked = 0
    for case in data["parse"]:
        text = case["input"]
        if text != text.strip():
            continue  # go-rpm-version's whitespace trimming is its own; rpm never trims
        epoch, version, release = split(text)
        if text in rpm_answer:
            assert (epoch, version, release) == rpm_answer[text], text
        else:
            assert int(epoch or 0) == case["epoch"], text
            assert version == case["version"], text
            assert (release or "") == case["release"], text
        checked += 1
    assert checked >= 20


def test_apk_match_operators(corpus: Path) -> None:
    data = _load(corpus, "apk-tools-version.json")
    apk = comparator_for("Alpine")
    for case in data["match_ops"]:
        a, op, b, expect = case["a"], case["op"], case["b"], case["expect"]
        fuzzy = fuzzy_match(a, b)
        r = apk.compare(a, b)
        result = {
            "~": fuzzy,
            "<~": fuzzy or r < 0,
            ">~": fuzzy or r > 0,
        }[op.lstrip("!")]
        if op.startswith("!"):
            result = not result
        assert result == expect, case


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and ln[0] != "#"]


def test_apk_validity(corpus: Path) -> None:
    """apk-tools' own validity cases, and osv.dev's lists of versions seen in Alpine data.

    osv.dev's "valid" list includes shapes apk-tools 3 refuses (``6.6.2p1-r0``,
    ``10.2.22.r0``) but that occur in real secdb data: they must be accepted as advisory
    versions (and still order, see the vectors); the "invalid" list must be refused by
    both the strict check and the advisory-shape check.
    """
    data = _load(corpus, "apk-tools-version.json")
    apk = comparator_for("Alpine")
    for case in data["validity"]:
        assert apk.valid(case["version"]) == case["valid"], case
    osv_dir = corpus / "version-vectors" / "osv.dev"
    valid = _lines(osv_dir / "alpine-valid_versions.txt")
    invalid = _lines(osv_dir / "alpine-invalid_versions.txt")
    assert len(valid) > 100 and len(invalid) > 5
    assert [v for v in valid if not advisory_form(v)] == []
    strictly_valid = [v for v in valid if apk.valid(v)]
    assert len(strictly_valid) > 0.9 * len(valid)
    assert [v for v in invalid if apk.valid(v) or advisory_form(v)] == []


def test_deb_extra_vectors(corpus: Path) -> None:
    """go-deb-version: validity, and orderings of non-digit and upstream parts alone.

    go-deb-version calls ``6.0-4.el6.x86_64`` valid, but ``_`` is not allowed in a Debian
    revision (Policy 5.6.12) and ``dpkg --validate-version`` rejects it ("invalid character
    in revision number"), so dpkg's answer is asserted for that one.
    """
    from lockgate.vulndb.versions.dpkg import verrevcmp

    data = _load(corpus, "go-deb-version.json")
    deb = comparator_for("Debian")
    dpkg_differs = {"6.0-4.el6.x86_64": False}
    for case in data["validity"]:
        want = dpkg_differs.get(case["version"], case["valid"])
        assert deb.valid(case["version"]) == want, case
    for key in ("string_part_order", "upstream_part_order"):
        for v in data[key]:
            assert verrevcmp(v["a"], v["b"]) == v["cmp"], v
            assert verrevcmp(v["b"], v["a"]) == -v["cmp"], v
