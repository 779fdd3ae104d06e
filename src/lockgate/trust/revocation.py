"""The key revocation list: which keys may no longer sign, from when, and why.

Stored as ``<config dir>/revocations.json`` (shareable as a file)::

    {"signed": {"type": "lockgate-revocations", "version": 3, "issued": "...Z", "expires": "...Z",
                "revoked": [{"key_id": "...", "intoto_keyid": "...", "reason": "...", "revoked_at": "...Z",
                             "since": "...Z" | null}]},
     "signatures": [{"keyid": "<lockgate key id>", "sig": "<base64>"}]}

``version`` grows with every change; verifiers remember the highest version they have accepted per list
file (in ``<config dir>/revocations.state.json``) and refuse older lists (rollback) and expired ones. When a
revocation-signing public key is configured (``LOCKGATE_REVOCATION_KEY``), unsigned or badly signed lists
are refused; the signature covers the canonical JSON of ``signed``.

A signature by a revoked key is refused, unless the key was revoked with ``since`` and the signature's
trusted signing time (a verified RFC 3161 timestamp; see :mod:`lockgate.trust.timestamp`) is earlier.
Without a trusted time the signature counts as made at verification time. The payload's own
``optional.timestamp`` is the signer's claim and is never used for this.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lockgate._internal.dirs import config_dir
from lockgate.errors import ConfigError, InputError, IntegrityError
from lockgate.trust.keys.model import PublicKey, Signer, canonical_json

LIST_TYPE = "lockgate-revocations"
DEFAULT_VALIDITY = timedelta(days=365)
MAX_LIST_BYTES = 16 * 1024 * 1024


def default_path() -> Path:
    """``<config dir>/revocations.json``."""
    return config_dir() / "revocations.json"


def _state_path() -> Path:
    return config_dir() / "revocations.state.json"


def parse_time(text: str) -> datetime:
    """Parse ``YYYY-MM-DD`` or an ISO 8601 time (``Z`` allowed); naive times are UTC."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(f"invalid time {text!r} (use YYYY-MM-DD or ISO 8601)") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked key."""

    key_id: str
    reason: str
    revoked_at: datetime
    intoto_keyid: str = ""
    since: datetime | None = None
    """Signatures made at or after this time are refused; ``None`` means every signature."""

    def matches(self, key: PublicKey, certificate: str = "") -> bool:
        """True for the key by either ID, or for the signing certificate by SHA-256 fingerprint."""
        ids = {self.key_id, self.intoto_keyid} - {""}
        return key.key_id in ids or key.intoto_keyid in ids or (bool(certificate) and certificate in ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "intoto_keyid": self.intoto_keyid,
            "reason": self.reason,
            "revoked_at": format_time(self.revoked_at),
            "since": format_time(self.since) if self.since else None,
        }

    @classmethod
    def from_dict(cls, d: Any) -> Revocation:
        if not isinstance(d, dict) or not isinstance(d.get("key_id"), str):
            raise InputError("revocation entry lacks key_id")
        since = d.get("since")
        return cls(
            key_id=d["key_id"].lower(),
            intoto_keyid=str(d.get("intoto_keyid") or "").lower(),
            reason=str(d.get("reason") or ""),
            revoked_at=parse_time(str(d.get("revoked_at") or "1970-01-01")),
            since=parse_time(str(since)) if since else None,
        )


@dataclass(frozen=True, slots=True)
class RevocationList:
    """A versioned, expiring list of revoked keys."""

    version: int = 0
    issued: datetime = field(default_factory=lambda: datetime.now(UTC))
    expires: datetime = field(default_factory=lambda: datetime.now(UTC) + DEFAULT_VALIDITY)
    revoked: tuple[Revocation, ...] = ()
    signatures: tuple[tuple[str, str], ...] = ()
    """``(keyid, base64 signature)`` pairs over the canonical ``signed`` object."""

    def signed_dict(self) -> dict[str, Any]:
        return {
            "type": LIST_TYPE,
            "version": self.version,
            "issued": format_time(self.issued),
            "expires": format_time(self.expires),
            "revoked": [r.to_dict() for r in self.revoked],
        }

    def to_json(self) -> bytes:
        doc = {
            "signed": self.signed_dict(),
            "signatures": [{"keyid": k, "sig": s} for k, s in self.signatures],
        }
        return json.dumps(doc, indent=2).encode() + b"\n"

    def check(self, key: PublicKey, signed_at: datetime | None, certificate: str = "") -> str | None:
        """Why a signature by ``key`` is refused; ``None`` if it is not.

        ``signed_at`` is a *trusted* signing time (an RFC 3161 timestamp); without one the signature is
        taken to be made now, so a key revoked from a future date still verifies until then.
        """
        when_signed = signed_at or datetime.now(UTC)
        for r in self.revoked:
            if not r.matches(key, certificate):
                continue
            if r.since is not None and when_signed < r.since:
                continue
            when = f" since {format_time(r.since)}" if r.since else ""
            why = f": {r.reason}" if r.reason else ""
            what = (
                f"certificate {certificate[:16]}"
                if certificate and r.key_id == certificate
                else f"key {key.key_id[:16]}"
            )
            return f"{what} is revoked{when}{why}"
        return None


