"""The ``lockgate db`` commands, run as a user would (subprocess), on corpus feeds."""

from __future__ import annotations

import datetime as dt
import hashlib
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
    assert status["cvss_scores_stored"] is True
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
    assert "cvss:        scores computed at import" in r.stdout
    con = sqlite3.connect(db)
    con.execute("DROP TABLE cvss")  # what a database built before the scores were stored looks like
    con.commit()
    con.close()
    r = run("db", "status", "--db", str(db), "-f", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["cvss_scores_stored"] is False
    assert "scored while matching" in run("db", "status", "--db", str(db)).stdout


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


def _db_files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def test_a_path_that_is_no_feed_is_an_error_and_changes_nothing(corpus: Path, tmp_path: Path) -> None:
    """Unusable PATHs (random bytes, a JSON that is no feed, nothing to read) fail with exit 3 and one
    line, with or without --replace, alone or next to a good feed; the database stays byte for byte."""
    dbdir = tmp_path / "db"
    dbdir.mkdir()
    db = dbdir / "v.db"
    assert run("db", "import", "--db", str(db), str(corpus / "alpine-secdb/v3.3/main.json")).returncode == 0
    before = _db_files(dbdir)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "random.bin").write_bytes(bytes(range(256)) * 8)
    (junk / "config.json").write_text('{"name": "not an advisory", "version": 1}\n')
    (junk / "empty").mkdir()
    (junk / "mixed").mkdir()
    (junk / "mixed" / "a.json").write_text("[1, 2, 3]\n")
    (junk / "mixed" / "b.yaml").write_text("key: [unclosed\n")
    cases = {
        "random.bin": "not an advisory feed (not UTF-8 text)",
        "config.json": "not an advisory feed (not an OSV, Alpine secdb, Debian tracker or NVD document)",
        "empty": "no advisory documents found",
        "mixed": "no advisory feed found (2 documents skipped",
    }
    good = str(corpus / "debian-dsa/data/DTSA/list")
    for name, message in cases.items():
        bad = str(junk / name)
        for argv in ([bad], ["--replace", bad], [good, bad], ["-f", "json", bad]):
            r = run("db", "import", "--db", str(db), *argv)
            assert r.returncode == 3, (argv, r.stdout, r.stderr)
            assert r.stdout == "" and r.stderr.count("\n") == 1, r.stderr
            assert r.stderr.startswith(f"lockgate: error: {bad}: {message}"), r.stderr
            assert _db_files(dbdir) == before  # no change, no temporary file left behind
    # a feed with invalid records inside is still imported, the records reported and skipped
    r = run("db", "import", "--db", str(db), str(corpus / "alpine-secdb/v3.10/main.json"))
    assert r.returncode == 0, r.stderr
    assert "skipped:" in r.stderr and "malformed CVE id" in r.stderr
    skipped = r.stderr.count("skipped:")
    assert f"(alpine-secdb), {skipped} skipped\n" in r.stdout


def test_output_file_and_quiet(corpus: Path, tmp_path: Path) -> None:
    """-o moves the result off stdout, -q silences the skipped-record chatter, neither changes the result."""
    db = str(tmp_path / "v.db")
    feed = str(corpus / "alpine-secdb/v3.10/main.json")
    out = tmp_path / "import.txt"
    r = run("-q", "db", "import", "--db", db, feed, "-o", str(out))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    text = out.read_text()
    assert text.endswith(" records imported\n") and "alpine-secdb" in text
    loud = run("db", "import", "--db", db, feed)
    assert loud.stdout == text and "skipped:" in loud.stderr
    r = run("-q", "db", "import", "--db", db, feed, "-f", "json", "-o", str(tmp_path / "import.json"))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    doc = json.loads((tmp_path / "import.json").read_text())
    assert doc["records"] == int(text.rsplit(": ", 1)[1].split()[0])
    assert text.count("skipped") == 1 and f", {len(doc['feeds'][0]['invalid'])} skipped\n" in text
    count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM advisories").fetchone()[0]
    r = run("db", "status", "--db", db, "-f", "json", "-o", str(tmp_path / "status.json"))
    assert r.returncode == 0 and r.stdout == ""
    assert json.loads((tmp_path / "status.json").read_text())["advisories"] == count
    r = run("db", "status", "--db", db, "-o", str(tmp_path / "status.txt"))
    assert r.returncode == 0 and r.stdout == ""
    assert f"advisories:  {count}  " in (tmp_path / "status.txt").read_text()
    r = run("db", "status", "--db", db, "-o", str(tmp_path / "no/such/dir/s.txt"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    # a bad -o is found before anything is imported
    r = run("db", "import", "--db", str(tmp_path / "new.db"), feed, "-o", str(tmp_path / "no/such/dir/i.txt"))
    assert r.returncode == 2 and not (tmp_path / "new.db").exists()


def test_update_json_and_output(corpus: Path, tmp_path: Path, bucket: tuple[_Bucket, str]) -> None:  # noqa: F811
    b, url = bucket
    files = _go_files(corpus, 7)
    b.files["/Go/all.zip"] = _zip(files)
    db = str(tmp_path / "u.db")
    out = tmp_path / "update.json"
    r = run("-q", "db", "update", "--db", db, "--source", url, "-e", "Go", "-f", "json", "-o", str(out))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    doc = json.loads(out.read_text())
    assert doc["db"] == db and doc["source"] == url
    [go] = doc["ecosystems"]
    ids = {json.loads(f.read_text())["id"] for f in files}
    assert go["ecosystem"] == "Go" and go["status"] == "updated" and go["url"] == f"{url}/Go/all.zip"
    assert go["records"] == len(ids) and go["invalid"] == [] and go["downloaded_bytes"] == len(b.files["/Go/all.zip"])
    r = run("db", "update", "--db", db, "--source", url, "-f", "json")
    assert r.returncode == 0, r.stderr
    assert [e["status"] for e in json.loads(r.stdout)["ecosystems"]] == ["not-modified"]
    r = run("db", "update", "--db", db, "--source", url, "-o", str(tmp_path / "update.txt"))
    assert r.returncode == 0 and r.stdout == ""
    assert (tmp_path / "update.txt").read_text() == f"Go: not modified\ndatabase {db} updated\n"


def test_export_json_and_output(corpus: Path, tmp_path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    """The printed digest is the one skopeo computes over the pushed manifest."""
    from tests.fixtures.registry import unique_repo

    src = tmp_path / "src.db"
    assert run("db", "import", "--db", str(src), str(corpus / "alpine-secdb/v3.3/main.json")).returncode == 0
    ref = f"{registry.host}/{unique_repo('lockgate/vulndb')}:v1"
    out = tmp_path / "export.json"
    r = run("-q", "db", "export", "--db", str(src), "--insecure", ref, "-f", "json", "-o", str(out))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], capture_output=True, check=True
    ).stdout
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    assert json.loads(out.read_text()) == {"db": str(src), "reference": ref, "digest": digest}
    r = run("db", "import", "--db", str(tmp_path / "pulled.db"), "--insecure", "--oci", ref, "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"db": str(tmp_path / "pulled.db"), "source": ref, "digest": digest}
    assert (tmp_path / "pulled.db").read_bytes() == src.read_bytes()
    r = run("db", "export", "--db", str(src), "--insecure", ref, "-o", str(tmp_path / "export.txt"))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == f"exported {src} -> {ref}\n"
    assert (tmp_path / "export.txt").read_text() == f"{ref.rsplit(':', 1)[0]}@{digest}\n"
