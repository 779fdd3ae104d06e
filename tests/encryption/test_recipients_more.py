"""Removing PKCS#7, OpenPGP and PKCS#11 recipients rewraps layer keys only (layer digests unchanged).

Oracles: skopeo decrypts with the remaining recipients' keys and fails with the removed ones (PKCS#7,
PGP); ``openssl cms -cmsout -print`` lists the remaining PKCS#7 recipients; ``gpg --list-packets`` the
remaining OpenPGP session-key packets. PKCS#11 runs against a real SoftHSM2 token (skopeo here has no
PKCS#11 support), decrypting with lockgate.
"""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.encryption._helpers import lockgate, skopeo, top_manifest
from tests.encryption.test_pgp import gnupg  # noqa: F401  (fixture)
from tests.encryption.test_pkcs7 import certs  # noqa: F401  (fixture)
from tests.encryption.test_pkcs11 import _uri, token  # noqa: F401  (fixture)

P7 = "org.opencontainers.image.enc.keys.pkcs7"
PGP = "org.opencontainers.image.enc.keys.pgp"
P11 = "org.opencontainers.image.enc.keys.pkcs11"


def _layers(layout: Path) -> list[dict[str, Any]]:
    return list(top_manifest(layout)[1]["layers"])


def _blobs(layout: Path, key: str) -> list[bytes]:
    return [base64.b64decode(b) for layer in _layers(layout) for b in layer["annotations"][key].split(",")]


def _serial(cert: Path) -> int:
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", str(cert)], capture_output=True, text=True)
    return int(out.stdout.strip().split("=")[1], 16)


def _cms_serials(blob: bytes, tmp: Path) -> list[int]:
    """Recipient serial numbers as OpenSSL prints the enveloped data."""
    f = tmp / "p7.der"
    f.write_bytes(blob)
    out = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(f)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return [int(m.replace(":", ""), 16) for m in re.findall(r"serialNumber: (?:0x)?([0-9A-Fa-f:]+)", out.stdout)]


def test_remove_pkcs7_recipient(tmp_path: Path, plain: Path, certs: dict[str, tuple[Path, Path]]) -> None:  # noqa: F811
    (ac, ak), (bc, bk) = certs["alice"], certs["bob"]
    enc, out = tmp_path / "enc", tmp_path / "out"
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{enc}:v1", "-r", f"pkcs7:{ac}", "-r", f"pkcs7:{bc}")
    assert r.returncode == 0, r.stderr
    assert sorted(_cms_serials(_blobs(enc, P7)[0], tmp_path)) == sorted([_serial(ac), _serial(bc)])
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", f"pkcs7:{bc}")
    assert r.returncode == 0, r.stderr
    assert [x["digest"] for x in _layers(out)] == [x["digest"] for x in _layers(enc)]
    for blob in _blobs(out, P7):
        assert _cms_serials(blob, tmp_path) == [_serial(ac)]
    bad = skopeo(
        "copy", "-q", "--decryption-key", str(bk), "--decryption-key", str(bc), f"oci:{out}:v1", f"oci:{tmp_path}/b:v1"
    )
    assert bad.returncode != 0
    ok = skopeo(
        "copy", "-q", "--decryption-key", str(ak), "--decryption-key", str(ac), f"oci:{out}:v1", f"oci:{tmp_path}/g:v1"
    )
    assert ok.returncode == 0, ok.stderr
    assert top_manifest(tmp_path / "g")[1] == top_manifest(plain)[1]
    # the last recipient stays: refused, nothing written
    r = lockgate("encrypt", f"oci:{out}:v1", f"oci:{tmp_path}/none:v1", "--remove-recipient", f"pkcs7:{ac}")
    assert r.returncode == 2 and "without any recipient" in r.stderr
    assert not (tmp_path / "none").exists()
    # a recipient that is not there is named in the error
    r = lockgate("encrypt", f"oci:{out}:v1", f"oci:{tmp_path}/x:v1", "--remove-recipient", f"pkcs7:{bc}")
    assert r.returncode == 2 and f"not found in any layer: pkcs7:{bc}" in r.stderr


