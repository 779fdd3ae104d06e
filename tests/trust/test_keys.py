"""Key formats: cosign's encrypted private keys (corpus vectors and round trips), key IDs, public keys."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import nacl.secret
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from securesystemslib.signer import SSlibKey

from lockgate.errors import InputError, IntegrityError
from lockgate.trust.keys.cosign_format import decrypt_private_key, encrypt_private_key, pem_blocks
from lockgate.trust.keys.files import load_public_key, parse_private_key, parse_public_key
from lockgate.trust.keys.generate import new_private_key
from lockgate.trust.keys.model import PublicKey, intoto_keyid, key_id

from ._helpers import PASSWORD, lockgate

ALGS = ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072"]


@pytest.fixture(scope="module")
def keys_dir(corpus: Path) -> Path:
    return corpus / "cosign" / "keys"


@pytest.mark.parametrize("name", ["cosignkey.key", "sigstorekey.key"])
def test_corpus_cosign_keys_load_with_documented_password(keys_dir: Path, name: str, tmp_path: Path) -> None:
    """Both labels load; the key equals what openssl reads from an independent decryption.

    (The corpus manifest calls cosignkey.key's inner key RSA; openssl shows it is an EC P-256 PKCS#8 key.)
    """
    manifest = json.loads((keys_dir / "manifest.json").read_text())
    data = (keys_dir / name).read_bytes()
    key = decrypt_private_key(data, manifest["password"].encode())
    label = next(v["label"] for v in manifest["vectors"] if v.get("file") == name)
    assert pem_blocks(data)[0][0] == label
    (tmp_path / "k.der").write_bytes(_independent_decrypt(data, manifest["password"].encode()))
    ossl = subprocess.run(
        ["openssl", "pkey", "-inform", "DER", "-in", str(tmp_path / "k.der"), "-pubout", "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    assert key_id(key.public_key()) == hashlib.sha256(ossl).hexdigest()


def test_corpus_sec1_key_is_refused_like_cosign(keys_dir: Path) -> None:
    with pytest.raises(InputError, match="parsing private key"):
        decrypt_private_key((keys_dir / "cosigneckey.key").read_bytes(), b"hello")


@pytest.mark.parametrize("name", ["cosignkey.key", "sigstorekey.key", "cosigneckey.key"])
def test_corpus_keys_wrong_password_fails(keys_dir: Path, name: str) -> None:
    with pytest.raises(IntegrityError, match="wrong password"):
        decrypt_private_key((keys_dir / name).read_bytes(), b"hellO")


def test_random_bytes_fail_to_load() -> None:
    import os

    with pytest.raises(InputError):
        decrypt_private_key(os.urandom(300), b"hello")
    junk = b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + base64.b64encode(os.urandom(90)) + b"\n"
    with pytest.raises(InputError):
        decrypt_private_key(junk + b"-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", b"hello")


def test_hostile_scrypt_parameters_refused() -> None:
    env = {
        "kdf": {"name": "scrypt", "params": {"N": 1 << 30, "r": 8, "p": 1}, "salt": "AAAA"},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(b"x" * 24).decode()},
        "ciphertext": "AAAA",
    }
    pem = b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + base64.b64encode(json.dumps(env).encode())
    with pytest.raises(InputError, match="out of range"):
        decrypt_private_key(pem + b"\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", b"hello")


def _independent_decrypt(pem: bytes, password: bytes) -> bytes:
    """Decrypt the envelope with hashlib.scrypt + PyNaCl directly (not lockgate's code)."""
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    doc = json.loads(base64.b64decode(body))
    p = doc["kdf"]["params"]
    key = hashlib.scrypt(
        password, salt=base64.b64decode(doc["kdf"]["salt"]), n=p["N"], r=p["r"], p=p["p"], maxmem=2**27, dklen=32
    )
    return nacl.secret.SecretBox(key).decrypt(
        base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"])
    )


@pytest.mark.parametrize("alg", ALGS)
def test_written_keys_round_trip_and_match_cosign_envelope(alg: str) -> None:
    key = new_private_key(alg)
    pem = encrypt_private_key(key, b"pw")
    assert pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    doc = json.loads(base64.b64decode(b"".join(pem.splitlines()[1:-1])))
    assert doc["kdf"]["name"] == "scrypt" and doc["cipher"]["name"] == "nacl/secretbox"
    assert doc["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 32
    # the same code path that reads cosign's vectors reads ours
    back = decrypt_private_key(pem, b"pw")
    assert key_id(back.public_key()) == key_id(key.public_key())
    # and an independent implementation finds PKCS#8 DER inside, as cosign requires
    der = _independent_decrypt(pem, b"pw")
    assert der == key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(IntegrityError):
        decrypt_private_key(pem, b"pW")


@pytest.mark.parametrize("alg", ALGS)
def test_key_ids_match_openssl_and_securesystemslib(tmp_path: Path, alg: str) -> None:
    pub = new_private_key(alg).public_key()
    pem = PublicKey(pub).pem()
    (tmp_path / "k.pub").write_bytes(pem)
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(tmp_path / "k.pub"), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    assert key_id(pub) == hashlib.sha256(der).hexdigest()
    assert intoto_keyid(pub) == SSlibKey.from_crypto(pub).keyid


def test_corpus_public_key_vectors(corpus: Path) -> None:
    d = corpus / "cosign" / "sigstore-cosign" / "pkg-cosign-testdata"
    google = load_public_key(d / "google")
    assert isinstance(google.key, rsa.RSAPublicKey) and google.key.key_size == 4096
    pkcs1 = load_public_key(d / "rsa")
    assert isinstance(pkcs1.key, rsa.RSAPublicKey) and pkcs1.key.key_size == 4096
    le = load_public_key(d / "letsencrypt-testflume-2021")
    assert isinstance(le.key, ec.EllipticCurvePublicKey) and le.key.curve.name == "secp256r1"
    with pytest.raises(InputError):
        load_public_key(d / "garbage-there-are-limits")


def test_pem_private_key_formats_parse(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        pem = ec_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        assert key_id(parse_private_key(pem, None).public_key()) == key_id(ec_key.public_key())
    rsa_key = rsa.generate_private_key(65537, 2048)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert b"RSA PRIVATE KEY" in pem
    assert key_id(parse_private_key(pem, None).public_key()) == key_id(rsa_key.public_key())
    with pytest.raises(InputError):
        parse_public_key(b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n")


def test_cli_generate_import_list(tmp_path: Path) -> None:
    r = lockgate("key", "generate", "--out", str(tmp_path / "a"), "--algorithm", "ed25519")
    assert r.returncode == 0, r.stderr
    pub = load_public_key(tmp_path / "a.pub")
    assert r.stdout.split()[0] == pub.key_id
    # the file decrypts with the password from LOCKGATE_PASSWORD
    priv = decrypt_private_key((tmp_path / "a.key").read_bytes(), PASSWORD.encode())
    assert key_id(priv.public_key()) == pub.key_id
    assert oct((tmp_path / "a.key").stat().st_mode & 0o777) == "0o600"
    # refusing to overwrite
    again = lockgate("key", "generate", "--out", str(tmp_path / "a"))
    assert again.returncode == 2 and "exists" in again.stderr

    # import an openssl-generated SEC1 key (COSIGN_PASSWORD also works)
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(tmp_path / "ossl.pem")],
        check=True,
    )
    r = lockgate(
        "key",
        "import",
        str(tmp_path / "ossl.pem"),
        "--out",
        str(tmp_path / "b"),
        env={"LOCKGATE_PASSWORD": None, "COSIGN_PASSWORD": "cpw"},
    )
    assert r.returncode == 0, r.stderr
    imported = decrypt_private_key((tmp_path / "b.key").read_bytes(), b"cpw")
    want = serialization.load_pem_private_key((tmp_path / "ossl.pem").read_bytes(), None)
    assert key_id(imported.public_key()) == key_id(want.public_key())  # type: ignore[arg-type]

    listed = lockgate("key", "list", "-f", "json")
    assert listed.returncode == 0, listed.stderr
    ids = {row["key_id"] for row in json.loads(listed.stdout)}
    assert ids == {pub.key_id, key_id(want.public_key())}  # type: ignore[arg-type]


def test_cli_missing_password_is_usage_error(tmp_path: Path) -> None:
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("LOCKGATE_PASSWORD", "COSIGN_PASSWORD")}
    r = subprocess.run(
        [sys.executable, "-m", "lockgate", "key", "generate", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert r.returncode == 2
    assert "LOCKGATE_PASSWORD" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.key").exists()


def test_ed25519ph_rfc8032_vector_and_libsodium_oracle() -> None:
    """RFC 8032 section 7.3 (Ed25519ph, 'abc'); libsodium's multi-part API is the independent oracle."""
    import nacl.bindings as sodium
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from lockgate.trust.keys.ed25519ph import sign_prehashed, verify_prehashed
    from lockgate.trust.keys.files import FileSigner

    seed = bytes.fromhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
    want = bytes.fromhex(
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
        "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
    )
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    assert sign_prehashed(key, hashlib.sha512(b"abc").digest()) == want
    verify_prehashed(key.public_key(), hashlib.sha512(b"abc").digest(), want)
    with pytest.raises(IntegrityError):
        verify_prehashed(key.public_key(), hashlib.sha512(b"abd").digest(), want)

    for _ in range(3):
        k = ed25519.Ed25519PrivateKey.generate()
        msg = os.urandom(200)
        ours = FileSigner(k).sign_digest(hashlib.sha512(msg).digest())
        raw_pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        state = sodium.crypto_sign_ed25519ph_state()
        sodium.crypto_sign_ed25519ph_update(state, msg)
        assert sodium.crypto_sign_ed25519ph_final_verify(state, ours, raw_pub)
        assert FileSigner(k).sign(msg) == ours  # libsodium path and prehash path agree (deterministic)
        pub = PublicKey(k.public_key())
        pub.verify(msg, ours)
        pub.verify(msg, k.sign(msg))  # pure Ed25519 (older cosign) is accepted too
        with pytest.raises(IntegrityError):
            pub.verify(msg + b"!", ours)


def test_keyring_lookup_by_id_and_prefix() -> None:
    from lockgate.errors import NotFoundError
    from lockgate.trust.keys.generate import write_key_pair
    from lockgate.trust.keys.keyring import keyring_dir
    from lockgate.trust.keys.resolve import load_verifier

    key_path, pub_path, a = write_key_pair(new_private_key("ecdsa-p256"), None, b"pw")
    assert key_path.parent == keyring_dir() and pub_path.name == f"{a.key_id}.pub"
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    assert load_verifier(a.key_id).key_id == a.key_id
    assert load_verifier(a.intoto_keyid).key_id == a.key_id
    assert load_verifier(a.key_id[:16]).key_id == a.key_id
    other = "0" * 64 if not a.key_id.startswith("0") else "1" * 64
    with pytest.raises(NotFoundError):
        load_verifier(other)
