"""Hostile signature manifests: every bad layer is a one-line rejection, never a crash or a hang."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from lockgate.trust.image import verify_image
from lockgate.trust.keys.files import load_public_key
from tests.fixtures.registry import OCILayout, skopeo_raw

from ._helpers import lockgate

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"


def _put_blob(layout: OCILayout, data: bytes) -> dict[str, Any]:
    d = hashlib.sha256(data).hexdigest()
    (layout.path / "blobs" / "sha256" / d).write_bytes(data)
    return {"digest": f"sha256:{d}", "size": len(data)}


def _write_sig(layout: OCILayout, layers: list[dict[str, Any]]) -> None:
    raw = skopeo_raw("inspect", "--raw", f"oci:{layout.path}:v1")
    tag = "sha256-" + hashlib.sha256(raw).hexdigest() + ".sig"
    cfg = _put_blob(layout, b"{}")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg},
                           "layers": layers}).encode()  # fmt: skip
    m = _put_blob(layout, manifest)
    index = json.loads((layout.path / "index.json").read_text())
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", **m,
                               "annotations": {"org.opencontainers.image.ref.name": tag}})  # fmt: skip
    (layout.path / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize(
    ("layer", "reason"),
    [
        ({"mediaType": "text/plain"}, "not a simple-signing payload"),
        ({"mediaType": SIMPLESIGNING}, "no dev.cosignproject.cosign/signature"),
        ({"mediaType": SIMPLESIGNING, "annotations": {"dev.cosignproject.cosign/signature": "%%%"}}, "not base64"),
        (
            {"mediaType": SIMPLESIGNING, "annotations": {"dev.cosignproject.cosign/signature": "AAAA"}},
            "does not verify",
        ),
    ],
)
def test_bad_layers_rejected(
    layout: OCILayout, trust_keys: dict[str, Path], layer: dict[str, Any], reason: str
) -> None:
    blob = _put_blob(layout, b'{"critical": {}}')
    _write_sig(layout, [{**blob, **layer}])
    res = verify_image(f"oci:{layout.path}:v1", [load_public_key(Path(f"{trust_keys['alice']}.pub"))])
    assert [c.ok for c in res.checks] == [False]
    assert reason in res.checks[0].reason


def test_payload_size_lie_and_missing_blob(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    ann = {"dev.cosignproject.cosign/signature": "AAAA"}
    real = _put_blob(layout, b"x" * 10)
    _write_sig(layout, [
        {"mediaType": SIMPLESIGNING, "digest": real["digest"], "size": 10**9, "annotations": ann},
        {"mediaType": SIMPLESIGNING, "digest": "sha256:" + "ab" * 32, "size": 5, "annotations": ann},
    ])  # fmt: skip
    res = verify_image(f"oci:{layout.path}:v1", [load_public_key(Path(f"{trust_keys['alice']}.pub"))])
    assert [c.ok for c in res.checks] == [False, False]
    assert "limit" in res.checks[0].reason
    assert res.checks[1].reason.startswith("payload:")


def test_too_many_signatures_are_capped(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    ann = {"dev.cosignproject.cosign/signature": "AAAA"}
    blob = _put_blob(layout, b"{}")
    _write_sig(layout, [{"mediaType": SIMPLESIGNING, **blob, "annotations": ann}] * 100)
    res = verify_image(f"oci:{layout.path}:v1", [load_public_key(Path(f"{trust_keys['alice']}.pub"))])
    assert len(res.checks) == 64
    assert any("only the first 64" in n for n in res.notes)


def test_signature_over_non_json_payload(layout: OCILayout, trust_keys: dict[str, Path]) -> None:
    """A validly signed payload that is not a simple-signing document is refused with the key named."""
    import base64

    from lockgate.trust.keys.resolve import load_signer

    from ._helpers import PASSWORD

    payload = b"not json at all"
    signer = load_signer(f"{trust_keys['alice']}.key", lambda: PASSWORD.encode())
    blob = _put_blob(layout, payload)
    ann = {"dev.cosignproject.cosign/signature": base64.b64encode(signer.sign(payload)).decode()}
    _write_sig(layout, [{"mediaType": SIMPLESIGNING, **blob, "annotations": ann}])
    r = lockgate("verify", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.pub")
    assert r.returncode == 1
    assert "not JSON" in r.stderr and "Traceback" not in r.stderr
