"""ocicrypt's key-provider protocol: lockgate as client and ``lockgate keyprovider`` as the reference provider.

Both sides run for real as processes: the client finds the provider through ``OCICRYPT_KEYPROVIDER_CONFIG``
exactly as ocicrypt does, and the provider releases a layer key only against a JWT signed by the attester
key, bound to a nonce it issued, unexpired, with the policy's claims. (Debian's skopeo 1.9.3 rejects the
``provider:`` protocol, so it cannot serve as the oracle here; the request JSON is checked against
ocicrypt's struct layout instead.)
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.encryption._helpers import lockgate, make_plain_image, top_manifest


@dataclass(frozen=True)
class Provider:
    config: Path
    env: dict[str, str]
    attester: Path
    other: Path

    def nonce(self) -> str:
        from lockgate.encryption.keyprovider import ProviderConfig, issue_nonce

        return issue_nonce(ProviderConfig.load(self.config))

    def evidence(self, path: Path, nonce: str, key: Path | None = None, **claims: object) -> Path:
        from jwcrypto import jwk, jws

        body = {"iss": "lockgate-test-attester", "nonce": nonce, "exp": int(time.time()) + 300}
        body.update({"platform": "sev-snp", "debug": False})
        body.update(claims)
        k = jwk.JWK.from_pem((key or self.attester).read_bytes())
        s = jws.JWS(json.dumps(body))
        s.add_signature(k, alg="ES256", protected={"alg": "ES256", "typ": "JWT"})
        path.write_text(s.serialize(compact=True))
        return path


def _dsse(provider: Provider, path: Path, nonce: str, key: Path | None = None, **claims: object) -> Path:
    """An in-toto Statement in a DSSE envelope, signed (ECDSA P-256, SHA-256) by the attester key."""
    from cryptography.hazmat.primitives import hashes

    predicate = {"iss": "lockgate-test-attester", "nonce": nonce, "exp": int(time.time()) + 300}
    predicate.update({"platform": "tdx", "debug": False})
    predicate.update(claims)
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [],
        "predicateType": "https://lockgate.dev/platform/v1",
        "predicate": predicate,
    }
    payload = json.dumps(statement).encode()
    ptype = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload)
    priv = serialization.load_pem_private_key((key or provider.attester).read_bytes(), None)
    sig = priv.sign(pae, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr,call-arg]
    env = {
        "payloadType": ptype,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }
    path.write_text(json.dumps(env))
    return path


def _ec_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return key


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Provider:
    d = tmp_path_factory.mktemp("kp")
    (d / "kek").write_bytes(os.urandom(32))
    att = _ec_key(d / "attester.pem")
    _ec_key(d / "other.pem")
    (d / "attester.pub").write_bytes(
        att.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    cfg = d / "provider.yaml"
    cfg.write_text(
        "kek_file: kek\nverifier_key: attester.pub\nnonce_dir: nonces\nissuer: lockgate-test-attester\n"
        "claims:\n  platform: [sev-snp, tdx]\n  debug: false\n"
    )
    oc = d / "ocicrypt.json"
    cmd = {"path": sys.executable, "args": ["-m", "lockgate", "keyprovider", "--provider-config", str(cfg)]}
    oc.write_text(json.dumps({"key-providers": {"attested": {"cmd": cmd}}}))
    return Provider(cfg, {"OCICRYPT_KEYPROVIDER_CONFIG": str(oc)}, d / "attester.pem", d / "other.pem")


def _encrypt(plain: Path, out: Path, provider: Provider) -> None:
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{out}:v1", "-r", "provider:attested", env=provider.env)
    assert r.returncode == 0, r.stderr
    layers = top_manifest(out)[1]["layers"]
    assert all("org.opencontainers.image.enc.keys.provider.attested" in la["annotations"] for la in layers)


@pytest.fixture(scope="module")
def enc(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Path:
    d = tmp_path_factory.mktemp("kp-image")
    plain = make_plain_image(d / "plain")
    _encrypt(plain, d / "enc", provider)
    return d / "enc"


def _decrypt(enc: Path, out: Path, provider: Provider, key: str) -> object:
    return lockgate("decrypt", f"oci:{enc}:v1", f"oci:{out}:v1", "--key", key, env=provider.env)


def test_attested_release(tmp_path: Path, plain: Path, provider: Provider) -> None:
    _encrypt(plain, tmp_path / "enc", provider)
    issued = lockgate("keyprovider", "--provider-config", str(provider.config), "--issue-nonce")
    assert issued.returncode == 0, issued.stderr
    ev = provider.evidence(tmp_path / "ev.jwt", issued.stdout.strip())
    r = _decrypt(tmp_path / "enc", tmp_path / "dec", provider, f"provider:attested:{ev}")
    assert r.returncode == 0, r.stderr  # type: ignore[attr-defined]
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]  # two layers, one unwrap each
    # the same evidence works again while its nonce is valid (one session)
    r = _decrypt(tmp_path / "enc", tmp_path / "again", provider, f"provider:attested:{ev}")
    assert r.returncode == 0, r.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "case",
    ["no-evidence", "wrong-signer", "expired", "claim", "issuer", "unknown-nonce", "nonce-reuse", "tampered"],
)
def test_refusals(tmp_path: Path, enc: Path, provider: Provider, case: str) -> None:
    ev = tmp_path / "ev.jwt"
    key = f"provider:attested:{ev}"
    expected = {
        "no-evidence": "no evidence given",
        "wrong-signer": "signature does not verify",
        "expired": "expired",
        "claim": "claim 'debug'",
        "issuer": "issuer",
        "unknown-nonce": "not issued by this provider",
        "nonce-reuse": "already used by other evidence",
        "tampered": "signature does not verify",
    }[case]
    if case == "no-evidence":
        key = "provider:attested"
    elif case == "wrong-signer":
        provider.evidence(ev, provider.nonce(), key=provider.other)
    elif case == "expired":
        provider.evidence(ev, provider.nonce(), exp=int(time.time()) - 5)
    elif case == "claim":
        provider.evidence(ev, provider.nonce(), debug=True)
    elif case == "issuer":
        provider.evidence(ev, provider.nonce(), iss="somebody-else")
    elif case == "unknown-nonce":
        provider.evidence(ev, "made-up-nonce-0123456789abcdef")
    elif case == "nonce-reuse":
        nonce = provider.nonce()
        first = provider.evidence(tmp_path / "first.jwt", nonce)
        r = _decrypt(enc, tmp_path / "ok", provider, f"provider:attested:{first}")
        assert r.returncode == 0, r.stderr  # type: ignore[attr-defined]
        provider.evidence(ev, nonce, platform="tdx")
    elif case == "tampered":
        provider.evidence(ev, provider.nonce(), platform="tdx")
        head, body, sig = ev.read_text().split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=="))
        claims["platform"] = "sev-snp"
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        ev.write_text(f"{head}.{body}.{sig}")
    from lockgate.encryption.image import decrypt_image
    from lockgate.encryption.keys import parse_key
    from lockgate.errors import IntegrityError
    from lockgate.oci.targets import open_destination, open_source

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OCICRYPT_KEYPROVIDER_CONFIG", provider.env["OCICRYPT_KEYPROVIDER_CONFIG"])
        with pytest.raises(IntegrityError, match="none of the given keys can decrypt") as info:
            decrypt_image(
                open_source(f"oci:{enc}:v1"), lambda: open_destination(f"oci:{tmp_path}/dec:v1"), [parse_key(key)]
            )
    assert expected in str(info.value)
    assert not (tmp_path / "dec").exists()


def test_dsse_evidence(tmp_path: Path, enc: Path, provider: Provider) -> None:
    """An in-toto attestation in DSSE works like a JWT; tampering with its payload breaks the signature."""
    from lockgate.encryption.image import decrypt_image
    from lockgate.encryption.keys import parse_key
    from lockgate.errors import IntegrityError
    from lockgate.oci.targets import open_destination, open_source

    good = _dsse(provider, tmp_path / "good.json", provider.nonce())
    forged = _dsse(provider, tmp_path / "forged.json", provider.nonce(), key=provider.other)
    debug = _dsse(provider, tmp_path / "debug.json", provider.nonce(), debug=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OCICRYPT_KEYPROVIDER_CONFIG", provider.env["OCICRYPT_KEYPROVIDER_CONFIG"])
        for ev, why in ((forged, "signature does not verify"), (debug, "claim 'debug'")):
            with pytest.raises(IntegrityError, match=why):
                decrypt_image(
                    open_source(f"oci:{enc}:v1"),
                    lambda: open_destination(f"oci:{tmp_path}/bad:v1"),
                    [parse_key(f"provider:attested:{ev}")],
                )
        assert not (tmp_path / "bad").exists()
        decrypt_image(
            open_source(f"oci:{enc}:v1"),
            lambda: open_destination(f"oci:{tmp_path}/dec:v1"),
            [parse_key(f"provider:attested:{good}")],
        )
    assert len(top_manifest(tmp_path / "dec")[1]["layers"]) == 2


def test_protocol_messages_as_ocicrypt_marshals_them(tmp_path: Path, provider: Provider) -> None:
    """A request shaped like Go's json.Marshal of ocicrypt's KeyProviderKeyWrapProtocolInput."""
    opts = b'{"symkey":"AAAA","digest":"sha256:00","cipheroptions":{"nonce":"AAAA"}}'
    req = {
        "op": "keywrap",
        "keywrapparams": {
            "ec": {
                "Parameters": {"attested": [base64.b64encode(b"Enabled").decode()]},
                "DecryptConfig": {"Parameters": None},
            },
            "optsdata": base64.b64encode(opts).decode(),
        },
        "keyunwrapparams": {"dc": None, "annotation": None},
    }
    r = lockgate("keyprovider", "--provider-config", str(provider.config), stdin=json.dumps(req))
    assert r.returncode == 0, r.stderr
    annotation = json.loads(r.stdout)["keywrapresults"]["annotation"]
    assert opts not in base64.b64decode(annotation)
    ev = provider.evidence(tmp_path / "ev.jwt", provider.nonce())
    req = {
        "op": "keyunwrap",
        "keywrapparams": {"ec": None, "optsdata": None},
        "keyunwrapparams": {
            "dc": {"Parameters": {"attested": [base64.b64encode(str(ev).encode()).decode()]}},
            "annotation": annotation,
        },
    }
    r = lockgate("keyprovider", "--provider-config", str(provider.config), stdin=json.dumps(req))
    assert r.returncode == 0, r.stderr
    assert base64.b64decode(json.loads(r.stdout)["keyunwrapresults"]["optsdata"]) == opts
