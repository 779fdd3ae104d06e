"""The keyring: public (and optionally encrypted private) keys kept in ``<config dir>/keys``.

``lockgate key generate`` and ``key import`` add the public key here (named after the key ID), so keys can
be named by ID in ``verify --key`` and in policies; ``key list`` shows the directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lockgate._internal.dirs import config_dir
from lockgate.errors import LockgateError
from lockgate.trust.keys.model import PublicKey


def keyring_dir() -> Path:
    """``<config dir>/keys``."""
    return config_dir() / "keys"


@dataclass(frozen=True, slots=True)
class KeyringEntry:
    """One key file in the keyring."""

    path: Path
    key: PublicKey | None
    private: bool
    error: str = ""


def add_public_key(key: PublicKey) -> Path:
    """Store ``key`` as ``<keyring>/<key id>.pub`` (idempotent); return the path."""
    d = keyring_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{key.key_id}.pub"
    if not path.exists():
        tmp = path.with_suffix(".pub.tmp")
        tmp.write_bytes(key.pem())
        tmp.replace(path)
    return path


def entries() -> list[KeyringEntry]:
    """Every ``*.pub`` and ``*.key`` file in the keyring, parsed where possible."""
    from lockgate.trust.keys.files import load_public_key

    d = keyring_dir()
    if not d.is_dir():
        return []
    out: list[KeyringEntry] = []
    for path in sorted(d.iterdir()):
        if path.suffix == ".pub":
            try:
                out.append(KeyringEntry(path, load_public_key(path), False))
            except LockgateError as e:
                out.append(KeyringEntry(path, None, False, str(e)))
        elif path.suffix == ".key":
            pub = path.with_suffix(".pub")
            key = None
            if pub.is_file():
                try:
                    key = load_public_key(pub)
                except LockgateError:
                    key = None
            out.append(KeyringEntry(path, key, True))
    return out


def find_key(ident: str) -> PublicKey | None:
    """The keyring's public key whose lockgate or in-toto ID is ``ident`` (full or a >=16-hex prefix).

    An ambiguous prefix raises :class:`~lockgate.errors.ConfigError`.
    """
    from lockgate.errors import ConfigError

    ident = ident.lower().removeprefix("sha256:")
    found: dict[str, PublicKey] = {}
    for e in entries():
        if e.key is None:
            continue
        if e.key.matches(ident):
            return e.key
        if len(ident) >= 16 and (e.key.key_id.startswith(ident) or e.key.intoto_keyid.startswith(ident)):
            found[e.key.key_id] = e.key
    if len(found) > 1:
        raise ConfigError(f"key ID prefix {ident} matches {len(found)} keys in the keyring; give more digits")
    return next(iter(found.values()), None)
