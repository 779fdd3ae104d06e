"""OpenPGP recipients through gpg, with ocicrypt's own test keyring from the corpus; skopeo is the oracle.

Each test gets a private GNUPGHOME under /tmp (gpg-agent's socket path is length-limited) and stops
its agent afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.encryption._helpers import lockgate, skopeo, top_manifest


@pytest.fixture
def gnupg(corpus: Path) -> Iterator[tuple[dict[str, str], Path]]:
    keys = corpus / "ocicrypt" / "keys"
    home = tempfile.mkdtemp(prefix="lg-gpgtest-", dir="/tmp")
    env = {"GNUPGHOME": home}
    subprocess.run(
        ["gpg", "--batch", "-q", "--homedir", home, "--import", str(keys / "gpg-pubring.gpg")],
        check=True,
        capture_output=True,
    )
    yield env, keys
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)
    shutil.rmtree(home, ignore_errors=True)


def test_skopeo_encrypts_lockgate_decrypts(tmp_path: Path, plain: Path, gnupg: tuple[dict[str, str], Path]) -> None:
    env, keys = gnupg
    p = skopeo(
        "copy", "-q", "--encryption-key", "pgp:testkey1@key.org", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", env=env
    )
    assert p.returncode == 0, p.stderr
    assert "org.opencontainers.image.enc.keys.pgp" in top_manifest(tmp_path / "enc")[1]["layers"][0]["annotations"]
    secret1, secret2 = keys / "gpg-testkey1-secret.gpg", keys / "gpg-testkey2-secret.gpg"
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/bad:v1", "--key", f"pgp:{secret2}", env=env)
    assert r.returncode == 3 and "none of the given keys can decrypt" in r.stderr
    assert not (tmp_path / "bad").exists()
    r = lockgate("decrypt", f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1", "--key", f"pgp:{secret1}", env=env)
    assert r.returncode == 0, r.stderr
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]


def test_lockgate_encrypts_skopeo_decrypts(tmp_path: Path, plain: Path, gnupg: tuple[dict[str, str], Path]) -> None:
    env, keys = gnupg
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", "-r", "pgp:testkey2@key.org", env=env)
    assert r.returncode == 0, r.stderr
    p = skopeo(
        "copy", "-q", "--decryption-key", str(keys / "gpg-testkey1-secret.gpg"),
        f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/bad:v1", env=env,
    )  # fmt: skip
    assert p.returncode != 0
    p = skopeo(
        "copy", "-q", "--decryption-key", str(keys / "gpg-testkey2-secret.gpg"),
        f"oci:{tmp_path}/enc:v1", f"oci:{tmp_path}/dec:v1", env=env,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert top_manifest(tmp_path / "dec")[1] == top_manifest(plain)[1]


def test_unknown_recipient(tmp_path: Path, plain: Path, gnupg: tuple[dict[str, str], Path]) -> None:
    env, _ = gnupg
    r = lockgate("encrypt", f"oci:{plain}:v1", f"oci:{tmp_path}/enc:v1", "-r", "pgp:nobody@example.org", env=env)
    assert r.returncode == 2 and "gpg could not encrypt for nobody@example.org" in r.stderr
    assert not (tmp_path / "enc").exists()
