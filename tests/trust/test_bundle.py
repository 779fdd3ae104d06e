"""cosign v3 layout: key-based Sigstore bundles (DSSE, RFC 3161 time) attached as OCI referrers.

Oracles: openssl verifies the DSSE signature over the pre-authentication encoding and the timestamp over
the signature (``openssl ts -verify``); skopeo reads the referrers fallback index in the registry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.fixtures.registry import OCILayout, RunningRegistry, skopeo_inspect_flags, skopeo_raw, unique_repo

from ._helpers import lockgate
from ._tsa import Tsa

BUNDLE_MT = "application/vnd.dev.sigstore.bundle.v0.3+json"


def _digest(ref: str, *flags: str) -> str:
    return "sha256:" + hashlib.sha256(skopeo_raw("inspect", "--raw", *flags, ref)).hexdigest()


def _layout_bundles(layout: OCILayout, digest: str) -> list[tuple[dict[str, Any], bytes]]:
    out = []
    for e in json.loads((layout.path / "index.json").read_text())["manifests"]:
        m = json.loads((layout.path / "blobs" / "sha256" / e["digest"].split(":")[1]).read_bytes())
        if m.get("subject", {}).get("digest") == digest and m.get("artifactType") == BUNDLE_MT:
            layer = m["layers"][0]
            out.append((m, (layout.path / "blobs" / "sha256" / layer["digest"].split(":")[1]).read_bytes()))
    return out


def test_bundle_in_layout(layout: OCILayout, trust_keys: dict[str, Path], tsa: Tsa, tmp_path: Path) -> None:
    r = lockgate("sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.key", "--bundle", "--tsa", tsa.url)
    assert r.returncode == 0, r.stderr
    digest = _digest(f"oci:{layout.path}:v1")
    assert "sha256-" not in (layout.path / "index.json").read_text()  # no legacy .sig tag in bundle mode
    [(manifest, raw)] = _layout_bundles(layout, digest)
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert manifest["layers"][0]["mediaType"] == BUNDLE_MT
    assert manifest["annotations"]["dev.sigstore.bundle.predicateType"] == "https://sigstore.dev/cosign/sign/v1"
    b = json.loads(raw)
    assert b["mediaType"] == BUNDLE_MT
    env = b["dsseEnvelope"]
    statement = base64.b64decode(env["payload"])
    st = json.loads(statement)
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["subject"][0]["digest"] == {"sha256": digest.split(":")[1]}
    # openssl: ECDSA over SHA-256 of DSSE PAE
    pt = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(pt), pt, len(statement), statement)
    (tmp_path / "pae").write_bytes(pae)
    sig = base64.b64decode(env["signatures"][0]["sig"])
    (tmp_path / "sig").write_bytes(sig)
    ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", f"{trust_keys['alice']}.pub", "-signature",
                         str(tmp_path / "sig"), str(tmp_path / "pae")], capture_output=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    tsr = base64.b64decode(
        b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]
    )
    (tmp_path / "r.tsr").write_bytes(tsr)
    ts = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "sig"), "-in", str(tmp_path / "r.tsr"),
                         "-CAfile", str(tsa.root), "-untrusted", str(tsa.chain)],
                        capture_output=True, check=False)  # fmt: skip
    assert ts.returncode == 0, ts.stderr

    v = lockgate("verify", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.pub",
                 "--tsa-cert-chain", str(tsa.chain), "-f", "json")  # fmt: skip
    assert v.returncode == 0, v.stderr
    [check] = json.loads(v.stdout)["signatures"]
    assert check["source"] == "bundle" and check["ok"] and check["signed_at"]
    wrong = lockgate("verify", f"oci:{layout.path}:v1", "--key", f"{trust_keys['mallory']}.pub")
    assert wrong.returncode == 1 and "does not verify" in wrong.stderr
    replay = lockgate("verify", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.pub",
                      "--identity", "registry.example.com/elsewhere")  # fmt: skip
    assert replay.returncode == 1 and "replayed" in replay.stderr


def test_bundle_needs_tsa(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    r = lockgate("sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.key", "--bundle")
    assert r.returncode == 2 and "--tsa" in r.stderr


def test_bundle_in_registry(registry: RunningRegistry, small_image: OCILayout, skopeo_push: Any,
                            trust_keys: dict[str, Path], tsa: Tsa) -> None:  # fmt: skip
    repo = unique_repo("trust/bundle")
    digest = skopeo_push(small_image, registry, repo, "v1")
    ref = registry.ref(repo, "v1")
    r = lockgate("sign", ref, "--key", f"{trust_keys['bob']}.key", "--bundle", "--tsa", tsa.url)
    assert r.returncode == 0, r.stderr
    index = json.loads(skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(registry),
                                  f"docker://{registry.ref(repo, digest.replace(':', '-'))}"))  # fmt: skip
    assert [m["artifactType"] for m in index["manifests"]] == [BUNDLE_MT]
    v = lockgate("verify", ref, "--key", f"{trust_keys['bob']}.pub", "--tsa-cert-chain", str(tsa.chain))
    assert v.returncode == 0, v.stderr
    # the referrer's subject is the signed image
    m = json.loads(skopeo_raw("inspect", "--raw", *skopeo_inspect_flags(registry),
                              f"docker://{registry.ref(repo, index['manifests'][0]['digest'])}"))  # fmt: skip
    assert m["subject"]["digest"] == digest


def test_tampered_bundles_fail(trust_keys: dict[str, Path]) -> None:
    import pytest

    from lockgate.errors import InputError, IntegrityError
    from lockgate.trust.bundle import (
        assemble_bundle,
        make_statement,
        parse_keyed_bundle,
        sign_statement,
        verify_keyed_bundle,
    )
    from lockgate.trust.keys.files import load_public_key
    from lockgate.trust.keys.resolve import load_signer

    from ._helpers import PASSWORD

    signer = load_signer(f"{trust_keys['alice']}.key", lambda: PASSWORD.encode())
    pub = load_public_key(Path(f"{trust_keys['alice']}.pub"))
    digest = "sha256:" + "ab" * 32
    statement = make_statement("reg.example/app", digest)
    sig = sign_statement(statement, signer)
    good = parse_keyed_bundle(assemble_bundle(statement, pub.key_id, sig, None))
    assert verify_keyed_bundle(good, [pub], digest)[0].key_id == pub.key_id
    with pytest.raises(IntegrityError, match="subject"):
        verify_keyed_bundle(good, [pub], "sha256:" + "cd" * 32)
    other = make_statement("reg.example/app", "sha256:" + "cd" * 32)
    swapped = parse_keyed_bundle(assemble_bundle(other, pub.key_id, sig, None))
    with pytest.raises(IntegrityError, match="does not verify"):
        verify_keyed_bundle(swapped, [pub], "sha256:" + "cd" * 32)
    doc = json.loads(assemble_bundle(statement, pub.key_id, sig, None))
    doc["dsseEnvelope"]["payloadType"] = "text/plain"
    with pytest.raises(IntegrityError, match="payload type"):
        verify_keyed_bundle(parse_keyed_bundle(json.dumps(doc).encode()), [pub], digest)
    doc["verificationMaterial"] = {"certificate": {"rawBytes": "AAAA"}}
    with pytest.raises(InputError, match="certificate-based"):
        parse_keyed_bundle(json.dumps(doc).encode())
    with pytest.raises(InputError):
        parse_keyed_bundle(b"[]")


def test_blob_bundle_round_trip(trust_keys: dict[str, Path], tsa: Tsa, tmp_path: Path) -> None:
    blob = tmp_path / "release.tar"
    blob.write_bytes(b"release" * 5000)
    out = tmp_path / "release.sigstore.json"
    r = lockgate("sign-blob", str(blob), "--key", f"{trust_keys['carol']}.key", "--bundle", str(out), "--tsa", tsa.url,
                 "-o", str(tmp_path / "release.sig"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    b = json.loads(out.read_text())
    assert b["mediaType"] == BUNDLE_MT
    ms = b["messageSignature"]
    assert ms["messageDigest"] == {
        "algorithm": "SHA2_256",
        "digest": base64.b64encode(hashlib.sha256(blob.read_bytes()).digest()).decode(),
    }
    assert base64.b64decode(ms["signature"]) == base64.b64decode((tmp_path / "release.sig").read_bytes())
    (tmp_path / "sig").write_bytes(base64.b64decode(ms["signature"]))
    ossl = subprocess.run(["openssl", "dgst", "-sha384", "-verify", f"{trust_keys['carol']}.pub", "-signature",
                           str(tmp_path / "sig"), str(blob)], capture_output=True, check=False)  # fmt: skip
    assert ossl.returncode == 0, ossl.stderr
    args = ["verify-blob", str(blob), "--key", f"{trust_keys['carol']}.pub", "--bundle", str(out)]
    ok = lockgate(*args, "--tsa-cert-chain", str(tsa.chain))
    assert ok.returncode == 0, ok.stderr
    assert " at 20" in ok.stderr  # the trusted time is reported
    blob.write_bytes(blob.read_bytes() + b"!")
    bad = lockgate(*args)
    assert bad.returncode == 1 and "digest does not match" in bad.stderr
    wrong = lockgate("verify-blob", str(tmp_path / "sig"), "--key", f"{trust_keys['alice']}.pub", "--bundle", str(out))
    assert wrong.returncode == 1
    needs = lockgate("sign-blob", str(blob), "--key", f"{trust_keys['carol']}.key", "--tsa", tsa.url)
    assert needs.returncode == 2 and "--bundle" in needs.stderr
