"""Image signing and verification in OCI layouts: cosign's storage shape and the negative matrix.

Oracles: skopeo reads the signature manifest back, openssl verifies the signature over the payload blob.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.registry import OCILayout, skopeo, skopeo_raw

from ._helpers import lockgate

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIG_ANN = "dev.cosignproject.cosign/signature"


def _digest(layout: OCILayout, tag: str | None = None) -> str:
    raw = skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{tag or layout.tag}")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _sig_tag(digest: str) -> str:
    return digest.replace(":", "-") + ".sig"


def _blob(layout: OCILayout, digest: str) -> bytes:
    return (layout.path / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()


def _sig_manifest(layout: OCILayout, digest: str) -> dict[str, Any]:
    return json.loads(skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{_sig_tag(digest)}"))


def _sign(layout: OCILayout, key: Path, *extra: str, tag: str | None = None) -> None:
    r = lockgate("sign", f"oci:{layout.path}:{tag or layout.tag}", "--key", f"{key}.key", *extra)
    assert r.returncode == 0, r.stderr


def _verify(layout: OCILayout, *args: str, tag: str | None = None) -> subprocess.CompletedProcess[str]:
    return lockgate("verify", f"oci:{layout.path}:{tag or layout.tag}", *args)


def test_sign_writes_cosign_signature_manifest(layout: OCILayout, trust_keys: dict[str, Path], tmp_path: Path) -> None:
    _sign(layout, trust_keys["alice"], "-a", "env=prod")
    digest = _digest(layout)
    m = _sig_manifest(layout, digest)
    assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert m["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert len(m["layers"]) == 1
    layer = m["layers"][0]
    assert layer["mediaType"] == SIMPLESIGNING
    payload = _blob(layout, layer["digest"])
    assert hashlib.sha256(payload).hexdigest() == layer["digest"].split(":")[1]
    doc = json.loads(payload)
    assert doc["critical"]["image"]["docker-manifest-digest"] == digest
    assert doc["critical"]["type"] == "cosign container image signature"
    assert doc["critical"]["identity"]["docker-reference"] == str(layout.path.resolve())
    assert doc["optional"]["env"] == "prod"
    # openssl: the annotation is base64 DER ECDSA over SHA-256 of the payload bytes
    (tmp_path / "payload").write_bytes(payload)
    (tmp_path / "sig").write_bytes(base64.b64decode(layer["annotations"][SIG_ANN]))
    ok = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", f"{trust_keys['alice']}.pub", "-signature", str(tmp_path / "sig"),
         str(tmp_path / "payload")],
        capture_output=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    # the signed image itself is untouched and still the one skopeo resolves
    assert _digest(layout) == digest
    v = _verify(layout, "--key", f"{trust_keys['alice']}.pub", "-a", "env=prod", "-f", "json")
    assert v.returncode == 0, v.stderr
    report = json.loads(v.stdout)
    assert report["digest"] == digest
    assert report["verified_keys"] == [hashlib.sha256(_der(trust_keys["alice"])).hexdigest()]


def _der(prefix: Path) -> bytes:
    return subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", f"{prefix}.pub", "-outform", "DER"], capture_output=True, check=True
    ).stdout


def test_second_signer_appends_and_threshold(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    _sign(layout, trust_keys["alice"])
    _sign(layout, trust_keys["bob"])
    m = _sig_manifest(layout, _digest(layout))
    assert [x["mediaType"] for x in m["layers"]] == [SIMPLESIGNING, SIMPLESIGNING]
    keys = ["--key", f"{trust_keys['alice']}.pub", "--key", f"{trust_keys['bob']}.pub"]
    assert _verify(layout, *keys, "--threshold", "2").returncode == 0
    three = _verify(layout, *keys, "--key", f"{trust_keys['carol']}.pub", "--threshold", "3")
    assert three.returncode == 1
    assert "2 of 3" in three.stderr


def test_unsigned_image_fails(other_layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    r = _verify(other_layout, "--key", f"{trust_keys['alice']}.pub")
    assert r.returncode == 1
    assert "no signatures found" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_wrong_key_fails(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    _sign(layout, trust_keys["alice"])
    r = _verify(layout, "--key", f"{trust_keys['mallory']}.pub")
    assert r.returncode == 1
    assert "does not verify" in r.stderr


def test_wrong_annotation_fails(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    _sign(layout, trust_keys["alice"], "-a", "env=prod")
    r = _verify(layout, "--key", f"{trust_keys['alice']}.pub", "-a", "env=dev")
    assert r.returncode == 1
    assert "annotation 'env'" in r.stderr
    r = _verify(layout, "--key", f"{trust_keys['alice']}.pub", "-a", "team=x")
    assert r.returncode == 1 and "missing" in r.stderr


def _rewrite_sig(layout: OCILayout, tag: str, manifest: dict[str, Any]) -> None:
    raw = json.dumps(manifest).encode()
    d = hashlib.sha256(raw).hexdigest()
    (layout.path / "blobs" / "sha256" / d).write_bytes(raw)
    index = json.loads((layout.path / "index.json").read_text())
    index["manifests"] = [
        m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag
    ]
    index["manifests"].append({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{d}", "size": len(raw),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    })  # fmt: skip
    (layout.path / "index.json").write_text(json.dumps(index))


def test_tampered_payload_fails(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    _sign(layout, trust_keys["alice"], "-a", "env=prod")
    digest = _digest(layout)
    m = _sig_manifest(layout, digest)
    payload = json.loads(_blob(layout, m["layers"][0]["digest"]))
    payload["optional"]["env"] = "dev"  # same signature, edited claims
    raw = json.dumps(payload).encode()
    (layout.path / "blobs" / "sha256" / hashlib.sha256(raw).hexdigest()).write_bytes(raw)
    m["layers"][0]["digest"] = "sha256:" + hashlib.sha256(raw).hexdigest()
    m["layers"][0]["size"] = len(raw)
    _rewrite_sig(layout, _sig_tag(digest), m)
    r = _verify(layout, "--key", f"{trust_keys['alice']}.pub", "-a", "env=dev")
    assert r.returncode == 1
    assert "does not verify" in r.stderr


def test_signature_moved_to_another_digest_fails(
    layout: OCILayout, other_layout: OCILayout, trust_keys: dict[str, Path]
) -> None:
    skopeo("copy", "--quiet", f"oci:{other_layout.path}:v1", f"oci:{layout.path}:v2")
    _sign(layout, trust_keys["alice"])
    a, b = _digest(layout), _digest(layout, "v2")
    assert a != b
    _rewrite_sig(layout, _sig_tag(b), _sig_manifest(layout, a))
    r = _verify(layout, "--key", f"{trust_keys['alice']}.pub", tag="v2")
    assert r.returncode == 1
    assert f"payload signs {a}, not {b}" in r.stderr


def test_identity_mismatch_is_replay(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    _sign(layout, trust_keys["alice"], "--identity", "registry.example.com/team/app")
    ok = _verify(layout, "--key", f"{trust_keys['alice']}.pub", "--identity", "registry.example.com/team/app")
    assert ok.returncode == 0, ok.stderr
    r = _verify(layout, "--key", f"{trust_keys['alice']}.pub", "--identity", "registry.example.com/other/app")
    assert r.returncode == 1
    assert "replayed" in r.stderr


def test_revoked_key_refused(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    _sign(layout, trust_keys["alice"])
    args = ("--key", f"{trust_keys['alice']}.pub")
    assert _verify(layout, *args).returncode == 0
    # revoked only from a future date: this signature (timestamped now) still counts
    r = lockgate("key", "revoke", f"{trust_keys['alice']}.pub", "--reason", "rotation", "--since", "2999-01-01")
    assert r.returncode == 0, r.stderr
    assert _verify(layout, *args).returncode == 0
    kid = hashlib.sha256(_der(trust_keys["alice"])).hexdigest()
    r = lockgate("key", "revoke", kid, "--reason", "key leaked")
    assert r.returncode == 0, r.stderr
    v = _verify(layout, *args)
    assert v.returncode == 1
    assert "revoked" in v.stderr and "key leaked" in v.stderr


def test_referrer_in_layout(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    _sign(layout, trust_keys["bob"], "--referrer")
    index = json.loads((layout.path / "index.json").read_text())
    digest = _digest(layout)
    referrers = []
    for entry in index["manifests"]:
        m = json.loads(_blob(layout, entry["digest"]))
        if m.get("subject", {}).get("digest") == digest:
            referrers.append(m)
    assert len(referrers) == 1
    assert referrers[0]["artifactType"] == "application/vnd.dev.cosign.artifact.sig.v1+json"
    assert referrers[0]["layers"][0]["mediaType"] == SIMPLESIGNING
    v = _verify(layout, "--key", f"{trust_keys['bob']}.pub", "-f", "json")
    assert v.returncode == 0, v.stderr
    sources = {s["source"] for s in json.loads(v.stdout)["signatures"] if s["ok"]}
    assert sources == {"tag", "referrer"}


@pytest.mark.parametrize("bad", ["archive", "unsupported"])
def test_sign_refuses_archives_cleanly(tmp_path: Path, trust_keys: dict[str, Path], bad: str) -> None:
    target = f"docker-archive:{tmp_path / 'x.tar'}" if bad == "archive" else "oci-archive:/nonexistent.tar"
    r = lockgate("sign", target, "--key", f"{trust_keys['alice']}.key")
    assert r.returncode in (2, 3)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