def test_remove_pkcs7_from_skopeo_image(tmp_path: Path, plain: Path, certs: dict[str, tuple[Path, Path]]) -> None:  # noqa: F811
    """skopeo's AES-GCM enveloped data (which OpenSSL cannot open) keeps working for the remaining recipient."""
    (ac, ak), (bc, bk) = certs["alice"], certs["bob"]
    enc, out = tmp_path / "enc", tmp_path / "out"
    p = skopeo(
        "copy", "-q", "--encryption-key", f"pkcs7:{ac}", "--encryption-key", f"pkcs7:{bc}",
        f"oci:{plain}:v1", f"oci:{enc}:v1",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", f"pkcs7:{ac}")
    assert r.returncode == 0, r.stderr
    assert [x["digest"] for x in _layers(out)] == [x["digest"] for x in _layers(enc)]
    bad = skopeo(
        "copy", "-q", "--decryption-key", str(ak), "--decryption-key", str(ac), f"oci:{out}:v1", f"oci:{tmp_path}/b:v1"
    )
    assert bad.returncode != 0
    ok = skopeo(
        "copy", "-q", "--decryption-key", str(bk), "--decryption-key", str(bc), f"oci:{out}:v1", f"oci:{tmp_path}/g:v1"
    )
    assert ok.returncode == 0, ok.stderr
    assert top_manifest(tmp_path / "g")[1] == top_manifest(plain)[1]
    r = lockgate("decrypt", f"oci:{out}:v1", f"oci:{tmp_path}/d:v1", "--key", f"pkcs7:{bc}:{bk}")
    assert r.returncode == 0, r.stderr
    r = lockgate("decrypt", f"oci:{out}:v1", f"oci:{tmp_path}/d2:v1", "--key", f"pkcs7:{ac}:{ak}")
    assert r.returncode == 3


def _pgp_key_ids(blob: bytes, env: dict[str, str]) -> list[str]:
    """Recipient key ids as ``gpg --list-packets`` shows them."""
    p = subprocess.run(
        ["gpg", "--batch", "--homedir", env["GNUPGHOME"], "--list-packets"], input=blob, capture_output=True
    )
    return re.findall(r":pubkey enc packet: .*keyid ([0-9A-F]{16})", p.stdout.decode())


def test_remove_pgp_recipient(tmp_path: Path, plain: Path, gnupg: tuple[dict[str, str], Path]) -> None:  # noqa: F811
    env, keys = gnupg
    enc, out = tmp_path / "enc", tmp_path / "out"
    p = skopeo(
        "copy", "-q", "--encryption-key", "pgp:testkey1@key.org", "--encryption-key", "pgp:testkey2@key.org",
        f"oci:{plain}:v1", f"oci:{enc}:v1", env=env,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    one = _pgp_key_ids(
        subprocess.run(["gpg", "--homedir", env["GNUPGHOME"], "--batch", "-q", "-e", "-r", "testkey1@key.org",
                        "--trust-model", "always"], input=b"x", capture_output=True).stdout,
        env,
    )  # fmt: skip
    assert len(one) == 1
    before = _pgp_key_ids(_blobs(enc, PGP)[0], env)
    assert one[0] in before and len(before) == 2
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", f"pgp:{one[0]}", env=env)
    assert r.returncode == 0, r.stderr
    assert [x["digest"] for x in _layers(out)] == [x["digest"] for x in _layers(enc)]
    for blob in _blobs(out, PGP):
        assert _pgp_key_ids(blob, env) == [k for k in before if k != one[0]]
    s1, s2 = keys / "gpg-testkey1-secret.gpg", keys / "gpg-testkey2-secret.gpg"
    bad = skopeo("copy", "-q", "--decryption-key", str(s1), f"oci:{out}:v1", f"oci:{tmp_path}/b:v1", env=env)
    assert bad.returncode != 0
    ok = skopeo("copy", "-q", "--decryption-key", str(s2), f"oci:{out}:v1", f"oci:{tmp_path}/g:v1", env=env)
    assert ok.returncode == 0, ok.stderr
    assert top_manifest(tmp_path / "g")[1] == top_manifest(plain)[1]
    # by user id (resolved through the keyring): the last recipient is refused
    r = lockgate(
        "encrypt", f"oci:{out}:v1", f"oci:{tmp_path}/none:v1", "--remove-recipient", "pgp:testkey2@key.org", env=env
    )
    assert r.returncode == 2 and "without any recipient" in r.stderr
    assert not (tmp_path / "none").exists()


def test_remove_pgp_by_user_id_keeps_jwe(
    tmp_path: Path,
    plain: Path,
    gnupg: tuple[dict[str, str], Path],  # noqa: F811
    keys: dict[str, Any],
) -> None:
    """Removing every PGP recipient drops the annotation; the JWE recipient still decrypts (skopeo)."""
    env, _ = gnupg
    enc, out = tmp_path / "enc", tmp_path / "out"
    r = lockgate(
        "encrypt", f"oci:{plain}:v1", f"oci:{enc}:v1", "-r", "pgp:testkey1@key.org", "-r", f"jwe:{keys['rsa'].pub}",
        env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", "pgp:testkey1@key.org", env=env)
    assert r.returncode == 0, r.stderr
    assert all(PGP not in x["annotations"] for x in _layers(out))
    ok = skopeo("copy", "-q", "--decryption-key", str(keys["rsa"].pkcs8), f"oci:{out}:v1", f"oci:{tmp_path}/g:v1")
    assert ok.returncode == 0, ok.stderr
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{tmp_path}/x:v1", "--remove-recipient", "pgp:0123456789ABCDEF")
    assert r.returncode == 2 and "not found in any layer: pgp:0123456789ABCDEF" in r.stderr


def test_remove_pkcs11_recipient(tmp_path: Path, plain: Path, token: tuple[dict[str, str], str, Path]) -> None:  # noqa: F811
    env, label, pem = token
    enc, out = tmp_path / "enc", tmp_path / "out"
    k1, k2 = _uri(label, "k1"), _uri(label, "k2")
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{enc}:v1", "-r", k1, "-r", k2, env=env)
    assert r.returncode == 0, r.stderr
    # a public key file cannot name an entry (ocicrypt's JSON records no key identity)
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", f"pkcs11:{pem}", env=env)
    assert r.returncode == 2 and "record no key identity" in r.stderr
    r = lockgate("encrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--remove-recipient", k1, env=env)
    assert r.returncode == 0, r.stderr
    assert [x["digest"] for x in _layers(out)] == [x["digest"] for x in _layers(enc)]
    import json

    for blob in _blobs(out, P11):
        assert len(json.loads(blob)["recipients"]) == 1
    r = lockgate("decrypt", f"oci:{out}:v1", f"oci:{tmp_path}/bad:v1", "--key", k1, env=env)
    assert r.returncode == 3 and not (tmp_path / "bad").exists()
    r = lockgate("decrypt", f"oci:{out}:v1", f"oci:{tmp_path}/dec:v1", "--key", k2, env=env)
    assert r.returncode == 0, r.stderr
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]
    r = lockgate("encrypt", f"oci:{out}:v1", f"oci:{tmp_path}/none:v1", "--remove-recipient", k2, env=env)
    assert r.returncode == 2 and "without any recipient" in r.stderr
    assert "pin-value" not in r.stderr


@pytest.mark.parametrize("cut", [0, 1, 5])
def test_pgp_packet_parser_rejects_garbage(cut: int) -> None:
    from lockgate.encryption import pgp
    from lockgate.errors import InputError

    with pytest.raises(InputError):
        pgp.remove_recipients(b"\x85\x01\x0c"[:cut] + b"\x00" * cut, [{"00"}])
