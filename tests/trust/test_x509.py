"""X.509 signing certificates on key-based signatures: chain to configured roots, CRLs, policies by fingerprint.

The PKI is made here with ``cryptography``; ``openssl verify -crl_check`` is the independent oracle for which
chains are valid and which certificates are revoked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.fixtures.registry import OCILayout, skopeo_raw

from ._helpers import lockgate

PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class Pki:
    root: Path
    chain: Path
    """intermediate + root"""
    leaf: Path
    """code-signing certificate for alice's key"""
    server_leaf: Path
    """alice's key, but EKU serverAuth only"""
    other_root: Path
    crl_empty: Path
    crl_revoked: Path
    leaf_fp: str


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    pub: object,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    eku: list[x509.ObjectIdentifier] | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder().subject_name(_name(subject))
        .issuer_name(issuer[0].subject if issuer else _name(subject)).public_key(pub)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )  # fmt: skip
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory, trust_keys: dict[str, Path]) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    root_key, inter_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("lockgate test root", root_key.public_key(), None, root_key, ca=True)
    inter = _cert("lockgate test intermediate", inter_key.public_key(), (root, root_key), inter_key, ca=True)
    other = _cert("some other root", other_key.public_key(), None, other_key, ca=True)
    alice = serialization.load_pem_public_key(Path(f"{trust_keys['alice']}.pub").read_bytes())
    leaf = _cert(
        "alice@example.com", alice, (inter, inter_key), inter_key, ca=False, eku=[ExtendedKeyUsageOID.CODE_SIGNING]
    )
    server = _cert(
        "alice.example.com", alice, (inter, inter_key), inter_key, ca=False, eku=[ExtendedKeyUsageOID.SERVER_AUTH]
    )
    now = dt.datetime.now(dt.UTC)

    def crl(revoked: list[x509.Certificate]) -> bytes:
        b = x509.CertificateRevocationListBuilder().issuer_name(inter.subject).last_update(now - dt.timedelta(hours=1))
        b = b.next_update(now + dt.timedelta(days=1))
        for c in revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(c.serial_number)
                .revocation_date(now - dt.timedelta(minutes=5))
                .build()
            )
        return b.sign(inter_key, hashes.SHA256()).public_bytes(PEM)

    files = {
        "root": root.public_bytes(PEM), "chain": inter.public_bytes(PEM) + root.public_bytes(PEM),
        "leaf": leaf.public_bytes(PEM), "server": server.public_bytes(PEM), "other": other.public_bytes(PEM),
        "crl_empty": crl([]), "crl_revoked": crl([leaf]),
    }  # fmt: skip
    for name, data in files.items():
        (d / f"{name}.pem").write_bytes(data)
    fp = hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()
    return Pki(d / "root.pem", d / "chain.pem", d / "leaf.pem", d / "server.pem", d / "other.pem",
               d / "crl_empty.pem", d / "crl_revoked.pem", fp)  # fmt: skip


def _openssl_ok(pki: Pki, leaf: Path, crl: Path | None) -> bool:
    inter = pki.chain.read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    (pki.root.parent / "inter.pem").write_text(inter)
    cmd = [
        "openssl",
        "verify",
        "-purpose",
        "any",
        "-CAfile",
        str(pki.root),
        "-untrusted",
        str(pki.root.parent / "inter.pem"),
    ]
    if crl is not None:
        cmd += ["-crl_check", "-CRLfile", str(crl)]
    return subprocess.run([*cmd, str(leaf)], capture_output=True, check=False).returncode == 0


def _sign(layout: OCILayout, trust_keys: dict[str, Path], cert: Path, pki: Pki) -> None:
    r = lockgate("sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['alice']}.key",
                 "--certificate", str(cert), "--certificate-chain", str(pki.chain))  # fmt: skip
    assert r.returncode == 0, r.stderr


