"""Keys from the corpus (``intoto/in-toto/pems``, password-encrypted PKCS#8 as in-toto's tests use them) sign
links in-toto accepts; hostile or malformed layouts, links and envelopes fail with one-line reasons and no
traceback."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lockgate.attest.intoto.keys import IntotoKey
from lockgate.attest.intoto.verify import verify_pipeline
from lockgate.errors import InputError, PolicyFailure
from lockgate.trust.keys.files import load_public_key

from ._helpers import lockgate, one_line_reason
from ._intoto import run_intoto


@pytest.mark.parametrize("kind", ["rsa", "ecdsa", "ed25519"])
def test_encrypted_corpus_keys_sign_links_in_toto_accepts(corpus: Path, tmp_path: Path, kind: str) -> None:
    pems = corpus / "intoto/in-toto/pems"
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(pems / f"{kind}_private_encrypted.pem", ws / "func.pem")
    shutil.copy(pems / f"{kind}_public.pem", ws / "func.pub")
    shutil.copy(pems / "rsa_private_unencrypted.pem", ws / "owner.pem")
    shutil.copy(pems / "rsa_public.pem", ws / "owner.pub")
    (ws / "in.txt").write_text("hello\n")
    r = lockgate("step", "run", "--name", "copy", "--key", "func.pem", "-m", "in.txt", "-p", "out.txt",
                 "--", "cp", "in.txt", "out.txt", cwd=ws, env={"LOCKGATE_PASSWORD": "hunter2"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    func = IntotoKey.from_public_key(load_public_key(ws / "func.pub"))
    assert (ws / f"copy.{func.keyid[:8]}.link").is_file()
    layout = {
        "_type": "layout", "expires": (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keys": {func.keyid: func.to_dict()}, "inspect": [],
        "steps": [{"_type": "step", "name": "copy", "pubkeys": [func.keyid], "threshold": 1,
                   "expected_command": ["cp", "in.txt", "out.txt"],
                   "expected_materials": [["ALLOW", "in.txt"], ["DISALLOW", "*"]],
                   "expected_products": [["CREATE", "out.txt"], ["DISALLOW", "*"]]}],
    }  # fmt: skip
    (ws / "t.layout").write_text(json.dumps({"signed": layout, "signatures": []}))
    s = lockgate("step", "sign-layout", "t.layout", "--key", "owner.pem", "-o", "root.layout", cwd=ws)
    assert s.returncode == 0, s.stderr
    theirs = run_intoto("in-toto-verify", "--layout", "root.layout", "--verification-keys", "owner.pub", cwd=ws)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    ours = lockgate("verify-pipeline", "--layout", "root.layout", "--layout-key", "owner.pub", cwd=ws)
    assert ours.returncode == 0, ours.stderr


def _signed_layout(tmp_path: Path, signed: dict[str, Any]) -> tuple[bytes, Any]:
    from cryptography.hazmat.primitives.asymmetric import ec

    from lockgate.attest.intoto.metadata import sign_metadata
    from lockgate.trust.keys.files import FileSigner

    owner = FileSigner(ec.generate_private_key(ec.SECP256R1()), "owner")
    return sign_metadata(signed, [owner]), owner.public_key


BASE: dict[str, Any] = {"_type": "layout", "expires": "2099-01-01T00:00:00Z", "keys": {}, "steps": [], "inspect": []}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"_type": "link"}, "not a layout"),
        ({"expires": "soon"}, "ISO 8601"),
        ({"steps": [{"name": "a", "pubkeys": ["ff" * 32]}]}, "not in the layout's keys"),
        ({"steps": [{"name": "a", "pubkeys": [], "threshold": 2}]}, "0 of 2 required links"),
        ({"steps": [{"name": "a", "expected_materials": [["MATCH", "*"]]}]}, "malformed MATCH"),
        ({"steps": [{"name": "a"}, {"name": "a"}]}, "duplicate"),
        ({"inspect": [{"name": "i", "run": []}]}, "must name a command"),
        ({"keys": {"k": {"keytype": "rsa", "scheme": "rsassa-pss-sha256", "keyval": {"public": "nope"}}}},
         "cannot parse"),
    ],
)  # fmt: skip
def test_malformed_layouts(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    data, pub = _signed_layout(tmp_path, BASE | change)
    with pytest.raises((InputError, PolicyFailure), match=message):
        verify_pipeline(data, [pub], tmp_path)


def test_hostile_files_give_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "layout.json").write_text("{not json")
    (tmp_path / "key.pub").write_text("not a key")
    r = lockgate("verify-pipeline", "--layout", "layout.json", "--layout-key", "key.pub", cwd=tmp_path)
    assert r.returncode in (2, 3) and "key.pub" in one_line_reason(r)
    data, pub = _signed_layout(tmp_path, BASE | {"steps": [{"name": "s", "pubkeys": []}]})
    (tmp_path / "root.layout").write_bytes(data)
    (tmp_path / "owner.pub").write_bytes(pub.pem())
    bad_link = tmp_path / "links"
    bad_link.mkdir()
    r = lockgate("verify-pipeline", "--layout", "missing.layout", "--layout-key", "owner.pub", cwd=tmp_path)
    assert r.returncode == 3 and "not found" in one_line_reason(r)
    (tmp_path / "env.json").write_text(json.dumps({"payloadType": "x", "payload": "!!", "signatures": [{"sig": ""}]}))
    r = lockgate("verify-pipeline", "--layout", "env.json", "--layout-key", "owner.pub", cwd=tmp_path)
    assert r.returncode == 3 and "base64" in one_line_reason(r)
    r = lockgate("verify-attestation", f"oci:{tmp_path}/nothing:v1", "--key", "owner.pub", cwd=tmp_path)
    assert r.returncode in (2, 3) and one_line_reason(r)
    r = lockgate("step", "run", "--name", "../x", "--key", "owner.pub", "--", "true", cwd=tmp_path)
    assert r.returncode in (2, 3) and one_line_reason(r)
