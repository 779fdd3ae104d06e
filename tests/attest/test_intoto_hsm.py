"""in-toto links signed on a SoftHSM2 token (the trust tests' ``softhsm`` fixture: EC P-256, Ed25519, RSA keys
generated on the token) are accepted by ``in-toto-verify`` 3.1.0; an RSA token key, whose PKCS#11 mechanism is
PKCS#1 v1.5 rather than in-toto's RSA-PSS, is refused with a one-line reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lockgate.attest.intoto.keys import IntotoKey
from lockgate.trust.keys.files import load_public_key
from tests.trust.test_pkcs11 import Token, softhsm  # noqa: F401 - the session fixture is reused

from ._helpers import lockgate, one_line_reason
from ._intoto import run_intoto


@pytest.mark.parametrize("name", ["ec1", "ed1"])
def test_hsm_signed_link_verifies_with_in_toto(softhsm: Token, tmp_path: Path, name: str) -> None:  # noqa: F811
    env = {"SOFTHSM2_CONF": str(softhsm.conf)}
    (tmp_path / "a.txt").write_text("a\n")
    r = lockgate("step", "run", "--name", "hsm", "--key", softhsm.uri(name), "-m", "a.txt", "-p", "a.txt",
                 "--", "true", cwd=tmp_path, env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    func = IntotoKey.from_public_key(load_public_key(softhsm.pubs[name]))
    owner = tmp_path / "owner"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    owner.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))  # fmt: skip
    (tmp_path / "owner.pub").write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    layout = {
        "_type": "layout", "expires": (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keys": {func.keyid: func.to_dict()},
        "steps": [{"name": "hsm", "pubkeys": [func.keyid], "expected_products": [["MATCH", "a.txt", "WITH",
                   "MATERIALS", "FROM", "hsm"], ["DISALLOW", "*"]]}],
    }  # fmt: skip
    (tmp_path / "t.layout").write_text(json.dumps({"signed": layout, "signatures": []}))
    s = lockgate("step", "sign-layout", "t.layout", "--key", str(owner), "-o", "root.layout", cwd=tmp_path)
    assert s.returncode == 0, s.stderr
    theirs = run_intoto("in-toto-verify", "--layout", "root.layout", "--verification-keys", "owner.pub", cwd=tmp_path)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    ours = lockgate("verify-pipeline", "--layout", "root.layout", "--layout-key", "owner.pub", cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr


def test_rsa_token_key_refused(softhsm: Token, tmp_path: Path) -> None:  # noqa: F811
    r = lockgate("step", "run", "--name", "x", "--key", softhsm.uri("rsa1"), "--", "true", cwd=tmp_path,
                 env={"SOFTHSM2_CONF": str(softhsm.conf)})  # fmt: skip
    assert r.returncode == 2 and "RSA-PSS" in one_line_reason(r)
