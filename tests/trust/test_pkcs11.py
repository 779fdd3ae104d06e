"""PKCS#11 signing against a real SoftHSM2 token started by the test (private config, fresh token).

Keys are generated in the token with OpenSC's ``pkcs11-tool``; their public keys are read back with
``pkcs11-tool`` as well and serve as the oracle for lockgate's key IDs; signatures are checked with
``cryptography`` directly and with openssl.
"""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from lockgate.errors import ConfigError, InputError, NotFoundError
from lockgate.trust.keys.model import key_id
from lockgate.trust.keys.pkcs11 import Pkcs11Signer, Pkcs11Uri
from lockgate.trust.keys.resolve import load_signer, load_verifier

from ._helpers import lockgate

MODULE = next(
    (
        p
        for p in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
        if Path(p).exists()
    ),
    "/usr/lib/softhsm/libsofthsm2.so",
)
PIN = "5678"


@dataclass(frozen=True)
class Token:
    label: str
    conf: Path
    pubs: dict[str, Path]

    def uri(self, obj: str, **extra: str) -> str:
        label = self.label.replace(" ", "%20")
        q = "&".join(f"{k}={v}" for k, v in {"module-path": MODULE, "pin-value": PIN, **extra}.items())
        return f"pkcs11:token={label};object={obj}?{q}"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    """A SoftHSM2 token with an EC P-256, an Ed25519 and an RSA-2048 key pair, generated on the token."""
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # python-pkcs11 reads it at C_Initialize (once per process)
    label = f"lock gate {uuid.uuid4().hex[:6]}"
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "1234", "--pin", PIN],
        check=True, capture_output=True,
    )  # fmt: skip
    tool = ["pkcs11-tool", "--module", MODULE, "--token-label", label]
    pubs = {}
    for name, kt, kid in (("ec1", "EC:prime256v1", "01"), ("ed1", "EC:edwards25519", "02"), ("rsa1", "rsa:2048", "03")):
        subprocess.run([*tool, "--login", "--pin", PIN, "--keypairgen", "--key-type", kt, "--label", name, "--id", kid],
                       check=True, capture_output=True)  # fmt: skip
        out = d / f"{name}.pub.raw"
        subprocess.run(
            [*tool, "--read-object", "--type", "pubkey", "--id", kid, "-o", str(out)], check=True, capture_output=True
        )
        # pkcs11-tool writes DER SPKI for EC/RSA and PEM for Ed25519; openssl normalises to PEM
        fmt = "PEM" if out.read_bytes().startswith(b"-----") else "DER"
        pem = subprocess.run(
            ["openssl", "pkey", "-pubin", "-inform", fmt, "-in", str(out)], check=True, capture_output=True
        ).stdout
        (d / f"{name}.pub").write_bytes(pem)
        pubs[name] = d / f"{name}.pub"
    yield Token(label, conf, pubs)
    if old is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = old


def _oracle_key(path: Path) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey:
    k = serialization.load_pem_public_key(path.read_bytes())
    assert isinstance(k, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey)
    return k


