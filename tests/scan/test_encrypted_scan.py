"""Scanning encrypted images: decrypted on the fly with --decryption-key, otherwise coverage gaps."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.scan.conftest import ScanEnv, lockgate


def _keys(tmp_path: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv, pub = tmp_path / "priv.pem", tmp_path / "pub.pem"
    priv.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return priv, pub


def _findings(doc: dict) -> set[tuple[str, str]]:
    return {(f["package"]["name"], f["id"]) for f in doc["findings"] if f["kind"] == "vulnerability"}


def test_scan_encrypted_image_with_and_without_key(scan_env: ScanEnv, tmp_path: Path) -> None:
    priv, pub = _keys(tmp_path)
    enc = tmp_path / "enc"
    # skopeo (the ocicrypt reference) encrypts; lockgate must read what it wrote.
    subprocess.run(
        ["skopeo", "copy", "--encryption-key", f"jwe:{pub}", f"oci:{scan_env.oci_dir}:demo", f"oci:{enc}:demo"],
        check=True,
        capture_output=True,
    )
    common = ["--db", str(scan_env.db), "--db-max-age", "36500d", "--scanners", "vuln", "-f", "json"]
    plain = json.loads(lockgate("scan", "image", scan_env.image, *common).stdout)

    r = lockgate("scan", "image", f"oci:{enc}:demo", *common, "--decryption-key", str(priv))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert _findings(doc) == _findings(plain) and _findings(plain)
    assert doc["gaps"] == []

    r = lockgate("scan", "image", f"oci:{enc}:demo", *common)
    assert r.returncode == 1  # the unreadable layer is a coverage gap, which fails without --allow-incomplete
    doc = json.loads(r.stdout)
    assert doc["gaps"] and "encrypt" in json.dumps(doc["gaps"]).lower()
    assert _findings(doc) == set()

    (tmp_path / "other").mkdir()
    other, _ = _keys(tmp_path / "other")
    r = lockgate("scan", "image", f"oci:{enc}:demo", *common, "--decryption-key", str(other))
    assert r.returncode in (1, 3) and "Traceback" not in r.stderr
