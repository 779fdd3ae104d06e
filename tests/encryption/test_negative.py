"""Wrong keys, tampering and truncation: clear lockgate errors and no output at all.

Images are encrypted by skopeo (the oracle) and then altered the way a hostile registry could: blobs
re-digested so only the HMAC can catch them, annotations edited, blobs truncated.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from lockgate.encryption.image import decrypt_image, encrypt_image
from lockgate.encryption.keys import parse_key, parse_recipient
from lockgate.errors import ConfigError, InputError, IntegrityError
from lockgate.oci.targets import open_destination, open_source
from tests.encryption._helpers import KeyPair, lockgate, skopeo, top_manifest, write_manifest

PUBOPTS = "org.opencontainers.image.enc.pubopts"
JWE = "org.opencontainers.image.enc.keys.jwe"


@pytest.fixture
def enc(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> Path:
    out = tmp_path / "enc"
    proc = skopeo("copy", "-q", "--encryption-key", f"jwe:{keys['rsa'].pub}", f"oci:{plain}:v1", f"oci:{out}:v1")
    assert proc.returncode == 0, proc.stderr
    return out


def _decrypt(enc: Path, dst: Path, key: KeyPair) -> str:
    return decrypt_image(
        open_source(f"oci:{enc}:v1"), lambda: open_destination(f"oci:{dst}:v1"), [parse_key(str(key.priv))]
    )


def _assert_no_output(dst: Path, cache: Path) -> None:
    assert not dst.exists()
    staged = list((cache / "encryption").rglob("*")) if (cache / "encryption").exists() else []
    assert staged == []  # staging cleaned up


def _cache() -> Path:
    import os

    return Path(os.environ["LOCKGATE_CACHE_DIR"])


def test_wrong_key(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    with pytest.raises(IntegrityError, match="none of the given keys can decrypt layer 0"):
        _decrypt(enc, tmp_path / "out", keys["rsa2"])
    _assert_no_output(tmp_path / "out", _cache())


def test_tampered_ciphertext_is_caught_by_hmac(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    _, m = top_manifest(enc)
    layer = m["layers"][1]
    blob = bytearray((enc / "blobs/sha256" / layer["digest"][7:]).read_bytes())
    blob[len(blob) // 2] ^= 0x01
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    (enc / "blobs/sha256" / digest[7:]).write_bytes(bytes(blob))
    layer["digest"] = digest
    write_manifest(enc, m)
    with pytest.raises(IntegrityError, match="HMAC mismatch"):
        _decrypt(enc, tmp_path / "out", keys["rsa"])
    _assert_no_output(tmp_path / "out", _cache())


def test_tampered_pubopts(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    _, m = top_manifest(enc)
    pub = json.loads(base64.b64decode(m["layers"][0]["annotations"][PUBOPTS]))
    pub["hmac"] = base64.b64encode(hashlib.sha256(b"forged").digest()).decode()
    m["layers"][0]["annotations"][PUBOPTS] = base64.b64encode(json.dumps(pub).encode()).decode()
    write_manifest(enc, m)
    with pytest.raises(IntegrityError, match="HMAC mismatch"):
        _decrypt(enc, tmp_path / "out", keys["rsa"])
    _assert_no_output(tmp_path / "out", _cache())


def test_tampered_wrapped_key(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    _, m = top_manifest(enc)
    jwe = json.loads(base64.b64decode(m["layers"][0]["annotations"][JWE]))
    ct = bytearray(base64.urlsafe_b64decode(jwe["ciphertext"] + "=="))
    ct[3] ^= 0x80
    jwe["ciphertext"] = base64.urlsafe_b64encode(bytes(ct)).rstrip(b"=").decode()
    m["layers"][0]["annotations"][JWE] = base64.b64encode(json.dumps(jwe).encode()).decode()
    write_manifest(enc, m)
    with pytest.raises(IntegrityError, match="none of the given keys can decrypt layer 0"):
        _decrypt(enc, tmp_path / "out", keys["rsa"])
    _assert_no_output(tmp_path / "out", _cache())


def test_missing_recipient_annotation(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    _, m = top_manifest(enc)
    del m["layers"][1]["annotations"][JWE]
    write_manifest(enc, m)
    with pytest.raises(InputError, match=r"layer 1 .* has no wrapped-key annotations"):
        _decrypt(enc, tmp_path / "out", keys["rsa"])
    _assert_no_output(tmp_path / "out", _cache())


def test_truncated_layer(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    _, m = top_manifest(enc)
    path = enc / "blobs/sha256" / m["layers"][1]["digest"][7:]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IntegrityError, match="truncated"):
        _decrypt(enc, tmp_path / "out", keys["rsa"])
    _assert_no_output(tmp_path / "out", _cache())


def test_docker_archive_destination_refused(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    with pytest.raises(ConfigError, match="docker-archive cannot hold encrypted layers"):
        encrypt_image(
            open_source(f"oci:{plain}:v1"),
            lambda: open_destination(f"docker-archive:{tmp_path}/x.tar:lockgate/x:v1"),
            [parse_recipient(f"jwe:{keys['rsa'].pub}")],
        )
    assert not (tmp_path / "x.tar").exists()


def test_cli_errors_are_one_line(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    r = lockgate("decrypt", f"oci:{enc}:v1", f"oci:{tmp_path}/out:v1", "--key", str(keys["ec256"].priv))
    assert r.returncode == 3
    assert r.stderr.startswith("lockgate: error: none of the given keys can decrypt") and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{tmp_path}/out:v1", "-r", "jwe:/nonexistent.pem")
    assert r.returncode == 3 and "not found" in r.stderr
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{tmp_path}/out:v1", "-r", f"jwe:{keys['rsa'].pub}")
    assert r.returncode == 2 and "nothing to encrypt" in r.stderr
    r = lockgate("decrypt", f"oci:{enc}:v1", f"oci:{tmp_path}/out:v1", "--key", f"{keys['rsa'].pub}")
    assert r.returncode == 2 and "not a PEM or DER private key" in r.stderr
    assert not (tmp_path / "out").exists()


def test_wrapped_keys_swapped_between_layers(tmp_path: Path, enc: Path, keys: dict[str, KeyPair]) -> None:
    """Valid wrapped keys from another layer do not open this layer's ciphertext."""
    _, m = top_manifest(enc)
    a, b = m["layers"][0]["annotations"], m["layers"][1]["annotations"]
    a[JWE], b[JWE] = b[JWE], a[JWE]
    write_manifest(enc, m)
    with pytest.raises(IntegrityError, match="HMAC mismatch"):
        _decrypt(enc, tmp_path / "out", keys["rsa"])
    _assert_no_output(tmp_path / "out", _cache())
