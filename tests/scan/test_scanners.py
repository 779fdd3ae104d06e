"""Secret, malware and image-hardening scanners through ``lockgate scan image|fs``."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.fixtures.images import build_image
from tests.scan.conftest import lockgate

# Built from two pieces so this file is not itself an EICAR sample.
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _image(tmp_path: Path, pem: str) -> str:
    l1, l2 = tmp_path / "l1", tmp_path / "l2"
    (l1 / "app").mkdir(parents=True)
    (l1 / "app/deploy.key").write_text(pem)
    (l1 / "app/readme.txt").write_text("nothing to see\n")
    (l1 / "tmp").mkdir()
    (l1 / "tmp/sample.com").write_text(EICAR)
    (l2 / "app").mkdir(parents=True)
    (l2 / "app/.wh.deploy.key").write_text("")
    img = build_image(tmp_path / "img", l1, l2, tag="t", env=("API_PASSWORD=hunter2-" + "x" * 12,))
    return f"oci:{img.oci_dir}:t"


def _scan(ref: str, *args: str) -> tuple[int, dict, str]:
    r = lockgate("scan", "image", ref, "-f", "json", *args)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else {}), r.stderr


def test_default_scanners_find_deleted_secret_with_its_layer(tmp_path: Path) -> None:
    pem = _pem()
    ref = _image(tmp_path, pem)
    rc, doc, err = _scan(ref, "--scanners", "secret")
    assert rc == 0, err
    secrets = [f for f in doc["findings"] if f["kind"] == "secret"]
    key = [f for f in secrets if f["location"].get("path", "").endswith("app/deploy.key")]
    assert key, secrets
    diff_ids = doc["metadata"]["diff_ids"].split(",")
    assert key[0]["location"]["layer"] == diff_ids[0]  # the lower layer shipped it, though layer 2 deleted it
    body = pem.splitlines()[1]
    assert body not in json.dumps(doc)  # the secret itself never appears
    assert doc["packages"] == []  # only the secret scanner ran


def test_malware_and_hardening_scanners(tmp_path: Path) -> None:
    ref = _image(tmp_path, _pem())
    rc, doc, err = _scan(ref, "--scanners", "malware,misconfig", "--fail-on", "HIGH")
    assert rc == 1, err
    malware = [f for f in doc["findings"] if f["kind"] == "malware"]
    assert any(f["location"]["path"].endswith("tmp/sample.com") for f in malware)
    ids = {f["id"] for f in doc["findings"] if f["kind"] == "misconfiguration"}
    assert "LG-IMG-001" in ids  # no USER: runs as root
    assert not [f for f in doc["findings"] if f["kind"] == "secret"]


def test_scan_fs_with_misconfig_and_secrets(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s/pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: c\n      image: nginx\n      securityContext: {privileged: true}\n"
    )
    (tmp_path / "id_ecdsa").write_text(_pem())
    r = lockgate("scan", "fs", str(tmp_path), "--scanners", "misconfig,secret", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    kinds = {(f["kind"], f["id"]) for f in doc["findings"]}
    assert ("misconfiguration", "PSS-privileged") in kinds
    assert any(k == "secret" for k, _ in kinds)


def test_policy_secrets_section_adds_custom_rules_and_allow_lists(tmp_path: Path) -> None:
    """Custom secret rules and allow-lists come from the one policy file's ``secrets:`` section."""
    (tmp_path / "l1/app").mkdir(parents=True)
    (tmp_path / "l1/app/settings.ini").write_text("internal_token = acme_live_0123456789abcdef\n")
    (tmp_path / "l1/app/keys").mkdir()
    (tmp_path / "l1/app/keys/id_ecdsa").write_text(_pem())
    img = build_image(tmp_path / "img", tmp_path / "l1", tag="t")
    ref = f"oci:{img.oci_dir}:t"
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "secrets:\n"
        "  fail_on: HIGH\n"
        "  rules:\n"
        "    - {id: acme-token, title: ACME live token, severity: CRITICAL, regex: 'acme_live_[0-9a-f]{16}',"
        " keywords: [acme_live_]}\n"
        "  allow:\n"
        "    - {id: deploy-keys, path: '^app/keys/'}\n"
    )
    rc, doc, err = _scan(ref, "--scanners", "secret", "--policy", str(policy))
    assert rc == 1, err  # the custom CRITICAL rule fails the gate
    ids = {(f["id"], f["location"]["path"]) for f in doc["findings"]}
    assert ("acme-token", "app/settings.ini") in ids
    assert not any(p.startswith("app/keys/") for _, p in ids)  # allow-listed
    assert "0123456789abcdef" not in json.dumps(doc)
    rc, doc, _ = _scan(ref, "--scanners", "secret")
    assert any(f["location"]["path"] == "app/keys/id_ecdsa" for f in doc["findings"])  # built-ins only
    assert not any(f["id"] == "acme-token" for f in doc["findings"])


def test_malware_scan_reports_binaries_no_package_owns(tmp_path: Path, debian_rootfs: Path) -> None:
    """An ELF dropped into /usr/bin by a later layer is owned by no dpkg package: reported (LOW)."""
    import shutil

    extra = tmp_path / "extra"
    (extra / "usr/bin").mkdir(parents=True)
    shutil.copy2("/bin/true", extra / "usr/bin/kworkerd")
    img = build_image(tmp_path / "img", debian_rootfs, extra, tag="t", slim=True)
    rc, doc, err = _scan(f"oci:{img.oci_dir}:t", "--scanners", "malware")
    assert rc == 0, err
    unowned = [f for f in doc["findings"] if f["id"] == "unowned-system-binary"]
    assert [f["location"]["path"] for f in unowned] == ["usr/bin/kworkerd"]
    assert unowned[0]["severity"] == "LOW"
