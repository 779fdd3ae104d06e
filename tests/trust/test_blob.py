"""sign-blob / verify-blob: round trips per algorithm, openssl as the oracle, and the negative cases."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from ._helpers import lockgate

ALGS = ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072"]


@pytest.fixture(scope="module")
def keypairs(trust_keys: dict[str, Path]) -> dict[str, Path]:
    """Algorithm -> key prefix, from the session's CLI-generated keys."""
    by_alg = {"ecdsa-p256": "alice", "ed25519": "bob", "ecdsa-p384": "carol", "rsa-3072": "dave"}
    return {alg: trust_keys[name] for alg, name in by_alg.items()}


def _libsodium_ed25519ph_verify(pub: Path, sig: bytes, data: bytes) -> bool:
    """cosign signs with Ed25519ph; openssl 3.0 lacks it, so libsodium's multi-part API is the oracle."""
    import nacl.bindings as sodium
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(pub.read_bytes())
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    state = sodium.crypto_sign_ed25519ph_state()
    sodium.crypto_sign_ed25519ph_update(state, data)
    try:
        return bool(sodium.crypto_sign_ed25519ph_final_verify(state, sig, raw))
    except Exception:
        return False


def _openssl_verify(alg: str, pub: Path, sig: Path, data: Path, tmp: Path) -> bool:
    raw = tmp / "sig.raw"
    raw.write_bytes(base64.b64decode(sig.read_bytes()))
    if alg == "ed25519":
        return _libsodium_ed25519ph_verify(pub, raw.read_bytes(), data.read_bytes())
    digest = "-sha384" if alg == "ecdsa-p384" else "-sha256"
    cmd = ["openssl", "dgst", digest, "-verify", str(pub), "-signature", str(raw), str(data)]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("alg", ALGS)
def test_sign_verify_round_trip_checked_by_openssl(alg: str, keypairs: dict[str, Path], tmp_path: Path) -> None:
    blob = tmp_path / "config.yaml"
    blob.write_bytes(b"replicas: 3\n" * 1000)
    sig = tmp_path / "config.yaml.sig"
    r = lockgate("sign-blob", str(blob), "--key", str(keypairs[alg]) + ".key", "--output-signature", str(sig))
    assert r.returncode == 0, r.stderr
    assert _openssl_verify(alg, Path(str(keypairs[alg]) + ".pub"), sig, blob, tmp_path)
    ok = lockgate("verify-blob", str(blob), "--key", str(keypairs[alg]) + ".pub", "--signature", str(sig))
    assert ok.returncode == 0, ok.stderr
    assert "Verified OK" in ok.stderr

    # tampered blob
    blob.write_bytes(blob.read_bytes() + b"x")
    bad = lockgate("verify-blob", str(blob), "--key", str(keypairs[alg]) + ".pub", "--signature", str(sig))
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1 and "verification failed" in bad.stderr


def test_openssl_signature_verifies_with_lockgate(tmp_path: Path, keypairs: dict[str, Path]) -> None:
    """A signature made by openssl (cosign's format: base64 DER ECDSA over SHA-256) verifies."""
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(tmp_path / "k.pem")], check=True
    )
    subprocess.run(
        ["openssl", "ec", "-in", str(tmp_path / "k.pem"), "-pubout", "-out", str(tmp_path / "k.pub")],
        check=True,
        capture_output=True,
    )
    blob = tmp_path / "pkg.tar"
    blob.write_bytes(b"\0" * 4096)
    der = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(tmp_path / "k.pem"), str(blob)], capture_output=True, check=True
    ).stdout
    (tmp_path / "sig").write_bytes(base64.b64encode(der))
    ok = lockgate("verify-blob", str(blob), "--key", str(tmp_path / "k.pub"), "--signature", str(tmp_path / "sig"))
    assert ok.returncode == 0, ok.stderr
    wrong = lockgate(
        "verify-blob", str(blob), "--key", str(keypairs["ecdsa-p256"]) + ".pub", "--signature", str(tmp_path / "sig")
    )
    assert wrong.returncode == 1


def test_tampered_signature_and_wrong_key(keypairs: dict[str, Path], tmp_path: Path) -> None:
    blob = tmp_path / "b"
    blob.write_bytes(b"data")
    sig = tmp_path / "b.sig"
    assert (
        lockgate("sign-blob", str(blob), "--key", str(keypairs["ecdsa-p256"]) + ".key", "-o", str(sig)).returncode == 0
    )
    raw = bytearray(base64.b64decode(sig.read_bytes()))
    raw[-3] ^= 0x01
    (tmp_path / "t.sig").write_bytes(base64.b64encode(bytes(raw)))
    t = lockgate(
        "verify-blob", str(blob), "--key", str(keypairs["ecdsa-p256"]) + ".pub", "--signature", str(tmp_path / "t.sig")
    )
    assert t.returncode == 1 and "Traceback" not in t.stderr
    w = lockgate("verify-blob", str(blob), "--key", str(keypairs["ecdsa-p384"]) + ".pub", "--signature", str(sig))
    assert w.returncode == 1 and "verification failed" in w.stderr
    g = lockgate("verify-blob", str(blob), "--key", str(keypairs["ecdsa-p256"]) + ".pub", "--signature", str(blob))
    assert g.returncode == 1
    missing = lockgate(
        "verify-blob", str(tmp_path / "nope"), "--key", str(keypairs["ecdsa-p256"]) + ".pub", "--signature", str(sig)
    )
    assert missing.returncode == 3 and "not found" in missing.stderr


def test_signature_to_stdout(keypairs: dict[str, Path], tmp_path: Path) -> None:
    blob = tmp_path / "b"
    blob.write_bytes(b"data")
    r = lockgate("sign-blob", str(blob), "--key", str(keypairs["rsa-3072"]) + ".key")
    assert r.returncode == 0, r.stderr
    (tmp_path / "s").write_text(r.stdout)
    assert _openssl_verify("rsa-3072", Path(str(keypairs["rsa-3072"]) + ".pub"), tmp_path / "s", blob, tmp_path)
