"""Adding and removing recipients rewraps layer keys only: layer blobs keep their digests.

skopeo (the oracle) decrypts the results with the added key; removed keys must stop working.
"""

from __future__ import annotations

from pathlib import Path

from lockgate.encryption.image import encrypt_image, rewrap_image
from lockgate.encryption.keys import parse_key, parse_recipient
from lockgate.oci.targets import open_destination, open_source
from tests.encryption._helpers import KeyPair, lockgate, skopeo, top_manifest


def _layer_digests(layout: Path) -> list[str]:
    return [layer["digest"] for layer in top_manifest(layout)[1]["layers"]]


def test_add_recipient_without_reencrypting(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    enc, added = tmp_path / "enc", tmp_path / "added"
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{enc}:v1", "-r", f"jwe:{keys['rsa'].pub}")
    assert r.returncode == 0, r.stderr
    r = lockgate(
        "encrypt", f"oci:{enc}:v1", f"oci:{added}:v1",
        "--add-recipient", f"jwe:{keys['ec256'].pub}", "--key", str(keys["rsa"].priv),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert _layer_digests(added) == _layer_digests(enc)
    for k in ("rsa", "ec256"):
        p = skopeo("copy", "-q", "--decryption-key", str(keys[k].pkcs8), f"oci:{added}:v1", f"oci:{tmp_path}/d-{k}:v1")
        assert p.returncode == 0, p.stderr
        assert top_manifest(tmp_path / f"d-{k}")[1] == top_manifest(plain)[1]
    p = skopeo("copy", "-q", "--decryption-key", str(keys["ec256"].pkcs8), f"oci:{enc}:v1", f"oci:{tmp_path}/no:v1")
    assert p.returncode != 0


def test_add_recipient_needs_a_current_key(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    enc = tmp_path / "enc"
    assert lockgate("encrypt", f"oci:{plain}:v1", f"oci:{enc}:v1", "-r", f"jwe:{keys['rsa'].pub}").returncode == 0
    r = lockgate(
        "encrypt", f"oci:{enc}:v1", f"oci:{tmp_path}/x:v1",
        "--add-recipient", f"jwe:{keys['ec256'].pub}", "--key", str(keys["rsa2"].priv),
    )  # fmt: skip
    assert r.returncode == 3 and "none of the given keys can decrypt" in r.stderr
    assert not (tmp_path / "x").exists()


def test_remove_recipient(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    enc, out = tmp_path / "enc", tmp_path / "out"
    encrypt_image(
        open_source(f"oci:{plain}:v1"),
        lambda: open_destination(f"oci:{enc}:v1"),
        [parse_recipient(f"jwe:{keys[k].pub}") for k in ("rsa", "ec256", "ec384")],
    )
    rewrap_image(
        open_source(f"oci:{enc}:v1"),
        lambda: open_destination(f"oci:{out}:v1"),
        [],
        remove=[parse_recipient(f"jwe:{keys['ec256'].pub}")],
    )
    assert _layer_digests(out) == _layer_digests(enc)
    bad = skopeo("copy", "-q", "--decryption-key", str(keys["ec256"].pkcs8), f"oci:{out}:v1", f"oci:{tmp_path}/b:v1")
    assert bad.returncode != 0
    for k in ("rsa", "ec384"):
        p = skopeo("copy", "-q", "--decryption-key", str(keys[k].pkcs8), f"oci:{out}:v1", f"oci:{tmp_path}/g-{k}:v1")
        assert p.returncode == 0, p.stderr
    # removing the last recipient is refused
    r = lockgate(
        "encrypt", f"oci:{out}:v1", f"oci:{tmp_path}/none:v1",
        "--remove-recipient", f"jwe:{keys['rsa'].pub}", "--remove-recipient", f"jwe:{keys['ec384'].pub}",
    )  # fmt: skip
    assert r.returncode == 2 and "without any recipient" in r.stderr
    assert parse_key(str(keys["rsa"].priv))


def test_remove_kidless_recipient_by_private_key(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    """skopeo writes no kid; naming the recipient by its private key finds its entry by trial."""
    enc, out = tmp_path / "enc", tmp_path / "out"
    p = skopeo(
        "copy", "-q", "--encryption-key", f"jwe:{keys['rsa'].pub}", "--encryption-key", f"jwe:{keys['ec256'].pub}",
        f"oci:{plain}:v1", f"oci:{enc}:v1",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", f"jwe:{keys['rsa'].pub}")
    assert r.returncode == 2 and "name kid-less JWE recipients by their private key" in r.stderr
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", f"jwe:{keys['rsa'].priv}")
    assert r.returncode == 0, r.stderr
    assert _layer_digests(out) == _layer_digests(enc)
    bad = skopeo("copy", "-q", "--decryption-key", str(keys["rsa"].pkcs8), f"oci:{out}:v1", f"oci:{tmp_path}/b:v1")
    assert bad.returncode != 0
    ok = skopeo("copy", "-q", "--decryption-key", str(keys["ec256"].pkcs8), f"oci:{out}:v1", f"oci:{tmp_path}/g:v1")
    assert ok.returncode == 0, ok.stderr
    assert top_manifest(tmp_path / "g")[1] == top_manifest(plain)[1]
