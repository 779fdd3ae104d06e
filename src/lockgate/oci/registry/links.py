"""``Link`` header parsing (RFC 8288) for paginated tag, catalog and referrers lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

_LINK_RE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_REL_RE = re.compile(r';\s*rel\s*=\s*"?([^";,]+)"?', re.IGNORECASE)


def next_link(values: Iterable[str], current_url: str) -> str | None:
    """The absolute ``rel="next"`` URL from ``Link`` header values, resolved against ``current_url``.

    Links to another host are ignored, so a registry cannot send our credentials elsewhere.
    """
    for value in values:
        for m in _LINK_RE.finditer(value):
            rels = {r.lower() for rm in _REL_RE.finditer(m.group(2)) for r in rm.group(1).split()}
            if "next" not in rels:
                continue
            url: str = urljoin(current_url, m.group(1).strip())
            if urlsplit(url).netloc != urlsplit(current_url).netloc:
                return None
            return url
    return None
