"""``decrypting_source``: what the scanner reads: plain manifests and verified plaintext layer streams."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lockgate.encryption.image import decrypting_source
from lockgate.encryption.keys import parse_key
from lockgate.errors import IntegrityError
from lockgate.oci.copy import open_image
from lockgate.oci.image import ImageSource
from lockgate.oci.targets import open_source
from tests.encryption._helpers import KeyPair, skopeo, top_manifest, write_manifest


@pytest.fixture
def enc(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> Path:
    p = skopeo(
        "copy", "-q", "--encryption-key", f"jwe:{keys['ec256'].pub}", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1"
    )
    assert p.returncode == 0, p.stderr
    return tmp_path / "enc"


def test_plain_view_of_encrypted_image(enc: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    src = decrypting_source(open_source(f"oci:{enc}:v1"), [parse_key(str(keys["ec256"].priv))])
    assert isinstance(src, ImageSource)
    with src:
        image = open_image(src)
        plain_m = top_manifest(plain)[1]
        assert [d.digest for d in image.layers] == [d["digest"] for d in plain_m["layers"]]
        assert [d.media_type for d in image.layers] == [d["mediaType"] for d in plain_m["layers"]]
        assert all(not d.annotations for d in image.layers)
        for d in image.layers:
            with src.open_blob(d) as f:
                data = f.read()
            assert "sha256:" + hashlib.sha256(data).hexdigest() == d.digest
            assert (plain / "blobs/sha256" / d.digest[7:]).read_bytes() == data


def test_unreadable_layers_stay_encrypted_when_not_strict(enc: Path, keys: dict[str, KeyPair]) -> None:
    wrong = [parse_key(str(keys["rsa"].priv))]
    with pytest.raises(IntegrityError, match="none of the given keys"):
        decrypting_source(open_source(f"oci:{enc}:v1"), wrong)
    with decrypting_source(open_source(f"oci:{enc}:v1"), wrong, strict=False) as src:
        layers = open_image(src).layers
        assert all(d.media_type.endswith("+encrypted") for d in layers)


def test_tampered_layer_never_yields_bytes(enc: Path, keys: dict[str, KeyPair]) -> None:
    _, m = top_manifest(enc)
    layer = m["layers"][0]
    blob = bytearray((enc / "blobs/sha256" / layer["digest"][7:]).read_bytes())
    blob[-1] ^= 0xFF
    layer["digest"] = "sha256:" + hashlib.sha256(blob).hexdigest()
    (enc / "blobs/sha256" / layer["digest"][7:]).write_bytes(bytes(blob))
    write_manifest(enc, m)
    with decrypting_source(open_source(f"oci:{enc}:v1"), [parse_key(str(keys["ec256"].pkcs8))]) as src:
        first = open_image(src).layers[0]
        with pytest.raises(IntegrityError, match="HMAC mismatch"):
            src.open_blob(first)


def test_plain_image_passes_through_unchanged(plain: Path, keys: dict[str, KeyPair]) -> None:
    want, _ = top_manifest(plain)
    with decrypting_source(open_source(f"oci:{plain}:v1"), [parse_key(str(keys["rsa"].priv))]) as src:
        raw, _ = src.resolve()
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == want
        assert open_image(src).digest == want
