"""Durations written by users (``--db-max-age 7d``, policy expiries)."""

from __future__ import annotations

import datetime as _dt
import re

from lockgate.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}


def parse_duration(text: str) -> _dt.timedelta:
    """``90m``, ``24h``, ``7d``, ``2w`` (a bare number means days) as a timedelta."""
    m = _DURATION.match(text)
    if m is None:
        raise ConfigError(f"invalid duration {text!r} (use e.g. 12h, 7d, 2w)")
    return _dt.timedelta(seconds=float(m.group(1)) * _UNIT[m.group(2)])
