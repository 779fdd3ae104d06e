"""rpm extractor: all three database formats against the corpus oracle and the ``rpm`` CLI."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lockgate.inventory.os.rpm.analyzer import RpmAnalyzer, read_rpmdb
from lockgate.inventory.os.rpm.header import parse_header, split_source_rpm
from tests.conftest import CORPUS
from tests.inventory.conftest import load_expected, run_analyzer

RPM = CORPUS / "pkgdb" / "rpm"
_DB_PATH = {"Packages": "var/lib/rpm/Packages", "Packages.db": "var/lib/rpm/Packages.db"}


def _image_path(key: str) -> str:
    name = key.rsplit("/", 1)[1]
    if name in _DB_PATH:
        return _DB_PATH[name]
    if name == "invalid" or name.endswith(".sqlite"):
        return "var/lib/rpm/rpmdb.sqlite"
    return "var/lib/rpm/Packages"


def _evr(p: dict[str, Any]) -> str:
    v = p["version"]
    if p.get("release"):
        v = f"{v}-{p['release']}"
    return f"{p['epoch']}:{v}" if p.get("epoch") else v


def _cases() -> list[Any]:
    return [
        pytest.param(key, case, id=f"{key}:{case['case']}")
        for key, fx in load_expected(CORPUS, "rpm").items()
        for case in fx["cases"]
    ]


@pytest.mark.parametrize(("key", "case"), _cases())
def test_fixture_matches_oracle(key: str, case: dict[str, Any]) -> None:
    result = run_analyzer(RpmAnalyzer(), _image_path(key), (RPM / key).read_bytes())
    if case.get("expect_error"):
        assert not result.packages
        assert result.gaps and result.gaps[0].where == _image_path(key)
        return
    assert not result.gaps
    by_name = {p.name: p for p in result.packages}
    for exp in case["packages"]:
        pkg = by_name[exp["name"]]
        assert pkg.version == _evr(exp)
        meta = dict(pkg.metadata)
        if "arch" in exp:
            assert pkg.arch == exp["arch"]
        if "sourceRpm" in exp:
            assert meta["source_rpm"] == exp["sourceRpm"]
            assert pkg.source_name == split_source_rpm(exp["sourceRpm"])[0]
        if "vendor" in exp:
            assert meta["vendor"] == exp["vendor"]
        if "license" in exp:
            assert pkg.licenses == (exp["license"],)
        if exp.get("epoch"):
            assert meta["epoch"] == str(exp["epoch"])
    if len(case["packages"]) > 1:  # a complete listing: the sets must be equal
        assert sorted((p.name, p.version) for p in result.packages) == sorted(
            (p["name"], _evr(p)) for p in case["packages"]
        )


def test_sqlite_full_list_matches_derived_list() -> None:
    fx = load_expected(CORPUS, "rpm")["go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite"]
    result = run_analyzer(
        RpmAnalyzer(), "var/lib/rpm/rpmdb.sqlite", (RPM / "go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite").read_bytes()
    )
    got = [(p.name, p.version, p.arch, dict(p.metadata)["source_rpm"]) for p in result.packages]
    expected = [(p["name"], _evr(p), p["arch"], p["sourceRpm"]) for p in fx["derived_full_list"]]
    assert got == expected
    ca = next(p for p in result.packages if p.name == "ca-certificates-base")
    assert ca.version.startswith("1:") and ca.source_version == "1:2.0.0-1.cm2"


def _rpm_cli(dbfile: Path, tmp_path: Path, backend: str) -> list[tuple[str, str, str, str]]:
    """The system rpm's own reading of a database copied to a private directory."""
    dbdir = tmp_path / "db"
    dbdir.mkdir()
    shutil.copy(dbfile, dbdir / dbfile.name)
    (dbdir / dbfile.name).chmod(0o644)
    out = subprocess.run(
        [
            "rpm",
            "--dbpath",
            str(dbdir),
            "--define",
            f"_db_backend {backend}",
            "-qa",
            "--qf",
            "%{NAME}|%{EPOCHNUM}|%{VERSION}-%{RELEASE}|%{ARCH}|%{SOURCERPM}\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        name, epoch, vr, arch, srpm = line.split("|")
        arch = "" if arch == "(none)" else arch
        rows.append((name, f"{epoch}:{vr}" if epoch != "0" else vr, arch, srpm))
    return sorted(rows)


@pytest.mark.parametrize(
    ("key", "backend", "name"),
    [
        ("go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite", "sqlite", "rpmdb.sqlite"),
        ("go-rpmdb/libuuid/Packages", "bdb_ro", "Packages"),
        ("syft/dive/Packages", "bdb_ro", "Packages"),
        ("scalibr/Packages_epoch", "bdb_ro", "Packages"),
    ],
)
def test_matches_rpm_cli(key: str, backend: str, name: str, tmp_path: Path) -> None:
    """Independent oracle: rpm 4.18 from Debian (sqlite and read-only BerkeleyDB backends)."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(RPM / key, src / name)
    expected = _rpm_cli(src / name, tmp_path, backend)
    assert expected
    pkgs, gaps = read_rpmdb((RPM / key).read_bytes(), "var/lib/rpm/" + name)
    assert not gaps
    got = sorted((p.name, p.version, p.arch, dict(p.metadata).get("source_rpm", "(none)")) for p in pkgs)
    assert got == expected


@pytest.mark.parametrize(
    "key", ["go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite", "go-rpmdb/sle15-bci/Packages.db", "go-rpmdb/libuuid/Packages"]
)
def test_truncated_databases_give_gaps_not_exceptions(key: str) -> None:
    data = (RPM / key).read_bytes()
    full, _ = read_rpmdb(data, "x")
    for cut in (16, 100, 4096, len(data) // 3, len(data) // 2, len(data) - 17):
        pkgs, gaps = read_rpmdb(data[:cut], "var/lib/rpm/x")
        assert gaps, f"truncation at {cut} bytes went unnoticed"
        assert {(p.name, p.version) for p in pkgs} <= {(p.name, p.version) for p in full}


@pytest.mark.parametrize(
    "key", ["go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite", "go-rpmdb/sle15-bci/Packages.db", "go-rpmdb/libuuid/Packages"]
)
def test_garbage_bytes_never_raise(key: str) -> None:
    data = bytearray((RPM / key).read_bytes())
    rng = random.Random(1234)
    for _ in range(25):
        damaged = bytearray(data)
        for _ in range(64):
            damaged[rng.randrange(20, len(damaged))] = rng.randrange(256)
        read_rpmdb(bytes(damaged), "var/lib/rpm/x")  # must not raise


def test_garbage_after_bdb_magic_is_a_gap() -> None:
    data = (RPM / "go-rpmdb/libuuid/Packages").read_bytes()[:64] + bytes(range(256)) * 64
    pkgs, gaps = read_rpmdb(data, "var/lib/rpm/Packages")
    assert not pkgs or gaps


def test_header_bounds_are_checked() -> None:
    with pytest.raises(Exception, match="rpm header"):
        parse_header(b"\x00\x00\x00\x01\x7f\xff\xff\xff" + b"\x00" * 16)
    with pytest.raises(Exception, match="rpm header"):
        # one NAME entry pointing past the data
        parse_header(
            b"\x00\x00\x00\x01\x00\x00\x00\x04" + bytes.fromhex("000003e8 00000006 00000010 00000001") + b"abc\x00"
        )


def test_sysimage_paths_are_claimed() -> None:
    data = (RPM / "go-rpmdb/sle15-bci/Packages.db").read_bytes()
    result = run_analyzer(RpmAnalyzer(), "usr/lib/sysimage/rpm/Packages.db", data)
    assert len(result.packages) == 35


def test_split_source_rpm() -> None:
    assert split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm") == ("util-linux", "2.32.1", "42.el8_8")
    assert split_source_rpm("garbage") == ("", "", "")


def _sqlite_rows() -> list[tuple[int, bytes]]:
    import sqlite3

    data = bytearray((RPM / "go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite").read_bytes())
    data[18] = data[19] = 1  # WAL -> rollback journal so it can be opened in memory
    conn = sqlite3.connect(":memory:")
    conn.deserialize(bytes(data))
    rows = [(int(h), bytes(b)) for h, b in conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")]
    conn.close()
    return rows


@pytest.mark.parametrize(("pagesize", "lorder"), [(4096, 1234), (512, 1234), (16384, 1234), (4096, 4321)])
def test_many_package_bdb_built_by_libdb(pagesize: int, lorder: int, tmp_path: Path) -> None:
    """A 129-package BerkeleyDB hash written by libdb itself (``db5.3_load``), in both byte
    orders and several page sizes (many hash pages, long overflow chains); the oracle is
    the system rpm reading the same file, plus the SQLite original."""
    import struct

    rows = _sqlite_rows()
    lines = ["VERSION=3", "format=bytevalue", "type=hash", "HEADER=END"]
    lines += [" " + struct.pack("<I", 0).hex(), " " + struct.pack("<I", len(rows) + 1).hex()]
    for hnum, blob in rows:
        lines += [" " + struct.pack("<I", hnum).hex(), " " + blob.hex()]
    lines.append("DATA=END")
    (tmp_path / "dump.txt").write_text("\n".join(lines) + "\n")
    db = tmp_path / "Packages"
    subprocess.run(
        [
            "db5.3_load",
            "-f",
            str(tmp_path / "dump.txt"),
            "-c",
            f"db_pagesize={pagesize}",
            "-c",
            f"db_lorder={lorder}",
            str(db),
        ],
        check=True,
        capture_output=True,
    )
    pkgs, gaps = read_rpmdb(db.read_bytes(), "var/lib/rpm/Packages")
    assert not gaps
    got = sorted((p.name, p.version, p.arch, dict(p.metadata)["source_rpm"]) for p in pkgs)
    from_sqlite, _ = read_rpmdb((RPM / "go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite").read_bytes(), "x")
    assert len(got) == len(rows) == 129
    assert got == sorted((p.name, p.version, p.arch, dict(p.metadata)["source_rpm"]) for p in from_sqlite)
    assert got == _rpm_cli(db, tmp_path, "bdb_ro")


def test_imported_signing_keys_are_listed_like_rpm_and_trivy(tmp_path: Path) -> None:
    """``rpm --import`` stores keys as ``gpg-pubkey`` pseudo-packages; rpm -qa and Trivy list them."""
    keys = subprocess.run(
        [
            "gpg",
            "--no-default-keyring",
            "--keyring",
            "/usr/share/keyrings/debian-archive-keyring.gpg",
            "--export",
            "--armor",
        ],
        capture_output=True,
        check=True,
    ).stdout
    (tmp_path / "keys.asc").write_bytes(keys)
    dbdir = tmp_path / "root/var/lib/rpm"
    dbdir.mkdir(parents=True)
    rpm = ["rpm", "--dbpath", str(dbdir), "--define", "_db_backend sqlite"]
    subprocess.run([*rpm, "--initdb"], check=True)
    subprocess.run([*rpm, "--import", str(tmp_path / "keys.asc")], check=True)
    expected = _rpm_cli(dbdir / "rpmdb.sqlite", tmp_path, "sqlite")
    assert len(expected) >= 2 and {row[0] for row in expected} == {"gpg-pubkey"}
    pkgs, gaps = read_rpmdb((dbdir / "rpmdb.sqlite").read_bytes(), "var/lib/rpm/rpmdb.sqlite")
    assert not gaps
    got = sorted((p.name, p.version, p.arch, dict(p.metadata).get("source_rpm", "(none)")) for p in pkgs)
    assert got == expected


MANIFEST_QF = (
    "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{BUILDTIME}\\t%{VENDOR}\\t%{EPOCH}\\t%{SIZE}\\t%{ARCH}"
    "\\t%{EPOCHNUM}\\t%{SOURCERPM}\\n"
)


def test_mariner_distroless_manifest_matches_rpmdb_and_trivy(tmp_path: Path) -> None:
    """The manifest is what Mariner's image build writes with ``rpm -qa --qf``; generate it with
    the system rpm from the real Mariner database, then compare with that database and with Trivy."""
    from lockgate.inventory.os.rpm.manifest import MANIFEST_PATH
    from tests.inventory.test_os_trivy import _scan, _trivy, _trivy_packages

    dbdir = tmp_path / "db"
    dbdir.mkdir()
    shutil.copy(RPM / "go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite", dbdir / "rpmdb.sqlite")
    (dbdir / "rpmdb.sqlite").chmod(0o644)
    manifest = subprocess.run(
        ["rpm", "--dbpath", str(dbdir), "--define", "_db_backend sqlite", "-qa", "--qf", MANIFEST_QF],
        capture_output=True,
        check=True,
    ).stdout
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / MANIFEST_PATH).parent.mkdir(parents=True)
    (root / MANIFEST_PATH).write_bytes(manifest)
    shutil.copy(CORPUS / "pkgdb/os-release/trivy/mariner-2.0", root / "etc/os-release")
    os, packages = _scan(root)
    assert os is not None and os.family == "cbl-mariner"
    from_db, _ = read_rpmdb((RPM / "go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite").read_bytes(), "x")
    assert sorted((p.name, p.version, p.arch, p.source_name, p.source_version) for p in packages) == sorted(
        (p.name, p.version, p.arch, p.source_name, p.source_version) for p in from_db
    )
    assert {(p.name, p.version, p.purl) for p in packages} == _trivy_packages(_trivy(root, tmp_path))


def test_manifest_bad_lines_are_a_gap() -> None:
    from lockgate.inventory.os.rpm.manifest import MANIFEST_PATH, RpmManifestAnalyzer

    good = b"bash\t5.1.8-1.cm2\t1\t1\tMicrosoft Corporation\t(none)\t10\tx86_64\t0\tbash-5.1.8-1.cm2.src.rpm\n"
    result = run_analyzer(RpmManifestAnalyzer(), MANIFEST_PATH, good + b"garbage line\n" + good.replace(b"bash", b"sh"))
    assert [(p.name, p.version, p.source_name) for p in result.packages] == [
        ("bash", "5.1.8-1.cm2", "bash"),
        ("sh", "5.1.8-1.cm2", "sh"),
    ]
    assert len(result.gaps) == 1 and "line 2" in result.gaps[0].reason
