"""JWE-encrypted images against skopeo (the ocicrypt oracle), both directions, OCI layouts and a real registry.

Decrypted images must be byte-identical to the originals: same manifest digest, same layer digests.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lockgate.encryption.image import decrypt_image, encrypt_image
from lockgate.encryption.keys import parse_key, parse_recipient
from lockgate.oci.targets import open_destination, open_source
from tests.encryption._helpers import KeyPair, lockgate, make_plain_image, skopeo, top_manifest

ENC_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"


def _ok(proc: object) -> None:
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize("alg", ["rsa", "ec256", "ec384"])
def test_skopeo_encrypts_lockgate_decrypts(tmp_path: Path, plain: Path, keys: dict[str, KeyPair], alg: str) -> None:
    _, plain_m = top_manifest(plain)
    _ok(skopeo("copy", "-q", "--encryption-key", f"jwe:{keys[alg].pub}", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1"))
    _, enc_m = top_manifest(tmp_path / "enc")
    assert [layer["mediaType"] for layer in enc_m["layers"]] == [ENC_GZIP, ENC_GZIP]
    # lockgate reads the SEC1/PKCS#1 key skopeo itself would refuse for EC
    got = decrypt_image(
        open_source(f"oci:{tmp_path}/enc:v1"),
        lambda: open_destination(f"oci:{tmp_path}/dec:v1"),
        [parse_key(str(keys[alg].priv))],
    )
    _, dec_m = top_manifest(tmp_path / "dec")
    assert dec_m == plain_m  # same config and layer digests, sizes and media types
    # and byte-identical to what skopeo's own decryption writes
    _ok(
        skopeo("copy", "-q", "--decryption-key", str(keys[alg].pkcs8), f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/s:v1")
    )
    assert got == top_manifest(tmp_path / "s")[0]


@pytest.mark.parametrize("recipients", [["rsa"], ["ec256"], ["ec384"], ["rsa", "ec256"]])
def test_lockgate_encrypts_skopeo_decrypts(
    tmp_path: Path, plain: Path, keys: dict[str, KeyPair], recipients: list[str]
) -> None:
    _, want = top_manifest(plain)
    encrypt_image(
        open_source(f"oci:{plain}:v1"),
        lambda: open_destination(f"oci:{tmp_path}/enc:v1"),
        [parse_recipient(f"jwe:{keys[r].pub}") for r in recipients],
    )
    _, enc_m = top_manifest(tmp_path / "enc")
    assert all(layer["mediaType"].endswith("+encrypted") for layer in enc_m["layers"])
    for i, r in enumerate(recipients):
        out = tmp_path / f"dec{i}"
        _ok(skopeo("copy", "-q", "--decryption-key", str(keys[r].pkcs8), f"oci:{tmp_path}/enc:v1", f"oci:{out}:v1"))
        assert top_manifest(out)[1] == want
    bad = skopeo(
        "copy", "-q", "--decryption-key", str(keys["rsa2"].pkcs8), f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/x:v1"
    )
    assert bad.returncode != 0


def _jwe(layer: dict[str, object]) -> dict[str, object]:
    ann = layer["annotations"]
    assert isinstance(ann, dict)
    return json.loads(base64.b64decode(ann["org.opencontainers.image.enc.keys.jwe"]))


def _protected(jwe: dict[str, object]) -> dict[str, object]:
    return json.loads(base64.urlsafe_b64decode(str(jwe["protected"]) + "=="))


def test_jwe_layout_matches_skopeo(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    """Field order and header placement as go-jose writes them, compared with what skopeo wrote."""
    for name, rec in (("one", ["ec256"]), ("two", ["rsa", "ec256"])):
        args = [a for r in rec for a in ("--encryption-key", f"jwe:{keys[r].pub}")]
        _ok(skopeo("copy", "-q", *args, f"oci:{plain}:v1", f"oci:{tmp_path}/s-{name}:v1"))
        encrypt_image(
            open_source(f"oci:{plain}:v1"),
            lambda n=name: open_destination(f"oci:{tmp_path}/l-{n}:v1"),
            [parse_recipient(f"jwe:{keys[r].pub}") for r in rec],
        )
        theirs = _jwe(top_manifest(tmp_path / f"s-{name}")[1]["layers"][0])
        ours = _jwe(top_manifest(tmp_path / f"l-{name}")[1]["layers"][0])
        assert list(ours) == list(theirs)
        tp, op = _protected(theirs), _protected(ours)
        assert {k: v for k, v in op.items() if k not in ("kid", "epk")} == {k: v for k, v in tp.items() if k != "epk"}
        if name == "one":
            assert list(op["epk"]) == list(tp["epk"]) == ["kty", "crv", "x", "y"]  # type: ignore[call-overload]
        else:
            theirs_h = [r["header"]["alg"] for r in theirs["recipients"]]  # type: ignore[attr-defined,index]
            ours_h = [r["header"]["alg"] for r in ours["recipients"]]  # type: ignore[attr-defined,index]
            assert ours_h == theirs_h == ["RSA-OAEP", "ECDH-ES+A256KW"]
            assert ours["encrypted_key"] == ours["recipients"][0]["encrypted_key"]  # type: ignore[index]
        pub = json.loads(
            base64.b64decode(
                top_manifest(tmp_path / f"l-{name}")[1]["layers"][0]["annotations"][
                    "org.opencontainers.image.enc.pubopts"
                ]
            )
        )
        assert list(pub) == ["cipher", "hmac", "cipheroptions"] and pub["cipher"] == "AES_256_CTR_HMAC_SHA256"


def test_corpus_rsa_keys_round_trip(tmp_path: Path, plain: Path, corpus: Path) -> None:
    """ocicrypt's own test key pair: encrypt with the public key, decrypt with the PKCS#1 private key."""
    keydir = corpus / "ocicrypt" / "keys"
    _, want = top_manifest(plain)
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", "-r", f"jwe:{keydir / 'rsa-public.pem'}")
    _ok(r)
    r = lockgate(
        "decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1", "--key", str(keydir / "rsa-private.pem")
    )
    _ok(r)
    assert top_manifest(tmp_path / "dec") == (json.loads(r.stdout)["digest"], want)
    _ok(
        skopeo(
            "copy",
            "-q",
            "--decryption-key",
            str(keydir / "rsa-private.pem"),
            f"oci:{tmp_path}/enc:v1",
            f"oci:{tmp_path}/s:v1",
        )
    )
    assert top_manifest(tmp_path / "s") == top_manifest(tmp_path / "dec")


