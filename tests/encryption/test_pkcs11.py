"""PKCS#11 recipients and keys against a real SoftHSM2 token created by the test.

Runs lockgate as a subprocess with a private ``SOFTHSM2_CONF`` (python-pkcs11 reads it once per process).
SoftHSM 2.6 implements RSA-OAEP only with SHA-1, so wrapping uses ``OCICRYPT_OAEP_HASHALG=sha1`` as
ocicrypt's own SoftHSM tests do. The public key exported with OpenSC's ``pkcs11-tool`` serves as a
software recipient (OAEP in ``cryptography``) whose wrapped keys the token must open.
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.encryption._helpers import lockgate, top_manifest

MODULE = next(
    (
        p
        for p in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
        if Path(p).exists()
    ),
    "/usr/lib/softhsm/libsofthsm2.so",
)
PIN = "5678"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str, Path]:
    d = tmp_path_factory.mktemp("enc-softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": str(conf), "OCICRYPT_OAEP_HASHALG": "sha1"}
    label = f"enc{uuid.uuid4().hex[:6]}"
    run = {"check": True, "capture_output": True, "env": {**__import__("os").environ, **env}}
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "1234", "--pin", PIN], **run
    )  # type: ignore[call-overload]
    tool = ["pkcs11-tool", "--module", MODULE, "--token-label", label, "--login", "--pin", PIN]
    for name, kid in (("k1", "21"), ("k2", "22")):
        subprocess.run([*tool, "--keypairgen", "--key-type", "rsa:2048", "--label", name, "--id", kid], **run)  # type: ignore[call-overload]
    der = d / "k1.der"
    subprocess.run([*tool, "--read-object", "--type", "pubkey", "--label", "k1", "-o", str(der)], **run)  # type: ignore[call-overload]
    pem = d / "k1.pem"
    subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", str(der), "-out", str(pem)], check=True)
    return env, label, pem


def _uri(label: str, obj: str) -> str:
    return f"pkcs11:token={label};object={obj}?module-path={MODULE}&pin-value={PIN}"


def test_token_recipient_round_trip(tmp_path: Path, plain: Path, token: tuple[dict[str, str], str, Path]) -> None:
    env, label, _ = token
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", "-r", _uri(label, "k1"), env=env)
    assert r.returncode == 0, r.stderr
    layer = top_manifest(tmp_path / "enc")[1]["layers"][0]
    blob = json.loads(base64.b64decode(layer["annotations"]["org.opencontainers.image.enc.keys.pkcs11"]))
    assert blob["version"] == 0 and [e["hash"] for e in blob["recipients"]] == ["sha1"]
    assert len(base64.b64decode(blob["recipients"][0]["blob"])) == 256  # one RSA-2048 block
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1", "--key", _uri(label, "k1"), env=env)
    assert r.returncode == 0, r.stderr
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/bad:v1", "--key", _uri(label, "k2"), env=env)
    assert r.returncode == 3 and "none of the given keys can decrypt" in r.stderr
    assert not (tmp_path / "bad").exists()


def test_software_wrap_opens_in_token(tmp_path: Path, plain: Path, token: tuple[dict[str, str], str, Path]) -> None:
    env, label, pem = token
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", "-r", f"pkcs11:{pem}", env=env)
    assert r.returncode == 0, r.stderr
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1", "--key", _uri(label, "k1"), env=env)
    assert r.returncode == 0, r.stderr
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]


def test_bad_pin_is_a_clear_error(tmp_path: Path, plain: Path, token: tuple[dict[str, str], str, Path]) -> None:
    env, label, _ = token
    uri = _uri(label, "k1").replace(f"pin-value={PIN}", "pin-value=0000")
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", "-r", uri, env=env)
    assert r.returncode != 0 and "PIN rejected" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "enc").exists()
