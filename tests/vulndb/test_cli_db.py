"""The ``lockgate db`` commands, run as a user would (subprocess), on corpus feeds."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.vulndb.test_update import _Bucket, _go_files, _zip, bucket  # noqa: F401 - fixture re-use


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_import_status_and_age_warning(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    r = run(
        "db", "import", "--db", str(db), str(corpus / "debian-dsa/data/DTSA/list"), str(corpus / "alpine-secdb/v3.3")
    )
    assert r.returncode == 0, r.stderr
    assert "208 records" in r.stdout
    r = run("db", "import", "--db", str(db), str(corpus / "alpine-secdb/v3.10/main.json"), "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["feeds"][0]["kinds"] == ["alpine-secdb"]
    assert any("malformed CVE id" in i["reason"] for i in doc["feeds"][0]["invalid"])
    r = run("db", "status", "--db", str(db), "-f", "json")
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    assert status["schema_version"] == 1
    assert not status["stale"]
    assert {"Debian:4", "Alpine:v3.3", "Alpine:v3.10"} <= set(status["ecosystems"])
    assert len(status["feeds"]) == 3
    assert "warning" not in r.stderr
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = ? WHERE key = 'built_at'", (old,))
    con.commit()
    con.close()
    r = run("db", "status", "--db", str(db))
    assert r.returncode == 0
    assert "warning: advisory database is 2d" in r.stderr
    assert "Debian:4" in r.stdout


def test_default_path_under_cache_dir_and_replace(corpus: Path, tmp_path: Path) -> None:
    env = {"LOCKGATE_CACHE_DIR": str(tmp_path / "cache")}
    assert run("db", "import", str(corpus / "debian-dsa/data/DTSA/list"), env=env).returncode == 0
    assert (tmp_path / "cache/db/lockgate.db").is_file()
    r = run("db", "import", "--replace", str(corpus / "alpine-secdb/v3.3/main.json"), env=env)
    assert r.returncode == 0, r.stderr
    status = json.loads(run("db", "status", "-f", "json", env=env).stdout)
    assert list(status["ecosystems"]) == ["Alpine:v3.3"]


def test_errors_are_one_line(tmp_path: Path) -> None:
    r = run("db", "status", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 3
    assert "Traceback" not in r.stderr
    assert "no advisory database" in r.stderr
    r = run("db", "import", "--db", str(tmp_path / "x.db"), str(tmp_path / "missing"))
    assert r.returncode == 3
    assert "no such file" in r.stderr
    assert not (tmp_path / "x.db").exists()
    r = run("db", "status", "--db", str(tmp_path / "x.db"), "-f", "sarif")
    assert r.returncode == 2


def test_update_command(corpus: Path, tmp_path: Path, bucket: tuple[_Bucket, str]) -> None:  # noqa: F811
    b, url = bucket
    b.files["/Go/all.zip"] = _zip(_go_files(corpus, 12))
    db = str(tmp_path / "u.db")
    r = run("db", "update", "--db", db, "--source", url, "-e", "Go")
    assert r.returncode == 0, r.stderr
    assert "Go: 12 records" in r.stdout
    r = run("db", "update", "--db", db, "--source", url)
    assert r.returncode == 0, r.stderr
    assert "Go: not modified" in r.stdout


def test_export_and_import_as_oci_artifact(corpus: Path, tmp_path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    """Round trip through a real registry (Debian's docker-registry, started by the shared fixture)."""
    from tests.fixtures.registry import unique_repo

    src = tmp_path / "src.db"
    assert run("db", "import", "--db", str(src), str(corpus / "debian-dsa/data/DTSA/list")).returncode == 0
    ref = f"{registry.host}/{unique_repo('lockgate/vulndb')}:v1"
    r = run("db", "export", "--db", str(src), "--insecure", ref)
    assert r.returncode == 0, r.stderr
    dst = tmp_path / "air-gapped" / "lockgate.db"
    r = run("db", "import", "--db", str(dst), "--insecure", "--oci", ref)
    assert r.returncode == 0, r.stderr
    assert dst.read_bytes() == src.read_bytes()
    status = json.loads(run("db", "status", "--db", str(dst), "-f", "json").stdout)
    assert status["advisories"] == 208
    # the manifest is an OCI artifact skopeo can read
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        capture_output=True,
        text=True,
        check=True,
    )
    manifest = json.loads(out.stdout)
    assert manifest["artifactType"] == "application/vnd.lockgate.vulndb.v1"
    # a pull that fails leaves the database as it was
    r = run("db", "import", "--db", str(dst), "--insecure", "--oci", f"{registry.host}/lockgate/none:missing")
    assert r.returncode == 3
    assert "Traceback" not in r.stderr
    assert dst.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dst.parent.iterdir()) == ["lockgate.db"]