def test_certificate_signature_verifies_against_roots(layout: OCILayout, trust_keys: dict[str, Path], pki: Pki) -> None:
    _sign(layout, trust_keys, pki.leaf, pki)
    raw = skopeo_raw("inspect", "--raw", f"oci:{layout.path}:v1")
    sig_tag = "sha256-" + hashlib.sha256(raw).hexdigest() + ".sig"
    ann = json.loads(skopeo_raw("inspect", "--raw", f"oci:{layout.path}:{sig_tag}"))["layers"][0]["annotations"]
    assert ann["dev.sigstore.cosign/certificate"] == pki.leaf.read_text()
    assert ann["dev.sigstore.cosign/chain"] == pki.chain.read_text()
    assert _openssl_ok(pki, pki.leaf, pki.crl_empty)
    v = lockgate(
        "verify", f"oci:{layout.path}:v1", "--ca-roots", str(pki.root), "--crl", str(pki.crl_empty), "-f", "json"
    )
    assert v.returncode == 0, v.stderr
    [check] = json.loads(v.stdout)["signatures"]
    assert check["ok"] and check["certificate"] == pki.leaf_fp


def test_revoked_certificate_refused(layout: OCILayout, trust_keys: dict[str, Path], pki: Pki) -> None:
    _sign(layout, trust_keys, pki.leaf, pki)
    assert not _openssl_ok(pki, pki.leaf, pki.crl_revoked)  # the oracle agrees it is revoked
    v = lockgate("verify", f"oci:{layout.path}:v1", "--ca-roots", str(pki.root), "--crl", str(pki.crl_revoked))
    assert v.returncode == 1 and "revoked" in v.stderr


def test_untrusted_root_and_wrong_usage(layout: OCILayout, trust_keys: dict[str, Path], pki: Pki) -> None:
    _sign(layout, trust_keys, pki.leaf, pki)
    v = lockgate("verify", f"oci:{layout.path}:v1", "--ca-roots", str(pki.other_root))
    assert v.returncode == 1 and "does not chain" in v.stderr
    _sign(layout, trust_keys, pki.server_leaf, pki)
    v = lockgate("verify", f"oci:{layout.path}:v1", "--ca-roots", str(pki.root), "-f", "json")
    assert v.returncode == 0  # the code-signing certificate's signature still counts...
    reasons = [s["reason"] for s in json.loads(v.stdout)["signatures"] if not s["ok"]]
    assert reasons == ["signing certificate lacks the code-signing extended key usage"]  # ...the server one does not


def test_certificate_must_match_key(layout: OCILayout, trust_keys: dict[str, Path], pki: Pki) -> None:
    r = lockgate(
        "sign", f"oci:{layout.path}:v1", "--key", f"{trust_keys['mallory']}.key", "--certificate", str(pki.leaf)
    )
    assert r.returncode == 2 and "does not belong" in r.stderr


def test_policy_names_certificate_by_fingerprint(
    layout: OCILayout, trust_keys: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    _sign(layout, trust_keys, pki.leaf, pki)
    for fp, allowed in ((pki.leaf_fp, True), ("0" * 64, False)):
        policy = tmp_path / "policy.yaml"
        policy.write_text(
            'trust:\n  - scope: "**"\n'
            f'    ca_roots: {pki.root}\n    crls: [{pki.crl_empty}]\n    signers: {{keys: ["{fp}"]}}\n'
        )
        r = lockgate("verify", f"oci:{layout.path}:v1", "--policy", str(policy))
        assert (r.returncode == 0) is allowed, r.stderr


def test_certificate_revoked_by_fingerprint(layout: OCILayout, trust_keys: dict[str, Path], pki: Pki) -> None:
    _sign(layout, trust_keys, pki.leaf, pki)
    assert lockgate("verify", f"oci:{layout.path}:v1", "--ca-roots", str(pki.root)).returncode == 0
    r = lockgate("key", "revoke", pki.leaf_fp, "--reason", "certificate mis-issued")
    assert r.returncode == 0, r.stderr
    v = lockgate("verify", f"oci:{layout.path}:v1", "--ca-roots", str(pki.root))
    assert v.returncode == 1
    assert f"certificate {pki.leaf_fp[:16]} is revoked" in v.stderr
