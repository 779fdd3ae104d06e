"""``-f json`` and ``-o FILE`` of the trust commands: the documents they print, checked against oracles.

Key IDs are recomputed with ``openssl`` (SHA-256 of the DER SubjectPublicKeyInfo), signatures are
verified with ``openssl dgst``, image digests and signature manifests are read back with ``skopeo``.
Everything runs the real CLI in a subprocess.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.registry import OCILayout, build_oci_image
from tests.trust._helpers import lockgate


def openssl_key_id(pub: Path) -> str:
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(pub), "-outform", "DER"], capture_output=True, check=True
    ).stdout
    return hashlib.sha256(der).hexdigest()


def openssl_verifies(pub: Path, data: Path, signature: bytes, tmp: Path) -> bool:
    sig = tmp / "sig.der"
    sig.write_bytes(signature)
    r = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", str(pub), "-signature", str(sig), str(data)],
        capture_output=True,
        check=False,
    )
    return r.returncode == 0


def ok_json(r: subprocess.CompletedProcess[str]) -> object:
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two ECDSA P-256 key pairs written by ``key generate -f json``."""
    d = tmp_path_factory.mktemp("cli-keys")
    out = {}
    for name in ("alice", "mallory"):
        doc = ok_json(lockgate("key", "generate", "--out", str(d / name), "-f", "json"))
        assert isinstance(doc, dict)
        out[name] = d / name
    return out


@pytest.fixture
def image(tmp_path: Path) -> OCILayout:
    return build_oci_image(tmp_path / "img", [{"etc/app.conf": b"mode=prod\n"}], "v1")


def test_key_generate_json_names_the_files_and_the_openssl_key_id(tmp_path: Path) -> None:
    for alg, name in (("ecdsa-p256", "ecdsa-p256"), ("ed25519", "ed25519"), ("rsa-3072", "rsa-3072")):
        prefix = tmp_path / alg
        doc = ok_json(lockgate("key", "generate", "--out", str(prefix), "--algorithm", alg, "-f", "json"))
        assert isinstance(doc, dict)
        assert doc["algorithm"] == name
        assert Path(doc["private_key"]) == prefix.with_suffix(".key") and prefix.with_suffix(".key").is_file()
        assert Path(doc["public_key"]) == prefix.with_suffix(".pub")
        assert doc["key_id"] == openssl_key_id(prefix.with_suffix(".pub"))
        assert len(doc["intoto_keyid"]) == 64 and doc["intoto_keyid"] != doc["key_id"]


def test_key_generate_table_line_and_output_file(tmp_path: Path) -> None:
    r = lockgate("key", "generate", "--out", str(tmp_path / "k"), "-o", str(tmp_path / "k.txt"))
    assert r.returncode == 0 and r.stdout == ""
    line = (tmp_path / "k.txt").read_text()
    assert line.split() == [openssl_key_id(tmp_path / "k.pub"), "ecdsa-p256", str(tmp_path / "k.pub")]


def test_key_import_json_for_an_openssl_key(tmp_path: Path) -> None:
    pem = tmp_path / "ed.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(pem)], check=True)
    doc = ok_json(lockgate("key", "import", str(pem), "--out", str(tmp_path / "imp"), "-f", "json"))
    assert isinstance(doc, dict)
    pub = subprocess.run(["openssl", "pkey", "-in", str(pem), "-pubout"], capture_output=True, check=True).stdout
    (tmp_path / "expected.pub").write_bytes(pub)
    assert doc["algorithm"] == "ed25519"
    assert doc["key_id"] == openssl_key_id(tmp_path / "expected.pub")
    assert Path(doc["public_key"]).read_bytes().strip() == pub.strip()


def test_key_list_json_to_a_file(tmp_path: Path) -> None:
    """Keys generated into the keyring (no --out) are listed, in JSON, into -o FILE."""
    ids = set()
    for alg in ("ecdsa-p384", "ed25519"):
        doc = ok_json(lockgate("key", "generate", "--algorithm", alg, "-f", "json"))
        assert isinstance(doc, dict)
        ids.add(doc["key_id"])
    r = lockgate("key", "list", "-f", "json", "-o", str(tmp_path / "keys.json"))
    assert r.returncode == 0 and r.stdout == ""
    rows = json.loads((tmp_path / "keys.json").read_text())
    by_id = {row["key_id"]: row for row in rows}
    assert ids <= set(by_id)
    for kid in ids:
        assert openssl_key_id(Path(by_id[kid]["file"])) == kid
    table = lockgate("key", "list")
    assert all(kid in table.stdout for kid in ids)


