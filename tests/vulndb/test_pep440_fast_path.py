"""The PEP 440 key without ``packaging`` for plain and canonical releases, held to ``packaging.version.Version``.

Oracle: ``Version`` ordering for valid versions, invalid (non-PEP 440) strings before every
valid one and ordered among themselves by the legacy rule. Checked on thousands of
generated pairs (plain releases with trailing and leading zeros, ``v`` prefixes and
whitespace, pre/post/dev/local/epoch parts, invalid legacy strings, mixed pairs) and on
every version string of the corpus's OSV PyPI records and PyPI version vectors.
"""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

from lockgate.vulndb.versions import comparator_for
from lockgate.vulndb.versions.pep440 import _full_key, _simple_key, legacy_key, parse, plain_release

PEP440 = comparator_for("PyPI")


def _oracle_key(v: str) -> tuple[int, object]:
    try:
        return (1, Version(v))
    except InvalidVersion:
        return (0, legacy_key(v))


def oracle(a: str, b: str) -> int:
    """-1/0/1 by packaging's ``Version`` (valid), invalid before valid, legacy rule among invalid ones."""
    ka, kb = _oracle_key(a), _oracle_key(b)
    if ka[0] != kb[0]:
        return -1 if ka[0] < kb[0] else 1
    x, y = ka[1], kb[1]
    return int(x > y) - int(x < y)  # type: ignore[operator]


def _release(rng: random.Random) -> str:
    parts = [str(rng.choice((0, 0, 1, 2, 3, 10, 99, 2024))) for _ in range(rng.randint(1, 4))]
    parts += ["0"] * rng.choice((0, 0, 1, 2))  # trailing zeros are insignificant
    if rng.random() < 0.1:
        parts[0] = "0" + parts[0]  # leading zeros too
    return ".".join(parts)


def _version(rng: random.Random) -> str:
    kind = rng.randrange(10)
    v = _release(rng)
    if kind <= 3:  # plain, sometimes with a v prefix or surrounding whitespace
        return rng.choice(("", "", "v", "V", " ", "\t v")) + v + rng.choice(("", "", " ", "\n"))
    if kind == 4:
        return f"{rng.randint(0, 2)}!{v}"
    if kind == 5:
        return (
            v
            + rng.choice(("a", "b", "rc", "c", "alpha", "beta", "pre", "preview", ".a", "-rc"))
            + str(rng.randint(0, 3)) * rng.randint(0, 1)
        )
    if kind == 6:
        return v + rng.choice((".post", "post", "-", ".r", "-rev")) + str(rng.randint(0, 3))
    if kind == 7:
        return v + rng.choice((".dev", "dev", "-dev", "a1.dev", ".post1.dev", "rc2.dev")) + str(rng.randint(0, 3))
    if kind == 8 and rng.random() < 0.5:  # canonical spellings: keyed without packaging too
        pre = rng.choice(("", "", "a", "b", "rc")) + str(rng.randint(0, 12))
        return v + (pre if pre[:1].isalpha() else "") + rng.choice(("", ".post1", ".post0")) + rng.choice(("", ".dev0"))
    if kind == 8:
        return v + "+" + rng.choice(("1", "ubuntu1", "abc.5", "0.abc", "cpu", "cu118", "1_2-x", "Local.7", "007"))
    return rng.choice(  # not PEP 440: the legacy rule orders these, before every valid version
        (
            v + "-bulbasaur",
            "0.1-bulbasaur",
            v + "x",
            "dev",
            "",
            " ",
            "1..2",
            ".1",
            "1.",
            "v",
            "vv1",
            "1.0-final",
            v + "-pre" + v,
            "2.0.0.dev-r1",
            "١.٢",
            "1.²",
            "french toast",
            v + "++",
            v + "+",
        )
    )


def test_generated_pairs_order_as_packaging() -> None:
    rng = random.Random(440)
    versions = [_version(rng) for _ in range(3000)]
    pairs = [(rng.choice(versions), rng.choice(versions)) for _ in range(12000)]
    # neighbours: the same release with and without trailing zeros, prefix and whitespace
    for v in versions[:1500]:
        if (r := plain_release(v)) is not None:
            pairs.append((v, ".".join(map(str, (*r, 0)))))
            pairs.append((v, " v" + ".".join(map(str, r)) + "a1"))
            pairs.append((v, "0!" + ".".join(map(str, r)) + "+1"))
    plain = sum(plain_release(v) is not None for v in versions)
    assert 800 < plain < 2000  # a real mix of plain and other versions
    bad = []
    for a, b in pairs:
        want = oracle(a, b)
        ka, kb = PEP440.key(a), PEP440.key(b)
        got_key = int(ka > kb) - int(ka < kb)
        if PEP440.compare(a, b) != want or got_key != want or (want == 0) != (ka == kb):
            bad.append((a, b, want, PEP440.compare(a, b), got_key))
    assert not bad, bad[:10]


