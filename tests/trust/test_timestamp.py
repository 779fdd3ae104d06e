"""RFC 3161 timestamps on image signatures (cosign's ``rfc3161timestamp`` annotation) and revocation cut-offs.

The TSA is ``openssl ts -reply`` (fixture ``tsa``); ``openssl ts -verify`` independently checks what
lockgate stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fixtures.registry import OCILayout, skopeo, skopeo_raw

from ._helpers import lockgate
from ._tsa import Tsa

TS_ANN = "dev.sigstore.cosign/rfc3161timestamp"


def _sig_layers(layout: OCILayout, tag: str = "v1") -> list[dict[str, object]]:
    raw = skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{tag}")
    sig_tag = "sha256-" + hashlib.sha256(raw).hexdigest() + ".sig"
    return json.loads(skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{sig_tag}"))["layers"]  # type: ignore[no-any-return]


def test_timestamped_signature_is_cosign_shaped_and_verifies(
    layout: OCILayout, trust_keys: dict[str, Path], tsa: Tsa, tmp_path: Path
) -> None:
    r = lockgate("sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.key", "--tsa", tsa.url)
    assert r.returncode == 0, r.stderr
    layer = _sig_layers(layout)[0]
    ann = layer["annotations"]
    assert isinstance(ann, dict)
    doc = json.loads(ann[TS_ANN])
    assert list(doc) == ["SignedRFC3161Timestamp"]
    (tmp_path / "r.tsr").write_bytes(base64.b64decode(doc["SignedRFC3161Timestamp"]))
    (tmp_path / "sig").write_bytes(base64.b64decode(ann["dev.cosignproject.cosign/signature"]))
    ossl = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(tmp_path / "sig"), "-in", str(tmp_path / "r.tsr"),
         "-CAfile", str(tsa.root), "-untrusted", str(tsa.chain)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ossl.returncode == 0, ossl.stdout + ossl.stderr
    v = lockgate("verify", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.pub",
                 "--tsa-cert-chain", str(tsa.chain), "-f", "json")  # fmt: skip
    assert v.returncode == 0, v.stderr
    signed_at = json.loads(v.stdout)["signatures"][0]["signed_at"]
    assert abs(datetime.fromisoformat(signed_at) - datetime.now(UTC)) < timedelta(minutes=5)


def test_timestamp_of_another_signature_fails(layout: OCILayout, trust_keys: dict[str, Path], tsa: Tsa) -> None:
    assert (
        lockgate("sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.key", "--tsa", tsa.url).returncode
        == 0
    )
    assert (
        lockgate("sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['carol']}.key", "--tsa", tsa.url).returncode
        == 0
    )
    # swap the two timestamps: each now covers the other signature
    raw = skopeo_raw("inspect", "--raw", f"oci:{layout.path}:v1")
    sig_tag = "sha256-" + hashlib.sha256(raw).hexdigest() + ".sig"
    m = json.loads(skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{sig_tag}"))
    a, b = m["layers"][0]["annotations"], m["layers"][1]["annotations"]
    a[TS_ANN], b[TS_ANN] = b[TS_ANN], a[TS_ANN]
    blob = json.dumps(m).encode()
    d = hashlib.sha256(blob).hexdigest()
    (layout.path / "blobs" / "sha256" / d).write_bytes(blob)
    index = json.loads((layout.path / "index.json").read_text())
    for e in index["manifests"]:
        if e.get("annotations", {}).get("org.opencontainers.image.ref.name") == sig_tag:
            e["digest"], e["size"] = f"sha256:{d}", len(blob)
    (layout.path / "index.json").write_text(json.dumps(index))
    v = lockgate("verify", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.pub",
                 "--tsa-cert-chain", str(tsa.chain))  # fmt: skip
    assert v.returncode == 1
    assert "timestamp does not verify" in v.stderr


def test_revocation_cutoff_uses_trusted_time(
    layout: OCILayout, other_layout: OCILayout, trust_keys: dict[str, Path], tsa: Tsa
) -> None:
    key = f"{trust_keys['alice']}.key"
    assert lockgate("sign", f"oci:{layout.path}:v1", "--key", key, "--tsa", tsa.url).returncode == 0
    assert lockgate("sign", f"oci:{other_layout.path}:v1", "--key", key).returncode == 0
    since = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    while datetime.now(UTC) <= since:
        time.sleep(0.2)
    r = lockgate("key", "revoke", f"{trust_keys['alice']}.pub", "--reason", "rotated", "--since", since.isoformat())
    assert r.returncode == 0, r.stderr
    pub = ("--key", f"{trust_keys['alice']}.pub")
    chain = ("--tsa-cert-chain", str(tsa.chain))
    # timestamped before the cut-off: still valid
    ok = lockgate("verify", f"oci:{layout.path}:v1", *pub, *chain)
    assert ok.returncode == 0, ok.stderr
    # without trusting the TSA there is no trusted time: counts as signed now, after the cut-off
    no_chain = lockgate("verify", f"oci:{layout.path}:v1", *pub)
    assert no_chain.returncode == 1 and "revoked" in no_chain.stderr
    # never timestamped: refused
    untimed = lockgate("verify", f"oci:{other_layout.path}:v1", *pub, *chain)
    assert untimed.returncode == 1 and "revoked" in untimed.stderr


def test_unreachable_tsa_is_runtime_error(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = lockgate(
        "sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.key", "--tsa", f"http://127.0.0.1:{port}/"
    )
    assert r.returncode == 3 and "unreachable" in r.stderr
    # nothing was written
    assert "sha256-" not in (layout.path / "index.json").read_text()
    skopeo("inspect", "--raw", f"oci:{layout.path}:v1")