def test_sign_blob_json_signature_verifies_with_openssl(keys: dict[str, Path], tmp_path: Path) -> None:
    blob = tmp_path / "release.tar"
    blob.write_bytes(b"release bytes\n" * 1000)
    doc = ok_json(lockgate("sign-blob", str(blob), "--key", f"{keys['alice']}.key", "-f", "json"))
    assert isinstance(doc, dict)
    assert doc["digest"] == "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest()
    assert doc["key_id"] == openssl_key_id(keys["alice"].with_suffix(".pub"))
    sig = base64.b64decode(doc["signature"])
    assert openssl_verifies(keys["alice"].with_suffix(".pub"), blob, sig, tmp_path)
    assert not openssl_verifies(keys["mallory"].with_suffix(".pub"), blob, sig, tmp_path)


def test_sign_blob_output_flags(keys: dict[str, Path], tmp_path: Path) -> None:
    """Table mode keeps cosign's meaning of -o (the signature); with -f json, -o gets the document and
    --output-signature the signature."""
    blob = tmp_path / "b.txt"
    blob.write_text("payload\n")
    key = f"{keys['alice']}.key"
    pub = keys["alice"].with_suffix(".pub")
    r = lockgate("sign-blob", str(blob), "--key", key, "-o", str(tmp_path / "plain.sig"))
    assert r.returncode == 0 and r.stdout == ""
    assert openssl_verifies(pub, blob, base64.b64decode((tmp_path / "plain.sig").read_bytes()), tmp_path)
    r = lockgate(
        "sign-blob", str(blob), "--key", key, "-f", "json",
        "-o", str(tmp_path / "doc.json"), "--output-signature", str(tmp_path / "b.sig"),
    )  # fmt: skip
    assert r.returncode == 0 and r.stdout == ""
    doc = json.loads((tmp_path / "doc.json").read_text())
    assert doc["signature_file"] == str(tmp_path / "b.sig")
    assert (tmp_path / "b.sig").read_text() == doc["signature"]
    assert openssl_verifies(pub, blob, base64.b64decode(doc["signature"]), tmp_path)
    both = lockgate("sign-blob", str(blob), "--key", key, "-o", "x", "--output-signature", "y")
    assert both.returncode == 2 and "give one" in both.stderr


def test_verify_blob_json_pass_and_fail(keys: dict[str, Path], tmp_path: Path) -> None:
    blob = tmp_path / "b.txt"
    blob.write_text("payload\n")
    sig = tmp_path / "b.sig"
    r = lockgate("sign-blob", str(blob), "--key", f"{keys['alice']}.key", "-o", str(sig))
    assert r.returncode == 0
    pub = str(keys["alice"].with_suffix(".pub"))
    good = lockgate("verify-blob", str(blob), "--key", pub, "--signature", str(sig), "-f", "json")
    doc = ok_json(good)
    assert doc == {
        "file": str(blob),
        "verified": True,
        "key_id": openssl_key_id(Path(pub)),
        "identity": None,
        "issuer": None,
        "signed_at": None,
    }
    assert "Verified OK" in good.stderr
    blob.write_text("payload, tampered\n")
    out = tmp_path / "result.json"
    bad = lockgate("verify-blob", str(blob), "--key", pub, "--signature", str(sig), "-f", "json", "-o", str(out))
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("lockgate: error: verification failed")
    failed = json.loads(out.read_text())
    assert failed["verified"] is False and failed["file"] == str(blob) and failed["reason"]


