"""Redaction: the only form in which a matched secret leaves the scanner."""

from __future__ import annotations

MASK = "*****"


def redact(secret: bytes | str, *, hint: bool = True) -> str:
    """A short hint of ``secret``: at most 4 leading characters (a quarter of it) and a fixed mask.

    The mask has a fixed length so neither the value nor its length leaks. Prefixes such as
    ``AKIA`` or ``ghp_`` stay visible because they name the credential type, not its value;
    ``hint=False`` (passwords, which have no such prefix) shows the mask alone.
    """
    if not hint:
        return MASK
    text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
    text = "".join(ch if ch.isprintable() and not ch.isspace() else "?" for ch in text)
    keep = min(4, len(text) // 4)
    return text[:keep] + MASK
