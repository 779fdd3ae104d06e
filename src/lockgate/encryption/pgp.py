"""OpenPGP key wrapping (``org.opencontainers.image.enc.keys.pgp``) through the ``gpg`` command, as ocicrypt does.

The layer options are encrypted with ``gpg --encrypt`` for each key id/user id (binary OpenPGP message)
and decrypted with ``gpg --decrypt`` using gpg's own secret keyring (``GNUPGHOME``), so private keys stay
with gpg and its agent. Always non-interactive (``--batch``); passphrase-protected keys need a running agent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence

from lockgate.errors import ConfigError, UnavailableError

TIMEOUT = 60


def _gpg() -> list[str]:
    exe = shutil.which("gpg2") or shutil.which("gpg")
    if exe is None:
        raise UnavailableError("gpg is not installed (needed for pgp: recipients and keys)")
    return [exe, "--batch", "--no-tty", "--quiet", "--yes"]


def wrap(recipients: Sequence[str], data: bytes) -> bytes:
    """An OpenPGP message of ``data`` for ``recipients`` (key ids, fingerprints or user ids in the keyring)."""
    argv = [*_gpg(), "--trust-model", "always", "--encrypt"]
    for r in recipients:
        argv += ["--recipient", r]
    proc = subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT, check=False, env=os.environ.copy())
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise ConfigError(f"gpg could not encrypt for {', '.join(recipients)}: {err[-1] if err else 'failed'}")
    return proc.stdout


def _decrypt(blob: bytes, homedir: str | None) -> bytes | None:
    home = ["--homedir", homedir] if homedir else []
    proc = subprocess.run(
        [*_gpg(), *home, "--pinentry-mode", "loopback", "--passphrase", "", "--decrypt"],
        input=blob,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 and proc.stdout else None


def unwrap(blob: bytes, secret_key_files: Sequence[str] = ()) -> bytes | None:
    """The plaintext, or None when no secret key opens the message.

    Without ``secret_key_files`` gpg's own keyring (``GNUPGHOME``) is used; with them, the files (as
    ``gpg --export-secret-keys`` writes them, as skopeo's ``--decryption-key`` takes them) are imported
    into a private, temporary home that is removed afterwards (its agent stopped).
    """
    if not secret_key_files:
        return _decrypt(blob, None)
    home = tempfile.mkdtemp(prefix="lg-gpg-", dir="/tmp")  # short path: gpg-agent's socket name is limited
    try:
        for f in secret_key_files:
            proc = subprocess.run(
                [*_gpg(), "--homedir", home, "--import", f], capture_output=True, timeout=TIMEOUT, check=False
            )
            if proc.returncode != 0:
                raise ConfigError(f"gpg could not import secret key {f}")
        return _decrypt(blob, home)
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)