def test_verify_blob_table_output_file_for_an_openssl_signature(tmp_path: Path) -> None:
    """Key, signature and signature file all made by openssl; lockgate only verifies."""
    blob = tmp_path / "b.txt"
    blob.write_text("x\n")
    key, pub, raw = tmp_path / "k.pem", tmp_path / "k.pub", tmp_path / "b.der"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True)
    subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key), "-out", str(raw), str(blob)], check=True)
    (tmp_path / "b.sig").write_bytes(base64.b64encode(raw.read_bytes()))
    out = tmp_path / "o.txt"
    r = lockgate("verify-blob", str(blob), "--key", str(pub), "--signature", str(tmp_path / "b.sig"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert out.read_text() == f"Verified OK: {blob} signed by key {openssl_key_id(pub)}\n"


def test_sign_json_points_at_a_signature_skopeo_reads(keys: dict[str, Path], image: OCILayout, tmp_path: Path) -> None:
    doc = ok_json(lockgate("sign", image.skopeo_ref, "--key", f"{keys['alice']}.key", "-f", "json"))
    assert isinstance(doc, dict) and doc["image"] == image.skopeo_ref
    [row] = doc["signatures"]
    raw = subprocess.run(["skopeo", "inspect", "--raw", image.skopeo_ref], capture_output=True, check=True).stdout
    assert row["digest"] == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert row["key_id"] == openssl_key_id(keys["alice"].with_suffix(".pub"))
    sig_manifest = json.loads(
        subprocess.run(["skopeo", "inspect", "--raw", row["stored_at"]], capture_output=True, check=True).stdout
    )
    layer = sig_manifest["layers"][0]
    payload = image.path / "blobs" / "sha256" / layer["digest"].removeprefix("sha256:")
    sig = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
    assert openssl_verifies(keys["alice"].with_suffix(".pub"), payload, sig, tmp_path)
    table = lockgate("sign", image.skopeo_ref, "--key", f"{keys['alice']}.key", "-o", str(tmp_path / "t.txt"))
    assert table.returncode == 0 and table.stdout == ""
    assert (tmp_path / "t.txt").read_text().startswith(f"{row['digest']}  signed by {row['key_id']}")


def test_verify_json_to_a_file_on_pass_and_on_failure(keys: dict[str, Path], image: OCILayout, tmp_path: Path) -> None:
    assert lockgate("sign", image.skopeo_ref, "--key", f"{keys['alice']}.key").returncode == 0
    out = tmp_path / "v.json"
    ok = lockgate("verify", image.skopeo_ref, "--key", f"{keys['alice']}.pub", "-f", "json", "-o", str(out))
    assert ok.returncode == 0 and ok.stdout == ""
    doc = json.loads(out.read_text())
    raw = subprocess.run(["skopeo", "inspect", "--raw", image.skopeo_ref], capture_output=True, check=True).stdout
    assert doc["digest"] == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert doc["verified_keys"] == [openssl_key_id(keys["alice"].with_suffix(".pub"))]
    bad = lockgate("verify", image.skopeo_ref, "--key", f"{keys['mallory']}.pub", "-f", "json", "-o", str(out))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    failed = json.loads(out.read_text())
    assert failed["verified_keys"] == [] and failed["signatures"] and not failed["signatures"][0]["ok"]
    table = lockgate("verify", image.skopeo_ref, "--key", f"{keys['alice']}.pub", "-o", str(tmp_path / "v.txt"))
    assert table.returncode == 0 and table.stdout == ""
    assert f"verified by key {doc['verified_keys'][0]}" in (tmp_path / "v.txt").read_text()


def test_key_revoke_json_and_its_effect(keys: dict[str, Path], tmp_path: Path) -> None:
    blob = tmp_path / "b.txt"
    blob.write_text("x\n")
    sig = tmp_path / "b.sig"
    assert lockgate("sign-blob", str(blob), "--key", f"{keys['mallory']}.key", "-o", str(sig)).returncode == 0
    rl = tmp_path / "revoked.json"
    pub = keys["mallory"].with_suffix(".pub")
    doc = ok_json(lockgate("key", "revoke", str(pub), "--reason", "leaked", "--list", str(rl), "-f", "json"))
    assert isinstance(doc, dict)
    assert doc["list"] == str(rl) and doc["version"] == 1 and doc["signed"] is False
    assert [r["key_id"] for r in doc["revoked"]] == [openssl_key_id(pub)]
    assert doc["revoked"][0]["reason"] == "leaked"
    assert json.loads(rl.read_text())["signed"]["version"] == 1
    r = lockgate("verify-blob", str(blob), "--key", str(pub), "--signature", str(sig), "--revocations", str(rl))
    assert r.returncode == 1 and "revoked" in r.stderr


def test_format_not_offered_is_a_usage_error(keys: dict[str, Path], tmp_path: Path) -> None:
    for argv in (
        ("key", "list", "-f", "sarif"),
        ("verify-blob", str(tmp_path), "--key", f"{keys['alice']}.pub", "-f", "cyclonedx"),
        ("key", "generate", "--out", str(tmp_path / "k"), "-f", "html"),
    ):
        r = lockgate(*argv)
        assert r.returncode == 2 and "does not support --format" in r.stderr, (argv, r.stderr)
    assert not (tmp_path / "k.key").exists()


def test_output_into_a_missing_directory_writes_nothing(keys: dict[str, Path], tmp_path: Path) -> None:
    r = lockgate("key", "list", "-f", "json", "-o", str(tmp_path / "no" / "such" / "keys.json"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    assert list(tmp_path.iterdir()) == []