def test_registry_round_trips(
    tmp_path: Path, keys: dict[str, KeyPair], registry: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lockgate → registry → skopeo, and skopeo → registry → lockgate; the registry keeps encrypted images as is."""
    reg = registry
    plain = make_plain_image(tmp_path / "plain")
    _, want = top_manifest(plain)
    repo = f"lockgate/enc-{tmp_path.name[-8:].lower().replace('_', '-')}"
    ref1 = reg.ref(repo, "lg")  # type: ignore[attr-defined]
    encrypt_image(
        open_source(f"oci:{plain}:v1"),
        lambda: open_destination(ref1, reg.options()),  # type: ignore[attr-defined]
        [parse_recipient(f"jwe:{keys['ec256'].pub}")],
    )
    flags = reg.skopeo_flags("src")  # type: ignore[attr-defined]
    _ok(
        skopeo(
            "copy",
            "-q",
            *flags,
            "--decryption-key",
            str(keys["ec256"].pkcs8),
            f"docker://{ref1}",
            f"oci:{tmp_path}/a:v1",
        )
    )
    assert top_manifest(tmp_path / "a")[1] == want

    ref2 = reg.ref(repo, "sk")  # type: ignore[attr-defined]
    _ok(
        skopeo(
            "copy",
            "-q",
            *reg.skopeo_flags("dest"),
            "--encryption-key",
            f"jwe:{keys['rsa'].pub}",
            f"oci:{plain}:v1",
            f"docker://{ref2}",
        )
    )  # type: ignore[attr-defined]
    got = decrypt_image(
        open_source(ref2, reg.options()),  # type: ignore[attr-defined]
        lambda: open_destination(f"oci:{tmp_path}/b:v1"),
        [parse_key(str(keys["rsa"].priv))],
    )
    assert top_manifest(tmp_path / "b") == (got, want)


def test_archives_and_layer_selection(tmp_path: Path, plain: Path, keys: dict[str, KeyPair]) -> None:
    """docker-archive in, oci-archive out, only the last layer encrypted; decrypt into a docker-archive."""
    _ok(skopeo("copy", "-q", f"oci:{plain}:v1", f"docker-archive:{tmp_path}/in.tar:lockgate/p:v1"))
    src = open_source(f"docker-archive:{tmp_path}/in.tar")
    plain_m = json.loads(src.resolve()[0])  # docker-archive layers are uncompressed tars
    src.close()
    r = lockgate(
        "encrypt", f"docker-archive:{tmp_path}/in.tar", f"oci-archive:{tmp_path}/enc.tar:v1",
        "-r", f"jwe:{keys['ec384'].pub}", "--layer", "-1",
    )  # fmt: skip
    _ok(r)
    src = open_source(f"oci-archive:{tmp_path}/enc.tar:v1")
    layers = json.loads(src.resolve()[0])["layers"]  # read as stored (skopeo would recompress the tar layer)
    src.close()
    assert [la["mediaType"] for la in layers] == [
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+encrypted",
    ]
    assert layers[0]["digest"] == plain_m["layers"][0]["digest"]
    _ok(
        skopeo(
            "copy",
            "-q",
            "--decryption-key",
            str(keys["ec384"].pkcs8),
            f"oci-archive:{tmp_path}/enc.tar:v1",
            f"oci:{tmp_path}/s:v1",
        )
    )
    # skopeo recompresses the plain tar layer on the way into oci:, so compare the layer it decrypted
    assert top_manifest(tmp_path / "s")[1]["layers"][-1]["digest"] == plain_m["layers"][-1]["digest"]
    r = lockgate(
        "decrypt", f"oci-archive:{tmp_path}/enc.tar:v1", f"docker-archive:{tmp_path}/out.tar:lockgate/d:v1",
        "--key", str(keys["ec384"].priv),
    )  # fmt: skip
    _ok(r)
    src = open_source(f"docker-archive:{tmp_path}/out.tar")
    back = json.loads(src.resolve()[0])
    src.close()
    assert [la["digest"] for la in back["layers"]] == [la["digest"] for la in plain_m["layers"]]


def test_platform_from_an_index(tmp_path: Path, keys: dict[str, KeyPair]) -> None:
    """Only the chosen platform's manifest is encrypted and written; skopeo decrypts it."""
    from tests.fixtures.images import TarBuilder, write_layout

    idx = []
    for arch in ("amd64", "arm64"):
        tar = TarBuilder().file(f"etc/{arch}", arch.encode() * 100).bytes()
        write_layout(tmp_path / arch, [tar], tag="v1", arch=arch)
        _, m = top_manifest(tmp_path / arch)
        digest, _ = top_manifest(tmp_path / arch)
        raw = (tmp_path / arch / "blobs/sha256" / digest[7:]).read_bytes()
        idx.append(
            {
                "mediaType": m["mediaType"],
                "digest": digest,
                "size": len(raw),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    multi = tmp_path / "multi"
    (multi / "blobs/sha256").mkdir(parents=True)
    for arch in ("amd64", "arm64"):
        for blob in (tmp_path / arch / "blobs/sha256").iterdir():
            (multi / "blobs/sha256" / blob.name).write_bytes(blob.read_bytes())
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": idx}
    ).encode()
    import hashlib

    index_digest = hashlib.sha256(index).hexdigest()
    (multi / "blobs/sha256" / index_digest).write_bytes(index)
    (multi / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (multi / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + index_digest, "size": len(index),
         "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))  # fmt: skip
    r = lockgate(
        "encrypt",
        f"oci:{multi}:v1",
        f"oci:{tmp_path}/enc:v1",
        "-r",
        f"jwe:{keys['rsa'].pub}",
        "--platform",
        "linux/arm64",
    )
    _ok(r)
    _, enc_m = top_manifest(tmp_path / "enc")
    assert enc_m["config"] == top_manifest(tmp_path / "arm64")[1]["config"]
    assert enc_m["layers"][0]["mediaType"] == ENC_GZIP
    _ok(
        skopeo(
            "copy", "-q", "--decryption-key", str(keys["rsa"].pkcs8), f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1"
        )
    )
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(tmp_path / "arm64")[1]


def test_zstd_layer(tmp_path: Path, keys: dict[str, KeyPair]) -> None:
    """``tar+zstd`` becomes ``tar+zstd+encrypted``; skopeo restores the same zstd blob."""
    from tests.fixtures.images import RawLayer, TarBuilder, write_layout

    tar = TarBuilder().file("srv/data", b"zstd layer " * 2000).bytes()
    write_layout(tmp_path / "plain", [RawLayer(tar, "zstd")], tag="v1")
    _ok(lockgate("encrypt", f"oci:{tmp_path}/plain:v1", f"oci:{tmp_path}/enc:v1", "-r", f"jwe:{keys['ec256'].pub}"))
    assert top_manifest(tmp_path / "enc")[1]["layers"][0]["mediaType"].endswith("tar+zstd+encrypted")
    _ok(
        skopeo(
            "copy",
            "-q",
            "--decryption-key",
            str(keys["ec256"].pkcs8),
            f"oci:{tmp_path}/enc:v1",
            f"oci:{tmp_path}/dec:v1",
        )
    )
    assert top_manifest(tmp_path / "dec")[1]["layers"] == top_manifest(tmp_path / "plain")[1]["layers"]
