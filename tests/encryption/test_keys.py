"""Key and recipient parsing: formats lockgate accepts, and clear refusals for what JWE cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from lockgate.encryption.keys import JweRecipient, PrivateKeyFile, parse_key, parse_recipient
from lockgate.errors import ConfigError, NotFoundError


def _write(path: Path, key: object, password: bytes | None = None) -> Path:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))  # type: ignore[attr-defined]
    return path


def test_encrypted_private_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = _write(tmp_path / "k.pem", key, b"s3cret")
    got = parse_key(f"{path}:s3cret")
    assert isinstance(got, PrivateKeyFile) and got.key.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="is encrypted; give its password"):
        parse_key(str(path))
    with pytest.raises(ConfigError, match="wrong password"):
        parse_key(f"{path}:nope")
    monkeypatch.setenv("LOCKGATE_KEY_PASSWORD", "s3cret")
    assert isinstance(parse_key(str(path)), PrivateKeyFile)
    plain = _write(tmp_path / "p.pem", rsa.generate_private_key(65537, 2048))
    assert isinstance(parse_key(str(plain)), PrivateKeyFile)  # the variable does not break unencrypted keys


def test_refusals(tmp_path: Path) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    pub = tmp_path / "ed.pub"
    pub.write_bytes(
        ed.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigError, match="JWE needs an RSA or EC public key"):
        parse_recipient(f"jwe:{pub}")
    small = rsa.generate_private_key(65537, 1024).public_key()
    (tmp_path / "small.pub").write_bytes(
        small.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ConfigError, match="too small"):
        parse_recipient(f"jwe:{tmp_path / 'small.pub'}")
    with pytest.raises(ConfigError, match="layer keys need RSA or EC"):
        parse_key(str(_write(tmp_path / "ed.pem", ed)))
    with pytest.raises(NotFoundError):
        parse_recipient(f"jwe:{tmp_path / 'missing.pem'}")
    with pytest.raises(ConfigError, match="unknown recipient scheme"):
        parse_recipient("age:xyz")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ConfigError, match="not a PEM or DER"):
        parse_recipient(f"jwe:{garbage}")
    # a private key names its public half (and lets --remove-recipient find kid-less entries)
    priv = ec.generate_private_key(ec.SECP256R1())
    r = parse_recipient(f"jwe:{_write(tmp_path / 'priv.pem', priv)}")
    assert isinstance(r, JweRecipient) and r.private is not None
    assert r.key.public_numbers() == priv.public_key().public_numbers()  # type: ignore[union-attr]