@pytest.mark.parametrize("name", ["ec1", "ed1", "rsa1"])
def test_token_signatures_verify_with_cryptography(softhsm: Token, name: str) -> None:
    signer = Pkcs11Signer(softhsm.uri(name))
    oracle = _oracle_key(softhsm.pubs[name])
    assert signer.public_key.key_id == key_id(oracle)
    data = b"lockgate pkcs11 " * 100
    sig = signer.sign(data)
    if isinstance(oracle, ec.EllipticCurvePublicKey):
        assert sig[0] == 0x30  # DER, not raw r||s
        oracle.verify(sig, data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(oracle, rsa.RSAPublicKey):
        oracle.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        oracle.verify(sig, data)
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        if isinstance(oracle, ed25519.Ed25519PublicKey):
            oracle.verify(sig, data + b"x")
        elif isinstance(oracle, ec.EllipticCurvePublicKey):
            oracle.verify(sig, data + b"x", ec.ECDSA(hashes.SHA256()))
        else:
            oracle.verify(sig, data + b"x", padding.PKCS1v15(), hashes.SHA256())


def test_sign_blob_with_hsm_key_via_cli(softhsm: Token, tmp_path: Path) -> None:
    blob = tmp_path / "release.tar"
    blob.write_bytes(os.urandom(100_000))
    sig = tmp_path / "release.sig"
    env = {"SOFTHSM2_CONF": str(softhsm.conf)}
    r = lockgate("sign-blob", str(blob), "--key", softhsm.uri("ec1"), "-o", str(sig), env=env)
    assert r.returncode == 0, r.stderr
    (tmp_path / "raw").write_bytes(base64.b64decode(sig.read_bytes()))
    ossl = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", str(softhsm.pubs["ec1"]),
         "-signature", str(tmp_path / "raw"), str(blob)],
        capture_output=True, check=False,
    )  # fmt: skip
    assert ossl.returncode == 0, ossl.stderr
    v = lockgate("verify-blob", str(blob), "--key", str(softhsm.pubs["ec1"]), "--signature", str(sig))
    assert v.returncode == 0, v.stderr
    # the verifier can also take the public key straight from the token
    v2 = lockgate("verify-blob", str(blob), "--key", softhsm.uri("ec1"), "--signature", str(sig), env=env)
    assert v2.returncode == 0, v2.stderr


def test_sign_image_with_hsm_key(softhsm: Token, layout: object, tmp_path: Path) -> None:
    from tests.fixtures.registry import OCILayout

    assert isinstance(layout, OCILayout)
    env = {"SOFTHSM2_CONF": str(softhsm.conf)}
    r = lockgate("sign", f"oci:{layout.path}:v1", "--key", softhsm.uri("ed1"), env=env)
    assert r.returncode == 0, r.stderr
    v = lockgate("verify", f"oci:{layout.path}:v1", "--key", str(softhsm.pubs["ed1"]))
    assert v.returncode == 0, v.stderr


def test_hsm_errors_are_one_line(softhsm: Token) -> None:
    with pytest.raises(NotFoundError, match=r"no (private|public)_key"):
        _ = Pkcs11Signer(softhsm.uri("nope")).public_key
    with pytest.raises(ConfigError, match="PIN"):
        _ = Pkcs11Signer(softhsm.uri("ec1").replace(f"pin-value={PIN}", "pin-value=0000")).public_key
    with pytest.raises(NotFoundError):
        _ = load_verifier(softhsm.uri("ec1").replace("token=lock", "token=nolock"))
    env = {"SOFTHSM2_CONF": str(softhsm.conf)}
    r = lockgate(
        "sign-blob", "/etc/hostname", "--key", softhsm.uri("ec1", **{}).replace(MODULE, "/nonexistent.so"), env=env
    )
    assert r.returncode == 3 and "not found" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("uri", "path", "query"),
    [
        ("pkcs11:token=My%20Token;object=key%3b1;id=%01%02?pin-value=12%2634&module-path=/x.so",
         {"token": b"My Token", "object": b"key;1", "id": b"\x01\x02"},
         {"pin-value": b"12&34", "module-path": b"/x.so"}),
        ("pkcs11:object=k", {"object": b"k"}, {}),
        ("pkcs11:id=%AB;x-vendor=v?pin-source=file:/tmp/pin", {"id": b"\xab", "x-vendor": b"v"},
         {"pin-source": b"file:/tmp/pin"}),
    ],
)  # fmt: skip
def test_uri_parsing(uri: str, path: dict[str, bytes], query: dict[str, bytes]) -> None:
    parsed = Pkcs11Uri.parse(uri)
    assert parsed.path == path
    assert parsed.query == query


@pytest.mark.parametrize("bad", ["pkcs11:token", "pkcs11:color=red", "pkcs11:object=a;object=b", "file:x"])
def test_uri_parsing_rejects(bad: str) -> None:
    with pytest.raises(InputError):
        Pkcs11Uri.parse(bad)


def test_signer_needs_a_key_name() -> None:
    with pytest.raises(ConfigError):
        load_signer("pkcs11:token=t?module-path=/x.so")
