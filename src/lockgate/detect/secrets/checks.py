"""Small validators that make loose patterns precise: entropy, checksums, decodable structure.

Hand-written because each is a few lines over the standard library (zlib, base64, json).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from collections import Counter

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE62_INVERTED = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def shannon_entropy(data: bytes) -> float:
    """Bits per symbol of ``data`` (0 for empty input)."""
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


def base62_encode(value: int, alphabet: str = BASE62, pad: int = 6) -> str:
    """``value`` in base 62, left-padded with the alphabet's zero to ``pad`` characters."""
    out = ""
    while value:
        value, rem = divmod(value, 62)
        out = alphabet[rem] + out
    return out.rjust(pad, alphabet[0])


def github_checksum_ok(token: bytes) -> bool:
    """True when the last six characters are the base62 CRC32 of the 30-character random part.

    GitHub's 2021 token format (``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_``): prefix, 30
    random base62 characters, 6-character checksum. Both base62 alphabet orders in use by
    implementations are accepted.
    """
    if len(token) != 40:
        return False
    body, check = token[4:34], token[34:].decode("ascii", "replace")
    crc = zlib.crc32(body)
    return check in (base62_encode(crc, BASE62), base62_encode(crc, BASE62_INVERTED))


def _b64url(part: bytes) -> bytes:
    return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))


def jwt_ok(token: bytes) -> bool:
    """True when the header decodes to a JSON object naming an ``alg`` and the payload to JSON."""
    try:
        head, payload, _ = token.split(b".", 2)
        h = json.loads(_b64url(head))
        p = json.loads(_b64url(payload))
    except (ValueError, binascii.Error):
        return False
    return isinstance(h, dict) and "alg" in h and isinstance(p, dict) and str(h.get("alg")).lower() != "none"


def basic_auth_ok(value: bytes) -> bool:
    """True when ``value`` is base64 of ``user:password`` with a non-empty password."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        return False
    user, sep, pw = raw.partition(b":")
    return bool(sep and user and pw) and all(32 <= b < 127 for b in raw)
