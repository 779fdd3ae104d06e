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

from lockgate.errors import ConfigError, InputError, UnavailableError

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


_PKESK, _SKESK = 1, 3


def _packet(buf: bytes, pos: int) -> tuple[int, int, int] | None:
    """(tag, body start, end) of the OpenPGP packet at ``pos`` (RFC 4880 4.2); None for partial/indeterminate
    lengths, which only data packets use."""
    if pos + 2 > len(buf) or not buf[pos] & 0x80:
        raise InputError("OpenPGP wrapped key is not an OpenPGP message")
    first = buf[pos]
    if first & 0x40:  # new format
        tag, l1 = first & 0x3F, buf[pos + 1]
        if l1 < 192:
            start, length = pos + 2, l1
        elif l1 < 224:
            start, length = pos + 3, ((l1 - 192) << 8) + buf[pos + 2] + 192 if pos + 3 <= len(buf) else -1
        elif l1 == 255:
            start, length = pos + 6, int.from_bytes(buf[pos + 2 : pos + 6], "big") if pos + 6 <= len(buf) else -1
        else:
            return None
    else:
        tag, kind = (first >> 2) & 0x0F, first & 0x03
        if kind == 3:
            return None
        size = 1 << kind
        start = pos + 1 + size
        length = int.from_bytes(buf[pos + 1 : start], "big") if start <= len(buf) else -1
    if length < 0 or start + length > len(buf):
        raise InputError("OpenPGP wrapped key is truncated")
    return tag, start, start + length


def _norm(key_id: str) -> str:
    return key_id.upper().removeprefix("0X")


def resolve_key_ids(recipient: str) -> set[str]:
    """Key ids (16 hex digits, or the 8-digit short form as given) that ``recipient`` names.

    A hex key id or fingerprint stands for itself (a fingerprint by its last 16 digits, the v4 key id);
    anything gpg's keyring knows (user id, primary key id, fingerprint) also stands for all its subkeys,
    since messages are encrypted to an encryption subkey.
    """
    ids: set[str] = set()
    value = _norm(recipient)
    if len(value) in (8, 16, 40) and all(c in "0123456789ABCDEF" for c in value):
        ids.add(value[-16:])
    exe = shutil.which("gpg2") or shutil.which("gpg")
    if exe is not None:
        proc = subprocess.run(
            [exe, "--batch", "--no-tty", "--with-colons", "--list-keys", "--", recipient],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        if proc.returncode == 0:
            for line in proc.stdout.decode(errors="replace").splitlines():
                f = line.split(":")
                if f[0] in ("pub", "sub") and len(f) > 4 and f[4]:
                    ids.add(_norm(f[4]))
    return ids


def recipient_key_ids(blob: bytes) -> list[str]:
    """The key ids of the message's public-key encrypted session key packets (as ``gpg --list-packets``)."""
    out, pos = [], 0
    while pos < len(blob):
        p = _packet(blob, pos)
        if p is None or p[0] not in (_PKESK, _SKESK):
            break
        tag, start, end = p
        if tag == _PKESK and end - start >= 9 and blob[start] == 3:
            out.append(blob[start + 1 : start + 9].hex().upper())
        pos = end
    return out


def remove_recipients(blob: bytes, key_ids: Sequence[set[str]]) -> tuple[bytes | None, set[int]]:
    """Drop the session-key packets for the key ids in ``key_ids`` (one set per recipient to remove).

    The encrypted data packet is untouched (its session key is unchanged), so the remaining recipients
    still decrypt it. Returns the new message (None when no session-key packet is left) and the indexes
    (into ``key_ids``) that were found.
    """
    kept: list[bytes] = []
    found: set[int] = set()
    pos = 0
    esks = 0
    while pos < len(blob):
        p = _packet(blob, pos)
        if p is None or p[0] not in (_PKESK, _SKESK):
            break
        tag, start, end = p
        esks += 1
        hits: set[int] = set()
        if tag == _PKESK and end - start >= 9 and blob[start] == 3:  # v3 PKESK: version, 8-byte key id
            kid = blob[start + 1 : start + 9].hex().upper()
            hits = {i for i, ids in enumerate(key_ids) if any(kid.endswith(x) for x in ids)}
        found |= hits
        if not hits:
            kept.append(blob[pos:end])
        pos = end
    if esks == 0 or pos >= len(blob):
        raise InputError("OpenPGP wrapped key has no session-key packets or no encrypted data")
    if len(kept) == esks:
        return blob, found
    if not kept:
        return None, found
    return b"".join(kept) + blob[pos:], found
