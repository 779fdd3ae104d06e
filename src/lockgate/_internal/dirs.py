"""Where lockgate keeps its cache and configuration (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$LOCKGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/lockgate``, else ``~/.cache/lockgate``."""
    explicit = os.environ.get("LOCKGATE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lockgate"


def config_dir() -> Path:
    """``$LOCKGATE_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/lockgate``, else ``~/.config/lockgate``."""
    explicit = os.environ.get("LOCKGATE_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lockgate"
