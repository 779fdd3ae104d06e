"""The revocation list: versions, expiry, rollback, signed lists, ``since`` cut-offs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lockgate.errors import ConfigError, IntegrityError
from lockgate.trust.keys.files import FileSigner
from lockgate.trust.keys.model import PublicKey
from lockgate.trust.revocation import default_path, load_revocations, parse_list, revoke

from ._helpers import lockgate


def _key() -> tuple[FileSigner, PublicKey]:
    priv = ec.generate_private_key(ec.SECP256R1())
    return FileSigner(priv), PublicKey(priv.public_key())


def test_revoke_bumps_version_and_matches_both_ids() -> None:
    _, a = _key()
    _, b = _key()
    rl = revoke(a, reason="lost laptop")
    assert rl.version == 1
    rl = revoke(b.intoto_keyid, reason="left the team")
    assert rl.version == 2
    loaded = load_revocations()
    assert loaded.version == 2
    assert "lost laptop" in (loaded.check(a, None) or "")
    assert loaded.check(b, None) is not None  # matched by in-toto keyid
    _, c = _key()
    assert loaded.check(c, None) is None


def test_since_cutoff() -> None:
    _, k = _key()
    cut = datetime(2026, 6, 1, tzinfo=UTC)
    revoke(k, reason="rotated", since=cut)
    rl = load_revocations()
    assert rl.check(k, cut - timedelta(days=1)) is None
    assert rl.check(k, cut + timedelta(seconds=1)) is not None
    assert rl.check(k, None) is not None  # no trusted signing time: counts as now, after the cut-off
    _, later = _key()
    revoke(later, reason="planned", since=datetime.now(UTC) + timedelta(days=30))
    assert load_revocations().check(later, None) is None  # not revoked yet


def test_rollback_and_expiry_refused(tmp_path: Path) -> None:
    _, a = _key()
    revoke(a)
    old = default_path().read_bytes()
    revoke(_key()[1])
    assert load_revocations().version == 2
    default_path().write_bytes(old)
    with pytest.raises(IntegrityError, match="older than version 2"):
        load_revocations()
    default_path().unlink()
    with pytest.raises(IntegrityError, match="missing"):
        load_revocations()
    expired = tmp_path / "expired.json"
    revoke(a, path=expired, validity=timedelta(days=1), now=datetime.now(UTC) - timedelta(days=3))
    with pytest.raises(IntegrityError, match="expired"):
        load_revocations(expired)


def test_signed_list_required_when_key_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signer, signer_pub = _key()
    (tmp_path / "rev.pub").write_bytes(signer_pub.pem())
    _, victim = _key()
    path = tmp_path / "shared.json"
    revoke(victim, reason="x", path=path, signer=signer)
    assert load_revocations(path, signing_key=signer_pub).check(victim, None) is not None
    # unsigned copy -> refused once a signing key is configured
    doc = json.loads(path.read_text())
    doc["signatures"] = []
    (tmp_path / "unsigned.json").write_text(json.dumps(doc))
    monkeypatch.setenv("LOCKGATE_REVOCATION_KEY", str(tmp_path / "rev.pub"))
    with pytest.raises(IntegrityError, match="not signed"):
        load_revocations(tmp_path / "unsigned.json")
    # tampered content (a key removed) -> signature no longer matches
    doc = json.loads(path.read_text())
    doc["signed"]["revoked"] = []
    (tmp_path / "tampered.json").write_text(json.dumps(doc))
    with pytest.raises(IntegrityError, match="invalid"):
        load_revocations(tmp_path / "tampered.json")
    assert load_revocations(path).version == 1


def test_bad_ids_rejected() -> None:
    with pytest.raises(ConfigError):
        revoke("not-a-key-id")


def test_cli_revoke_signed_list_and_verify_blob(tmp_path: Path) -> None:
    assert lockgate("key", "generate", "--out", str(tmp_path / "rel")).returncode == 0
    assert lockgate("key", "generate", "--out", str(tmp_path / "revoker")).returncode == 0
    blob = tmp_path / "f"
    blob.write_bytes(b"payload")
    assert (
        lockgate("sign-blob", str(blob), "--key", str(tmp_path / "rel.key"), "-o", str(tmp_path / "f.sig")).returncode
        == 0
    )
    args = ("verify-blob", str(blob), "--key", str(tmp_path / "rel.pub"), "--signature", str(tmp_path / "f.sig"))
    assert lockgate(*args).returncode == 0
    r = lockgate("key", "revoke", str(tmp_path / "rel.pub"), "--reason", "compromised",
                 "--signing-key", str(tmp_path / "revoker.key"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    listed = parse_list(default_path().read_bytes())
    assert listed.version == 1 and len(listed.signatures) == 1
    env = {"LOCKGATE_REVOCATION_KEY": str(tmp_path / "revoker.pub")}
    v = lockgate(*args, env=env)
    assert v.returncode == 1
    assert "revoked" in v.stderr and "compromised" in v.stderr
