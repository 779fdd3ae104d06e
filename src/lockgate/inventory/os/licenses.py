"""Distro licence tokens (``GPL2``, ``GPL2+``, ``openssl``) to SPDX identifiers.

Alpine and rpm spec files use short historical names; these are mapped here and
everything else goes through the shared table in :mod:`lockgate.inventory.lang.licenses`.
SPDX expressions (with ``AND``/``OR``/``WITH``) are kept whole.
"""

from __future__ import annotations

import re

from lockgate.inventory.lang.licenses import normalize as _normalize_name

_OS_TOKENS = {
    "gpl2": "GPL-2.0-only",
    "gpl-2": "GPL-2.0-only",
    "gpl2+": "GPL-2.0-or-later",
    "gpl-2+": "GPL-2.0-or-later",
    "gpl3": "GPL-3.0-only",
    "gpl-3": "GPL-3.0-only",
    "gpl3+": "GPL-3.0-or-later",
    "gpl-3+": "GPL-3.0-or-later",
    "gpl+": "GPL-1.0-or-later",
    "lgpl2": "LGPL-2.0-only",
    "lgpl2+": "LGPL-2.0-or-later",
    "lgpl2.1": "LGPL-2.1-only",
    "lgpl2.1+": "LGPL-2.1-or-later",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgpl3": "LGPL-3.0-only",
    "lgpl3+": "LGPL-3.0-or-later",
    "openssl": "OpenSSL",
    "bsd": "BSD-3-Clause",
    "mit": "MIT",
    "zlib": "Zlib",
    "isc": "ISC",
}
_EXPRESSION = re.compile(r"\b(AND|OR|WITH)\b")


def normalize_token(token: str) -> str:
    """One licence name as SPDX where known, else as declared."""
    t = token.strip()
    return _OS_TOKENS.get(t.lower()) or _normalize_name(t)


def split_licenses(value: str, *, space_separated: bool = True) -> tuple[str, ...]:
    """Licences of one package: an SPDX expression stays whole; otherwise split and normalise."""
    value = value.strip()
    if not value:
        return ()
    if _EXPRESSION.search(value):
        return (value,)
    parts = value.split() if space_separated else [value]
    out: list[str] = []
    for part in parts:
        n = normalize_token(part)
        if n and n not in out:
            out.append(n)
    return tuple(out)