def test_fast_keys_equal_packaging_keys(corpus: Path) -> None:
    """Every key computed without packaging is exactly the key computed through it."""
    rng = random.Random(8)
    versions = [_version(rng) for _ in range(6000)] + _corpus_versions(corpus)
    fast = [v for v in versions if _simple_key(v) is not None]
    assert len(fast) > len(versions) // 2
    assert sum(plain_release(v) is None for v in fast) > 500  # canonical pre/post/dev releases among them
    assert [_simple_key(v) for v in fast] == [_full_key(v) for v in fast]
    for v in ("1.0.a1", "1.0a", "1.0b1a", "rc1", "1!1.0", "1.0.post", "1.0-1", " 1.0 a1", "1.0.dev1.post1", "1.0RC1"):
        assert _simple_key(v) is None, v


def test_plain_releases_parse_as_packaging_does() -> None:
    rng = random.Random(7)
    for v in [_version(rng) for _ in range(5000)] + ["0", "0.0", "v0", " 1 ", "1.0.0\n", "01.002"]:
        r = plain_release(v)
        if r is None:
            continue
        parsed = Version(v)  # every plain release is a valid PEP 440 version ...
        assert (parsed.epoch, parsed.pre, parsed.post, parsed.dev, parsed.local) == (0, None, None, None, None)
        assert parsed.release == r  # ... with exactly these release numbers
        assert PEP440.valid(v)
    for v in ("1.0a1", "1!1", "1.0+x", "1.0.post1", "1.0.dev0", "1.0-1", "", "v", "1.", "1..0", "١", "1. 0"):
        assert plain_release(v) is None, v


def test_equal_keys_across_kinds() -> None:
    same = ["1", "1.0", "1.0.0", "v1.0", " V1 ", "0!1.0", "01.00", "1.0.0\n"]
    assert len({parse(v) for v in same}) == 1  # equal keys, equal hashes
    assert all(PEP440.compare(a, b) == 0 for a in same for b in same)
    assert parse("1.0") != parse("1.0+0") and parse("1.0") < parse("1.0+0") < parse("1.0.post0")
    assert parse("1.0.dev0") < parse("1.0a1") < parse("1.0") < parse("1.0.1") < parse("1!0.1")
    assert parse("0.1-bulbasaur") < parse("0") and not PEP440.valid("0.1-bulbasaur")


def _corpus_versions(corpus: Path) -> list[str]:
    found: set[str] = set()
    for path in sorted((corpus / "osv" / "pypi").rglob("*.yaml")):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CBaseLoader)
        for aff in doc.get("affected") or []:
            found.update(v for v in aff.get("versions") or [] if isinstance(v, str))
            for rng in aff.get("ranges") or []:
                for ev in rng.get("events") or []:
                    found.update(v for v in ev.values() if isinstance(v, str))
    for name in ("pypi-versions.json", "pypi-versions-generated.json"):
        data = json.loads((corpus / "version-vectors" / "osv-scalibr-semantic" / name).read_text(encoding="utf-8"))
        found.update(v for vec in data["vectors"] for v in (vec["a"], vec["b"]))
    return sorted(found)


def test_corpus_versions_order_as_packaging(corpus: Path) -> None:
    versions = _corpus_versions(corpus)
    assert len(versions) > 5000
    assert sum(plain_release(v) is not None for v in versions) > len(versions) // 2
    # a total order is the same as the oracle's iff the oracle-sorted list has non-decreasing keys that
    # are equal exactly where the oracle says equal
    ordered = sorted(versions, key=functools.cmp_to_key(oracle))
    keys = [parse(v) for v in ordered]
    for i in range(len(ordered) - 1):
        a, b, want = ordered[i], ordered[i + 1], oracle(ordered[i], ordered[i + 1])
        assert (keys[i] < keys[i + 1]) if want < 0 else (keys[i] == keys[i + 1]), (a, b, want)
    rng = random.Random(1)
    for _ in range(20000):
        a, b = rng.choice(versions), rng.choice(versions)
        assert PEP440.compare(a, b) == oracle(a, b), (a, b)


_NO_PACKAGING = """
import sys
from lockgate.vulndb.osv.ranges import compile_affected
aff = compile_affected("PyPI", {"package": {"ecosystem": "PyPI", "name": "requests"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"},
                {"introduced": "v3.0"}, {"last_affected": "3.1.0"}, {"introduced": "5.2b1"},
                {"fixed": "5.2.post1"}]}]})
print(aff.match("2.31.0") is not None, aff.match("2.32") is None, aff.match("3.0.0") is not None)
print("packaging" in sys.modules)
aff.match("3.0.0+local")
print("packaging" in sys.modules)
"""


def test_plain_and_canonical_versions_do_not_import_packaging() -> None:
    out = subprocess.run([sys.executable, "-c", _NO_PACKAGING], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True", "False", "True"]