def parse_list(data: bytes) -> RevocationList:
    """Parse the JSON form (no checks beyond structure)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InputError("revocation list is not valid JSON") from None
    signed = doc.get("signed") if isinstance(doc, dict) else None
    if not isinstance(signed, dict) or signed.get("type") != LIST_TYPE:
        raise InputError("not a lockgate revocation list")
    version = signed.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise InputError("revocation list version must be a non-negative integer")
    revoked = signed.get("revoked")
    if not isinstance(revoked, list):
        raise InputError("revocation list lacks 'revoked'")
    sigs = doc.get("signatures") or []
    if not isinstance(sigs, list):
        raise InputError("revocation list 'signatures' is not a list")
    return RevocationList(
        version=version,
        issued=parse_time(str(signed.get("issued") or "1970-01-01")),
        expires=parse_time(str(signed.get("expires") or "1970-01-01")),
        revoked=tuple(Revocation.from_dict(r) for r in revoked),
        signatures=tuple((str(s.get("keyid", "")), str(s.get("sig", ""))) for s in sigs if isinstance(s, dict)),
    )


def _signing_public_key() -> PublicKey | None:
    spec = os.environ.get("LOCKGATE_REVOCATION_KEY")
    if not spec:
        return None
    from lockgate.trust.keys.resolve import load_verifier

    return load_verifier(spec)


def _state() -> dict[str, int]:
    try:
        doc = json.loads(_state_path().read_text())
    except (OSError, ValueError):
        return {}
    seen = doc.get("highest_version") if isinstance(doc, dict) else None
    if not isinstance(seen, dict):
        return {}
    return {str(k): v for k, v in seen.items() if isinstance(v, int)}


def _highest_seen(path: Path) -> int:
    """The highest version accepted before from the list at ``path`` (per absolute path)."""
    return _state().get(str(path.resolve()), 0)


def _remember(path: Path, version: int) -> None:
    state = _state()
    key = str(path.resolve())
    if version <= state.get(key, 0):
        return
    state[key] = version
    p = _state_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"highest_version": state}, indent=1))
    tmp.replace(p)


def load_revocations(
    path: Path | None = None, *, signing_key: PublicKey | None = None, now: datetime | None = None
) -> RevocationList:
    """Load and check the revocation list (default: the config dir's; an absent list is empty).

    Refuses an expired list, a version lower than the highest seen before (rollback) and, when a
    revocation-signing key is given or configured, an unsigned or badly signed list.
    """
    path = path or default_path()
    signing_key = signing_key or _signing_public_key()
    highest = _highest_seen(path)
    if not path.exists():
        if highest > 0:
            raise IntegrityError(f"revocation list {path} is missing but version {highest} was seen (rollback?)")
        if signing_key is not None:
            raise IntegrityError(f"revocation list {path} is missing but a revocation-signing key is configured")
        return RevocationList(version=0, revoked=())
    if path.stat().st_size > MAX_LIST_BYTES:
        raise InputError(f"revocation list {path} is larger than {MAX_LIST_BYTES} bytes")
    rl = parse_list(path.read_bytes())
    now = now or datetime.now(UTC)
    if rl.expires <= now:
        raise IntegrityError(f"revocation list expired at {format_time(rl.expires)}; re-issue it with 'key revoke'")
    if rl.version < highest:
        raise IntegrityError(f"revocation list version {rl.version} is older than version {highest} seen before")
    if signing_key is not None:
        _verify_list(rl, signing_key)
    _remember(path, rl.version)
    return rl


def _verify_list(rl: RevocationList, key: PublicKey) -> None:
    payload = canonical_json(rl.signed_dict())
    for keyid, sig in rl.signatures:
        if not key.matches(keyid):
            continue
        try:
            key.verify(payload, base64.b64decode(sig, validate=True))
            return
        except (IntegrityError, binascii.Error, ValueError):
            raise IntegrityError("revocation list signature is invalid") from None
    raise IntegrityError(f"revocation list is not signed by the revocation key {key.key_id[:16]}")


def write_list(rl: RevocationList, path: Path, signer: Signer | None = None) -> RevocationList:
    """Sign (when ``signer`` is given) and atomically write ``rl``; return what was written."""
    if signer is not None:
        sig = signer.sign(canonical_json(rl.signed_dict()))
        rl = replace(rl, signatures=((signer.public_key.key_id, base64.b64encode(sig).decode()),))
    else:
        rl = replace(rl, signatures=())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(rl.to_json())
    tmp.replace(path)
    _remember(path, rl.version)
    return rl


def revoke(
    ident: str | PublicKey,
    *,
    reason: str = "",
    since: datetime | None = None,
    path: Path | None = None,
    signer: Signer | None = None,
    validity: timedelta = DEFAULT_VALIDITY,
    now: datetime | None = None,
) -> RevocationList:
    """Add a key (a :class:`PublicKey`, a lockgate/in-toto key ID, or a certificate's SHA-256 fingerprint) to
    the list and bump its version."""
    path = path or default_path()
    now = now or datetime.now(UTC)
    current = parse_list(path.read_bytes()) if path.exists() else RevocationList(version=0, revoked=())
    if isinstance(ident, PublicKey):
        entry = Revocation(ident.key_id, reason, now, ident.intoto_keyid, since)
    else:
        kid = ident.lower().removeprefix("sha256:")
        if len(kid) != 64 or any(c not in "0123456789abcdef" for c in kid):
            raise ConfigError(f"{ident!r} is neither a key file nor a 64-hex key ID")
        entry = Revocation(kid, reason, now, "", since)
    kept = tuple(r for r in current.revoked if r.key_id != entry.key_id)
    new = RevocationList(
        version=current.version + 1, issued=now, expires=now + validity, revoked=(*kept, entry), signatures=()
    )
    return write_list(new, path, signer)
