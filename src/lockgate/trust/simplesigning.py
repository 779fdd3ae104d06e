"""cosign's simple-signing payload: build it for signing, parse and check it when verifying.

Shape (cosign ``pkg/cosign/payload``; field order as Go marshals the structs)::

    {"critical": {"identity": {"docker-reference": "registry/repo"},
                  "image": {"docker-manifest-digest": "sha256:..."},
                  "type": "cosign container image signature"},
     "optional": {...annotations...} | null}

lockgate adds ``optional.timestamp`` (Unix seconds, as the containers/image simple-signing format does) and
``optional.creator``; verifiers that compare only the annotations they are given (cosign ``-a``) ignore them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lockgate.errors import InputError

PAYLOAD_TYPE = "cosign container image signature"
MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
MAX_PAYLOAD_BYTES = 256 * 1024


def make_payload(docker_reference: str, manifest_digest: str, optional: dict[str, Any] | None = None) -> bytes:
    """The payload bytes to sign (compact JSON, as cosign writes)."""
    doc = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": optional or None,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Payload:
    """A parsed simple-signing payload."""

    docker_reference: str
    manifest_digest: str
    type: str
    optional: dict[str, Any] = field(default_factory=dict)

    @property
    def signed_at(self) -> datetime | None:
        """``optional.timestamp`` as a UTC time (the signer's claim), if present and numeric."""
        ts = self.optional.get("timestamp")
        if isinstance(ts, int | float) and not isinstance(ts, bool) and 0 < ts < 1e11:
            return datetime.fromtimestamp(ts, UTC)
        return None

    def annotation_mismatch(self, wanted: dict[str, str]) -> str | None:
        """Why the payload's annotations do not contain ``wanted`` (``None`` when they do)."""
        for k, v in wanted.items():
            if k not in self.optional:
                return f"annotation {k!r} missing"
            have = self.optional[k]
            if (have if isinstance(have, str) else json.dumps(have)) != v:
                return f"annotation {k!r} is {have!r}, not {v!r}"
        return None


def parse_payload(raw: bytes) -> Payload:
    """Parse a simple-signing payload; raise :class:`InputError` when it is not one."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise InputError(f"signature payload is {len(raw)} bytes (limit {MAX_PAYLOAD_BYTES})")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("signature payload is not JSON") from None
    crit = doc.get("critical") if isinstance(doc, dict) else None
    if not isinstance(crit, dict):
        raise InputError("signature payload lacks 'critical'")
    ident = crit.get("identity")
    image = crit.get("image")
    if not isinstance(ident, dict) or not isinstance(image, dict):
        raise InputError("signature payload lacks critical.identity or critical.image")
    # cosign's Go struct tag is "docker-manifest-digest"; the Red Hat spec also spells it
    # "Docker-manifest-digest" in places, and Go's JSON decoder matches case-insensitively.
    digest = next((v for k, v in image.items() if k.lower() == "docker-manifest-digest"), None)
    ref = next((v for k, v in ident.items() if k.lower() == "docker-reference"), None)
    if not isinstance(digest, str):
        raise InputError("signature payload lacks docker-manifest-digest")
    opt = doc.get("optional")
    return Payload(
        docker_reference=ref if isinstance(ref, str) else "",
        manifest_digest=digest,
        type=str(crit.get("type", "")),
        optional=opt if isinstance(opt, dict) else {},
    )


def same_repository(a: str, b: str) -> bool:
    """True when two repository names are the same (``index.docker.io`` == ``docker.io``, ``library/`` implied)."""
    return _norm(a) == _norm(b)


def _norm(name: str) -> str:
    name = name.split("@", 1)[0]
    last = name.rfind("/")
    colon = name.rfind(":")
    if colon > last:
        name = name[:colon]
    for prefix in ("index.docker.io/", "registry-1.docker.io/"):
        if name.startswith(prefix):
            name = "docker.io/" + name[len(prefix) :]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif name.startswith("docker.io/") and name.count("/") == 1:
        name = "docker.io/library/" + name[len("docker.io/") :]
    return name
