"""PKCS#7 (X.509) recipients: lockgate's enveloped data opens with skopeo (the oracle) and with lockgate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.encryption._helpers import lockgate, skopeo, top_manifest


def _cert(d: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(65537, 2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    c, k = d / f"{name}.crt", d / f"{name}.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return c, k


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    d = tmp_path_factory.mktemp("pkcs7")
    return {n: _cert(d, n) for n in ("alice", "bob")}


def test_pkcs7_round_trips(tmp_path: Path, plain: Path, certs: dict[str, tuple[Path, Path]]) -> None:
    (ac, ak), (bc, bk) = certs["alice"], certs["bob"]
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", "-r", f"pkcs7:{ac}")
    assert r.returncode == 0, r.stderr
    assert "org.opencontainers.image.enc.keys.pkcs7" in top_manifest(tmp_path / "enc")[1]["layers"][0]["annotations"]
    p = skopeo(
        "copy",
        "-q",
        "--decryption-key",
        str(ak),
        "--decryption-key",
        str(ac),
        f"oci:{tmp_path}/enc:v1",
        f"oci:{tmp_path}/s:v1",
    )
    assert p.returncode == 0, p.stderr
    assert top_manifest(tmp_path / "s")[1] == top_manifest(plain)[1]
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1", "--key", f"pkcs7:{ac}:{ak}")
    assert r.returncode == 0, r.stderr
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/bad:v1", "--key", f"pkcs7:{bc}:{bk}")
    assert r.returncode == 3 and "none of the given keys can decrypt" in r.stderr
    assert not (tmp_path / "bad").exists()


def test_skopeo_pkcs7_opens_with_lockgate(tmp_path: Path, plain: Path, certs: dict[str, tuple[Path, Path]]) -> None:
    """ocicrypt writes AES-128-GCM enveloped data (OpenSSL cannot open it); lockgate reads it."""
    (ac, ak), (bc, bk) = certs["alice"], certs["bob"]
    p = skopeo("copy", "-q", "--encryption-key", f"pkcs7:{ac}", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1")
    assert p.returncode == 0, p.stderr
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/bad:v1", "--key", f"pkcs7:{bc}:{bk}")
    assert r.returncode == 3 and "none of the given keys can decrypt" in r.stderr
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1", "--key", f"pkcs7:{ac}:{ak}")
    assert r.returncode == 0, r.stderr
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]
    # every truncation and a flipped byte in each position class: a clean failure, never a crash
    import base64
    import contextlib

    from lockgate.encryption import pkcs7
    from lockgate.encryption.keys import parse_key
    from lockgate.errors import InputError

    blob = base64.b64decode(
        top_manifest(tmp_path / "enc")[1]["layers"][0]["annotations"]["org.opencontainers.image.enc.keys.pkcs7"]
    )
    key = parse_key(f"pkcs7:{ac}:{ak}")
    assert pkcs7.unwrap(blob, [key]) is not None  # type: ignore[list-item]
    for cut in range(0, len(blob), 29):
        with contextlib.suppress(InputError):
            assert pkcs7.unwrap(blob[:cut], [key]) is None  # type: ignore[list-item]
    for i in range(0, len(blob), 37):
        bad = bytearray(blob)
        bad[i] ^= 0x41
        try:
            out = pkcs7.unwrap(bytes(bad), [key])  # type: ignore[list-item]
        except InputError:
            continue
        assert out is None or out == pkcs7.unwrap(blob, [key])  # type: ignore[list-item]
