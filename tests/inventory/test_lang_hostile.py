"""Hostile and broken inputs: every language analyser returns a coverage gap naming the file, never raises.

Zip bombs and deep nesting are built by the test with :mod:`zipfile`; oversized lock files go
through the real dispatcher, which must turn "bigger than this analyser's cap" into a gap.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

import pytest

from lockgate.config import Limits
from lockgate.fs.dispatch import Dispatcher
from lockgate.fs.model import FileEntry
from lockgate.inventory.lang import extract, formats, language_analyzers
from lockgate.inventory.lang.java import JarLimits, JavaAnalyzer, parse_jar_bytes


def _jar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


POM = b"groupId=org.example\nartifactId=lib\nversion=1.0.0\n"


def test_zip_bomb_member_is_a_gap() -> None:
    bomb = _jar({"META-INF/maven/x/y/pom.properties": b"groupId=a\n" + b"#" * (8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    result = JavaAnalyzer().analyze(FileEntry(path="app/bomb.jar", size=len(bomb)), bomb)
    assert result.gaps and result.gaps[0].where == "app/bomb.jar"
    assert "larger than" in result.gaps[0].reason or "ratio" in result.gaps[0].reason


def test_nested_jar_bomb_hits_total_budget() -> None:
    inner = _jar({"pad.bin": os.urandom(1024 * 1024), "META-INF/maven/g/a/pom.properties": POM})
    outer = _jar({f"BOOT-INF/lib/x{i}.jar": inner for i in range(4)})
    result = parse_jar_bytes(outer, "app.jar", limits=JarLimits(max_total_bytes=6 * 1024 * 1024))
    assert result.gaps
    assert any("already opened" in g.reason for g in result.gaps)
    assert 1 <= len(result.packages) < 4
    # Highly compressible nested archives are refused by the ratio check.
    zeros = _jar({"META-INF/maven/g/a/pom.properties": POM, "pad.bin": b"\0" * (4 * 1024 * 1024)})
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("pad.jar", _jar({"pad.bin": b"\0"}) + b"\0" * (8 * 1024 * 1024))
    outer2 = _jar({"lib/zeros.jar": stored.getvalue(), "lib/ok.jar": zeros})
    result2 = parse_jar_bytes(outer2, "app2.jar")
    assert any("ratio" in g.reason for g in result2.gaps)


def test_deep_nesting_is_a_gap_and_fast() -> None:
    data = _jar({"META-INF/maven/g/a/pom.properties": POM})
    for i in range(40):
        data = _jar({f"lib/level{i}.jar": data})
    start = time.monotonic()
    result = parse_jar_bytes(data, "deep.jar")
    assert time.monotonic() - start < 30  # generous: CI machines are shared
    assert result.gaps and "nested deeper" in result.gaps[0].reason
    assert not result.packages


def test_nested_jars_found_with_outer_coordinates() -> None:
    inner = _jar(
        {"META-INF/maven/org.inner/inner/pom.properties": b"groupId=org.inner\nartifactId=inner\nversion=2.1\n"}
    )
    war = _jar(
        {
            "META-INF/maven/org.example/app/pom.properties": POM.replace(b"lib", b"app"),
            "WEB-INF/lib/inner-2.1.jar": inner,
        }
    )
    result = JavaAnalyzer().analyze(FileEntry(path="srv/app.war", size=len(war)), war)
    assert not result.gaps
    assert {(p.name, p.version) for p in result.packages} == {("org.example:app", "1.0.0"), ("org.inner:inner", "2.1")}
    inner_pkg = next(p for p in result.packages if p.name == "org.inner:inner")
    assert dict(inner_pkg.metadata)["archive"] == "srv/app.war!/WEB-INF/lib/inner-2.1.jar"
    assert inner_pkg.purl == "pkg:maven/org.inner/inner@2.1"


def test_manifest_and_filename_fallback_on_a_built_jar() -> None:
    manifest = (
        b"Manifest-Version: 1.0\r\nImplementation-Title: commons-text\r\nImplementation-Version: 1.10.0\r\n"
        b"Bundle-SymbolicName: org.apache.commons.commons-text\r\n\r\n"
    )
    jar = _jar({"META-INF/MANIFEST.MF": manifest, "org/apache/Foo.class": b"\xca\xfe\xba\xbe"})
    result = JavaAnalyzer().analyze(FileEntry(path="lib/commons-text-1.10.0.jar", size=len(jar)), jar)
    assert [(p.name, p.version) for p in result.packages] == [
        ("org.apache.commons.commons-text:commons-text", "1.10.0")
    ]


HOSTILE = [
    ("package-lock.json", b"{" * 5000 + b"}" * 5000),
    ("package-lock.json", b'{"packages": {"node_modules/a": {"version": ' + b"[" * 100000),
    ("Pipfile.lock", b"[1, 2"),
    ("composer.lock", b"\xff\xfe\x00garbage"),
    ("deps.json", b'{"libraries": {"NoSlash": {"type": "package"}}}'),
    ("poetry.lock", b"[[package]\nname = "),
    ("Cargo.lock", b"\x00\x01\x02"),
    ("pnpm-lock.yaml", b"a: &a [*a, *a]\n" + b"".join(b"k%d: &k%d [*a, *a, *a]\n" % (i, i) for i in range(400))),
    ("pnpm-lock.yaml", b"packages: [unclosed"),
    ("yarn.lock", b"\x00" * 100),
    ("go.mod", b"module x\nrequire (\n  a v1.0.0\n"),
    ("go.mod", b"this is not go.mod at all\n"),
    ("gemspec", b"Gem::Specification.new do |s|\n  s.name = \n"),
    ("python-metadata", b""),
    ("python-metadata", b"Name: ../../etc\nVersion: 1\n"),
    ("binary", b"\x7fELF\x02\x01\x01" + b"\xff" * 60),
    ("binary", b"\x7fELF\x02\x01\x01" + b"\x00" * 33 + b"\xff\xff\xff\xff\xff\xff\xff\x7f" + b"\x00" * 16),
    ("jar", b"PK\x03\x04 truncated zip"),
]


@pytest.mark.parametrize(("fmt", "content"), HOSTILE, ids=[f"{f}-{i}" for i, (f, _) in enumerate(HOSTILE)])
def test_bad_content_becomes_a_gap(fmt: str, content: bytes) -> None:
    result = extract(fmt, content, path=f"bad/{fmt}")
    assert result.gaps, result
    assert all(g.where == f"bad/{fmt}" for g in result.gaps)


def test_every_format_survives_random_bytes() -> None:
    import random

    rng = random.Random(1234)
    blobs = [bytes(rng.getrandbits(8) for _ in range(n)) for n in (0, 1, 17, 300, 5000)]
    blobs += [b"{}", b"[]", b"null", b'"x"', b"packages:\n  - 1\n", b"[[package]]\n"]
    for fmt in formats():
        for blob in blobs:
            extract(fmt, blob, path="rand")  # must not raise


def test_huge_lockfile_is_a_gap_from_the_dispatcher() -> None:
    """A lock file over the analyser's size cap is not read at all: the dispatcher reports a gap."""
    analyzers = language_analyzers()
    dispatcher = Dispatcher(analyzers, Limits())
    entry = FileEntry(path="srv/app/package-lock.json", size=10 * 1024 * 1024 * 1024)
    wanted = dispatcher.wanted(entry)
    assert [analyzers[i].name for i in wanted] == ["lang-files"]
    results = dispatcher.run(entry, wanted, lambda: pytest.fail("must not read an oversized file"))  # type: ignore[arg-type,return-value]
    assert results and results[0][1].gaps
    assert "package-lock.json" in results[0][1].gaps[0].where


def test_big_but_allowed_lockfile_parses_quickly() -> None:
    packages = {f"node_modules/pkg{i}": {"version": f"1.0.{i}", "license": "MIT"} for i in range(50_000)}
    content = json.dumps({"lockfileVersion": 3, "packages": {"": {}, **packages}}).encode()
    start = time.monotonic()
    result = extract("package-lock.json", content, path="package-lock.json")
    assert time.monotonic() - start < 60  # generous: CI machines are shared
    assert len(result.packages) == 50_000 and not result.gaps
