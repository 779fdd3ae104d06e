"""Binary key files: real ones made by gpg, keytool and openssl are found; public keys and truststores are not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from lockgate.config import Settings
from lockgate.detect.secrets.custom import load_secret_settings
from lockgate.detect.secrets.keyfiles import KEY_CHECK_IDS, check_binary
from lockgate.findings.model import Severity
from lockgate.fs.directory import analyze_directory
from tests.tools import requires


def _found(root: Path, section: dict[str, object] | None = None) -> dict[str, tuple[str, Severity]]:
    analyzer = load_secret_settings(section).analyzer()
    res = analyze_directory(root, [analyzer], settings=Settings())
    return {f.location.path: (f.id, f.severity) for f in res.findings}


def _run(*argv: str, **kw: object) -> bytes:
    return subprocess.run(list(argv), check=True, capture_output=True, **kw).stdout  # type: ignore[call-overload,no-any-return]


@pytest.fixture(scope="module")
def gpg_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GnuPG home with an unprotected and a protected key, plus their binary exports."""
    root = tmp_path_factory.mktemp("gpg")
    home = root / "home/.gnupg"
    home.mkdir(parents=True, mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    gpg = ["gpg", "--batch", "--pinentry-mode", "loopback"]
    _run(*gpg, "--passphrase", "", "--quick-gen-key", "open <o@example.invalid>", "ed25519", "sign", "never", env=env)
    _run(*gpg, "--passphrase", "pw", "--quick-gen-key", "prot <p@example.invalid>", "rsa2048", "sign", "never", env=env)
    out = root / "exports"
    out.mkdir()
    (out / "open-secret.gpg").write_bytes(
        _run(*gpg, "--passphrase", "", "--export-secret-keys", "o@example.invalid", env=env)
    )
    (out / "prot-secret.gpg").write_bytes(
        _run(*gpg, "--passphrase", "pw", "--export-secret-keys", "p@example.invalid", env=env)
    )
    (out / "open-subkeys.gpg").write_bytes(
        _run(*gpg, "--passphrase", "", "--export-secret-subkeys", "o@example.invalid", env=env)
    )
    (out / "public.gpg").write_bytes(_run(*gpg, "--export", "o@example.invalid", env=env))
    _run("gpgconf", "--kill", "gpg-agent", env=env)
    return root


@requires("gpg")
def test_gpg_secret_keys_found_public_keys_not(gpg_files: Path) -> None:
    found = _found(gpg_files)
    assert found["exports/open-secret.gpg"] == ("private-key-pgp-binary", Severity.CRITICAL)
    assert found["exports/prot-secret.gpg"] == ("private-key-pgp-binary", Severity.HIGH)
    assert "exports/open-subkeys.gpg" in found  # primary key stubbed (gnu-dummy S2K), subkey still secret
    agent = {p: v for p, v in found.items() if "/private-keys-v1.d/" in p}
    assert sorted(v for v in agent.values()) == [
        ("private-key-gpg-agent", Severity.CRITICAL),
        ("private-key-gpg-agent-protected", Severity.HIGH),
    ]
    for path in found:
        assert not path.endswith(("public.gpg", "pubring.kbx", "trustdb.gpg")), path


@requires("gpg")
def test_key_file_checks_can_be_disabled_and_allowed(gpg_files: Path) -> None:
    found = _found(gpg_files, {"disable_rules": ["private-key-pgp-binary"]})
    assert not any(v[0] == "private-key-pgp-binary" for v in found.values())
    found = _found(gpg_files, {"allow": [{"id": "exports", "path": "^exports/"}]})
    assert not any(p.startswith("exports/") for p in found)
    assert any("/private-keys-v1.d/" in p for p in found)


def _canonical_sexp(*items: object) -> bytes:
    """libgcrypt's canonical S-expression encoding (length-prefixed atoms)."""
    out = b"("
    for item in items:
        if isinstance(item, tuple):
            out += _canonical_sexp(*item)
        else:
            atom = item.encode() if isinstance(item, str) else item
            assert isinstance(atom, bytes)
            out += str(len(atom)).encode() + b":" + atom
    return out + b")"


def test_gpg_agent_canonical_format(tmp_path: Path) -> None:
    """The agent's pre-2.2.20 binary format, written from a real Ed25519 key as libgcrypt lays it out."""
    key = ed25519.Ed25519PrivateKey.generate()
    d = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    q = b"\x40" + key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ecc = ("ecc", ("curve", "Ed25519"), ("flags", "eddsa"), ("q", q), ("d", d))
    (tmp_path / "k1.key").write_bytes(_canonical_sexp("private-key", ecc) + b"\0")
    (tmp_path / "k2.key").write_bytes(_canonical_sexp("protected-private-key", ecc) + b"\0")
    (tmp_path / "k3.key").write_bytes(_canonical_sexp("shadowed-private-key", ecc) + b"\0")  # smart-card stub
    found = _found(tmp_path)
    assert found == {
        "k1.key": ("private-key-gpg-agent", Severity.CRITICAL),
        "k2.key": ("private-key-gpg-agent-protected", Severity.HIGH),
    }


@requires("keytool")
@requires("openssl")
def test_keystores_with_keys_found_truststores_not(tmp_path: Path) -> None:
    for store in ("JKS", "JCEKS", "PKCS12"):
        _run("keytool", "-genkeypair", "-keystore", str(tmp_path / f"app.{store.lower()}"), "-storetype", store,
             "-storepass", "changeit", "-keypass", "changeit", "-alias", "app", "-dname", "CN=app",
             "-keyalg", "EC")  # fmt: skip
    _run("keytool", "-genseckey", "-keystore", str(tmp_path / "secret.jceks"), "-storetype", "JCEKS",
         "-storepass", "changeit", "-keypass", "changeit", "-alias", "aes", "-keyalg", "AES",
         "-keysize", "128")  # fmt: skip
    # a truststore: only the certificate of app, in JKS and PKCS#12
    cert = tmp_path / "app.crt"
    _run("keytool", "-exportcert", "-keystore", str(tmp_path / "app.jks"), "-storepass", "changeit", "-alias", "app",
         "-file", str(cert))  # fmt: skip
    for store in ("JKS", "PKCS12"):
        _run("keytool", "-importcert", "-noprompt", "-keystore", str(tmp_path / f"trust.{store.lower()}"),
             "-storetype", store, "-storepass", "changeit", "-alias", "ca", "-file", str(cert))  # fmt: skip
    # openssl's PKCS#12, with and without encrypting the key bag
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=o",
         "-keyout", str(tmp_path / "o.pem"), "-out", str(tmp_path / "o-cert.pem"), "-days", "2")  # fmt: skip
    for name, extra in (("enc.p12", []), ("plain.p12", ["-keypbe", "NONE", "-certpbe", "NONE", "-nomac"])):
        _run("openssl", "pkcs12", "-export", "-inkey", str(tmp_path / "o.pem"), "-in", str(tmp_path / "o-cert.pem"),
             "-out", str(tmp_path / name), "-passout", "pass:changeit", *extra)  # fmt: skip
    for junk in ("o.pem", "o-cert.pem", "app.crt"):
        (tmp_path / junk).unlink()
    found = _found(tmp_path)
    assert found == {
        "app.jks": ("keystore-java", Severity.HIGH),
        "app.jceks": ("keystore-java", Severity.HIGH),
        "secret.jceks": ("keystore-java", Severity.HIGH),
        "app.pkcs12": ("keystore-pkcs12", Severity.HIGH),
        "enc.p12": ("keystore-pkcs12", Severity.HIGH),
        "plain.p12": ("keystore-pkcs12", Severity.CRITICAL),
    }


def test_system_truststores_and_binaries_are_not_keys() -> None:
    """Real files of this machine: the JDK's cacerts, the CA bundle, executables and shared objects."""
    candidates = [Path("/etc/ssl/certs/java/cacerts"), *Path("/usr/lib/jvm").glob("*/lib/security/cacerts")]
    candidates += [
        Path("/bin/ls"),
        Path("/usr/bin/gpg"),
        *sorted(Path("/usr/lib/x86_64-linux-gnu").glob("*.so*"))[:300],
    ]
    checked = 0
    for path in candidates:
        if path.is_file():
            assert check_binary(path.read_bytes(), KEY_CHECK_IDS) is None, path
            checked += 1
    assert checked > 100
