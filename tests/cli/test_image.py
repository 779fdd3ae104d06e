"""``lockgate image inspect|copy`` through the real CLI (subprocess), skopeo as the oracle."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.registry import RunningRegistry, unique_repo
from tests.oci.helpers import Built, add_index, build, layout_entry, skopeo_config, skopeo_raw_digest


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "lockgate", *args], capture_output=True, check=False)


@pytest.fixture(scope="module")
def img(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("cli-img")
    built = build(base / "a", repo_tag="lockgate/cli:v1", tag="v1")
    build(base / "b", variant="b", tag="arm", arch="arm64", oci=built.oci, repo_tag="lockgate/cli:arm")
    add_index(built.oci, "multi", {"v1": ("amd64", ""), "arm": ("arm64", "v8")})
    return built


def test_inspect_json_matches_skopeo(img: Built) -> None:
    r = run("image", "inspect", img.oci_ref, "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    cfg_digest, diff_ids = skopeo_config(img.oci_ref)
    sk = json.loads(subprocess.run(["skopeo", "inspect", img.oci_ref], capture_output=True, check=True).stdout)
    assert doc["digest"] == skopeo_raw_digest(img.oci_ref) == sk["Digest"]
    assert doc["config"]["digest"] == cfg_digest
    assert [layer["diff_id"] for layer in doc["layers"]] == diff_ids
    assert [layer["digest"] for layer in doc["layers"]] == sk["Layers"]
    assert doc["config"]["env"] == sk["Env"]
    assert doc["config"]["labels"] == sk["Labels"] == {"variant": "a"}
    assert (doc["config"]["os"], doc["config"]["architecture"]) == (sk["Os"], sk["Architecture"])
    assert doc["config"]["cmd"] == ["/bin/sh"]
    assert doc["config"]["history_count"] == 2


def test_inspect_index_lists_platforms_and_selects(img: Built) -> None:
    ref = f"oci:{img.oci}:multi"
    r = run("image", "inspect", ref, "--platform", "linux/arm64", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["digest"] == skopeo_raw_digest(ref)
    assert [p["platform"] for p in doc["platforms"]] == ["linux/amd64", "linux/arm64/v8"]
    assert doc["manifest"]["digest"] == layout_entry(img.oci, "arm")["digest"]
    assert doc["config"]["architecture"] == "arm64"
    table = run("image", "inspect", ref)
    assert table.returncode == 0
    text = table.stdout.decode()
    assert "linux/arm64/v8" in text and str(layout_entry(img.oci, "v1")["digest"]) in text


def test_inspect_raw_prints_stored_bytes(img: Built, tmp_path: Path) -> None:
    r = run("image", "inspect", "--raw", f"oci:{img.oci}:multi")
    assert "sha256:" + hashlib.sha256(r.stdout).hexdigest() == skopeo_raw_digest(f"oci:{img.oci}:multi")
    out = tmp_path / "m.json"
    r = run("image", "inspect", "--raw", "--platform", "linux/arm64", f"oci:{img.oci}:multi", "-o", str(out))
    assert r.returncode == 0 and r.stdout == b""
    assert "sha256:" + hashlib.sha256(out.read_bytes()).hexdigest() == layout_entry(img.oci, "arm")["digest"]


def test_inspect_docker_archive_table(img: Built) -> None:
    r = run("image", "inspect", img.archive_ref)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert skopeo_config(img.archive_ref)[0] in text
    assert "synthesised" in text


def test_copy_json_and_skopeo_reads_result(img: Built, tmp_path: Path) -> None:
    dst = f"docker-archive:{tmp_path / 'o.tar'}:lockgate/o:1"
    r = run("image", "copy", img.oci_ref, dst, "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["digest"] == skopeo_raw_digest(img.oci_ref)
    assert skopeo_config(f"docker-archive:{tmp_path / 'o.tar'}") == skopeo_config(img.oci_ref)
    r = run("image", "copy", "--all-platforms", f"oci:{img.oci}:multi", f"oci-archive:{tmp_path / 'all.tar'}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == skopeo_raw_digest(f"oci-archive:{tmp_path / 'all.tar'}")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("image", "inspect", "Not A Ref!"), 2, "REF: invalid image target"),
        (("image", "inspect", "oci:/nonexistent/x"), 3, "not found"),
        (("image", "inspect", "--platform", "linux", "alpine"), 2, "invalid platform"),
        (("image", "inspect", "-f", "sarif", "alpine"), 2, "does not support --format sarif"),
        (("image", "copy", "--all-platforms", "--platform", "linux/amd64", "oci:/x", "oci:/y"), 2, "exclude"),
        (("image", "copy", "docker-archive:/nonexistent.tar", "oci:/tmp/never"), 3, "not found"),
    ],
)
def test_errors_are_one_line_with_exit_codes(args: tuple[str, ...], code: int, message: str) -> None:
    r = run(*args)
    err = r.stderr.decode()
    assert r.returncode == code, err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_corrupt_blob_exit_3_names_blob(img: Built, tmp_path: Path) -> None:
    import shutil

    oci = tmp_path / "oci"
    shutil.copytree(img.oci, oci)
    doc = json.loads(run("image", "inspect", f"oci:{oci}:v1", "-f", "json").stdout)
    layer = doc["layers"][0]["digest"]
    blob = oci / "blobs" / "sha256" / layer.split(":")[1]
    data = bytearray(blob.read_bytes())
    data[-5] ^= 0x10
    blob.write_bytes(bytes(data))
    r = run("image", "copy", f"oci:{oci}:v1", f"oci:{tmp_path / 'out'}:x")
    assert r.returncode == 3
    err = r.stderr.decode()
    assert layer in err and "Traceback" not in err


def test_copy_to_registry_and_inspect_it(img: Built, registry: RunningRegistry, tmp_path: Path) -> None:
    """A loopback registry speaking plain HTTP needs no flags (lockgate falls back from HTTPS there)."""
    ref = registry.ref(unique_repo(), "v1")
    r = run("image", "copy", "--all-platforms", f"oci:{img.oci}:multi", ref)
    assert r.returncode == 0, r.stderr
    digest = r.stdout.decode().strip()
    assert digest == skopeo_raw_digest(f"oci:{img.oci}:multi")
    sk = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], capture_output=True)
    assert "sha256:" + hashlib.sha256(sk.stdout).hexdigest() == digest
    doc = json.loads(run("image", "inspect", ref, "-f", "json", "--platform", "linux/arm64/v8").stdout)
    assert doc["digest"] == digest
    assert doc["manifest"]["digest"] == layout_entry(img.oci, "arm")["digest"]


def test_copy_with_basic_auth_password_stdin(img: Built, basic_registry: RunningRegistry) -> None:
    ref = basic_registry.ref(unique_repo(), "v1")
    denied = run("image", "copy", img.oci_ref, ref)
    assert denied.returncode == 3 and "Traceback" not in denied.stderr.decode()
    assert basic_registry.username and basic_registry.password
    argv = [sys.executable, "-m", "lockgate", "image", "copy", img.oci_ref, ref]
    r = subprocess.run(
        [*argv, "--username", basic_registry.username, "--password-stdin"],
        input=basic_registry.password.encode() + b"\n",
        capture_output=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == skopeo_raw_digest(img.oci_ref)


def test_inspect_over_mutual_tls(img: Built, mtls_registry: RunningRegistry, tmp_path: Path) -> None:
    ref = mtls_registry.ref(unique_repo(), "v1")
    tls = mtls_registry.tls
    assert tls is not None
    flags = ["--ca-cert", str(tls.ca_cert), "--client-cert", str(tls.client_cert), "--client-key", str(tls.client_key)]
    r = run("image", "copy", img.archive_ref, ref, *flags)
    assert r.returncode == 0, r.stderr
    doc = json.loads(run("image", "inspect", ref, "-f", "json", *flags).stdout)
    assert (doc["config"]["digest"], [x["diff_id"] for x in doc["layers"]]) == tuple(skopeo_config(img.archive_ref))
    without_client_cert = run("image", "inspect", ref, "--ca-cert", str(tls.ca_cert))
    assert without_client_cert.returncode == 3
    assert "Traceback" not in without_client_cert.stderr.decode()


def test_progress_bar_only_on_a_tty_stderr(img: Built, tmp_path: Path) -> None:
    """stderr on a pseudo-terminal shows a progress bar; stdout (a pipe) still carries only the digest."""
    import os
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    argv = [sys.executable, "-m", "lockgate", "image", "copy", img.archive_ref, f"oci:{tmp_path / 'p'}:x"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate()
    os.close(master)
    assert proc.returncode == 0
    assert b"copying" in b"".join(chunks)
    assert out.decode().strip().startswith("sha256:") and len(out.decode().split()) == 1
    piped = run("image", "copy", img.archive_ref, f"oci:{tmp_path / 'q'}:x")
    assert b"copying" not in piped.stderr
