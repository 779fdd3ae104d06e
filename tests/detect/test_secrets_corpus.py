"""The shared corpus as real data: every private key in it is found (OpenSSL, GnuPG as oracles), nothing else is."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from lockgate.config import Settings
from lockgate.detect.secrets.analyzer import SecretAnalyzer
from lockgate.fs.directory import analyze_directory

PEM_RULES = {
    b"RSA PRIVATE KEY": "private-key-rsa",
    b"EC PRIVATE KEY": "private-key-ec",
    b"PRIVATE KEY": "private-key-pkcs8",
}


def _openssl_verdict(path: Path) -> str | None:
    """Rule id the file must trigger according to OpenSSL, or None when OpenSSL sees no private key."""
    data = path.read_bytes()
    if b"PRIVATE KEY-----" not in data:
        return None
    ok = subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-noout", "-passin", "pass:not-the-password"], capture_output=True
    )
    if ok.returncode == 0:
        label = data.split(b"-----BEGIN ", 1)[1].split(b"-----", 1)[0]
        return PEM_RULES[label]
    asn1 = subprocess.run(["openssl", "asn1parse", "-in", str(path)], capture_output=True, text=True)
    # EncryptedPrivateKeyInfo: the first inner object is a password-based encryption scheme
    if asn1.returncode == 0 and re.search(r"d=2 .*OBJECT\s+:(PBES2|pbeWith)", asn1.stdout):
        return "private-key-encrypted"
    return None


def _gpg_verdict(path: Path, home: Path) -> str | None:
    """``private-key-pgp-binary`` when GnuPG reads a secret key packet first; None otherwise.

    Every OpenPGP packet header has bit 7 set, so only such files are handed to gpg.
    """
    with path.open("rb") as f:
        first = f.read(1)
    if not first or not first[0] & 0x80:
        return None
    out = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--list-packets", str(path)], capture_output=True, text=True
    )
    packets = [line for line in out.stdout.splitlines() if line.startswith(":")]
    return "private-key-pgp-binary" if packets and packets[0].startswith(":secret key packet:") else None


def test_corpus_private_keys_match_openssl(corpus: Path, tmp_path: Path) -> None:
    """OpenSSL judges the PEM files, GnuPG the OpenPGP ones; lockgate must find exactly those."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    expected: dict[str, str] = {}
    for p in sorted(corpus.rglob("*")):
        if p.is_file() and not p.is_symlink() and (v := _openssl_verdict(p) or _gpg_verdict(p, home)):
            expected[p.relative_to(corpus).as_posix()] = v
    assert "private-key-pgp-binary" in expected.values()  # the ocicrypt test keys
    # cosign's scrypt+secretbox keys are not OpenSSL formats; corpus/cosign/README.md lists them as keys/*.key
    for p in sorted((corpus / "cosign/keys").glob("*.key")):
        expected[p.relative_to(corpus).as_posix()] = "private-key-cosign"
    assert len(expected) >= 10
    res = analyze_directory(corpus, [SecretAnalyzer()], settings=Settings())
    got = {f.location.path: f.id for f in res.findings}
    assert got == expected
    assert res.gaps == ()
