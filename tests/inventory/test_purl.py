"""``make_purl``/``os_purl`` format purls directly; packageurl-python is the oracle.

Real names and versions come from every ``pkgdb/*/expected.json`` of the corpus (dpkg, apk, rpm,
opkg, Python, npm, Go, Maven, Ruby, Rust packages), written as purls of every directly formatted
type, with namespaces and Trivy's qualifiers; random odd input (Unicode, spaces, escapes, empty
and dot segments, malformed qualifier keys, unusual types) must give the same string, or the same
exception, as the library.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL

from lockgate.inventory import purl as lg_purl
from lockgate.inventory.purl import make_purl, os_purl, parse_purl, split_epoch


def _library(
    type_: str,
    name: str,
    version: str = "",
    *,
    namespace: str = "",
    qualifiers: dict[str, str] | None = None,
    subpath: str = "",
) -> str:
    quals = {k: v for k, v in (qualifiers or {}).items() if v}
    return str(PackageURL(type_, namespace or None, name, version or None, quals or None, subpath or None).to_string())


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    try:
        return "ok", fn(*args, **kwargs)
    except Exception as exc:  # the library's own error for malformed input
        return "error", type(exc).__name__


def _corpus_packages(corpus: Path) -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for expected in sorted((corpus / "pkgdb").glob("*/expected.json")):
        for fixture in json.loads(expected.read_text())["fixtures"].values():
            for case in fixture.get("cases", []):
                for pkg in [*(case.get("packages") or []), *(case.get("derived_full_list") or [])]:
                    name, version = str(pkg.get("name") or ""), str(pkg.get("version") or "")
                    if pkg.get("release"):
                        version += f"-{pkg['release']}"
                    if pkg.get("epoch"):
                        version = f"{pkg['epoch']}:{version}"
                    if name:
                        found.add((name, version))
    return sorted(found)


TYPES = sorted(lg_purl._DIRECT_TYPES)


def test_corpus_packages_give_the_librarys_purls(corpus: Path) -> None:
    packages = _corpus_packages(corpus)
    assert len(packages) > 500
    assert any("+" in v for _, v in packages) and any(":" in v for _, v in packages)  # escapes and epochs
    assert any("/" in n for n, _ in packages) and any(c.isupper() for n, _ in packages for c in n)
    rnd = random.Random(1)
    checked = 0
    for name, version in packages:
        for type_ in [*rnd.sample(TYPES, 6), "deb", "rpm", "apk", "pypi", "npm", "golang", "maven"]:
            namespace = rnd.choice(["", "debian", "Alpine", "github.com/Org", "@scope", "org.apache"])
            quals = {"arch": rnd.choice(["", "amd64", "x86_64"]), "distro": rnd.choice(["", "debian-12.5", "3.18"])}
            got = make_purl(type_, name, version, namespace=namespace, qualifiers=quals)
            assert got == _library(type_, name, version, namespace=namespace, qualifiers=quals), (type_, name)
            checked += 1
        for ecosystem in ("deb", "rpm", "apk", "opkg"):
            got = os_purl(ecosystem, name, version, namespace="debian", arch="amd64", distro="debian-12.5")
            epoch, rest = split_epoch(version)
            quals = {"arch": "amd64", "distro": "debian-12.5", "epoch": epoch}
            assert got == _library(ecosystem, name, rest, namespace="debian", qualifiers=quals)
    assert checked > 5000


def test_well_known_purls() -> None:
    assert os_purl(
        "deb", "libstdc++6", "1:12.2.0-14+deb12u1", namespace="debian", arch="amd64", distro="debian-12.5"
    ) == ("pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12.5&epoch=1")
    assert os_purl("rpm", "openssl-libs", "3.0.7-27.el9", namespace="") == "pkg:rpm/openssl-libs@3.0.7-27.el9"
    assert make_purl("pypi", "Foo_Bar", "1.0") == "pkg:pypi/foo-bar@1.0"
    assert make_purl("npm", "pkg", "1.0", namespace="@Scope") == "pkg:npm/%40Scope/pkg@1.0"
    assert make_purl("golang", "y", "v1.2.3", namespace="github.com/X") == "pkg:golang/github.com/X/y@v1.2.3"
    assert make_purl("generic", "a b", "1 2", subpath="./x/../y z") == "pkg:generic/a%20b@1%202#x/y%20z"


_ODD = [*"aZ09._~-+:/%@?#&= ", "\t", "é", "€", "\u00a0", "𝔘", "%2B", "%41", "..", "."]
_KEYS = ["arch", "Arch", " arch ", "distro", "epoch", "1x", "a b", "a%", "", " ", "k.-_9", "ü", "x/y"]


def _odd(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice(_ODD) if rnd.random() < 0.3 else rnd.choice("abcXYZ019.-") for _ in range(n))


def test_odd_input_gives_the_librarys_result_or_error() -> None:
    rnd = random.Random(20261129)
    types = [*TYPES, "cpan", "pub", "oci", "mlflow", "huggingface", "Deb", " deb", "", "c", "flow", "x y"]
    outcomes: dict[str, int] = {}
    for _ in range(20000):
        type_ = rnd.choice(types)
        name = _odd(rnd, rnd.randint(0, 8))
        version = _odd(rnd, rnd.randint(0, 8))
        namespace = "/".join(_odd(rnd, rnd.randint(0, 4)) for _ in range(rnd.randint(0, 3)))
        quals = {rnd.choice(_KEYS): _odd(rnd, rnd.randint(0, 4)) for _ in range(rnd.randint(0, 3))}
        subpath = _odd(rnd, rnd.randint(0, 6)) if rnd.random() < 0.3 else ""
        kwargs = {"namespace": namespace, "qualifiers": quals, "subpath": subpath}
        got = _outcome(make_purl, type_, name, version, **kwargs)
        assert got == _outcome(_library, type_, name, version, **kwargs), (type_, name, version, kwargs)
        key = got[0] + ("-direct" if type_ in lg_purl._DIRECT_TYPES else "")
        outcomes[key] = outcomes.get(key, 0) + 1
    assert outcomes["ok-direct"] > 5000 and outcomes["error-direct"] > 100 and outcomes["ok"] > 500


@pytest.mark.parametrize("text", ["", "\x00", "+", ":", "%", "a+b:c/d~e_f", "é€𝔘", "a b", "%3A", "%2B"])
def test_quote_is_packageurls(text: str) -> None:
    from packageurl import quote

    assert lg_purl._quote(text) == quote(text)


def test_parse_purl_reads_what_make_purl_writes() -> None:
    text = os_purl("deb", "libc6", "2.36-9+deb12u4", namespace="debian", arch="amd64", distro="debian-12.5")
    parsed = parse_purl(text)
    assert (parsed.type, parsed.namespace, parsed.name, parsed.version) == ("deb", "debian", "libc6", "2.36-9+deb12u4")
    assert parsed.qualifiers == {"arch": "amd64", "distro": "debian-12.5"}
    with pytest.raises(ValueError):
        parse_purl("not a purl")


def test_formatting_a_purl_does_not_import_packageurl() -> None:
    code = (
        "import sys\n"
        "from lockgate.inventory.purl import os_purl\n"
        "assert os_purl('deb', 'a', '1:1.0+b1', namespace='debian', arch='amd64', distro='debian-12.5')\n"
        "print(sorted(m for m in sys.modules if m.startswith('packageurl')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
