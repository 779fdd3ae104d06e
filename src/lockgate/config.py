"""Settings and safety limits: one frozen object, passed down explicitly.

Every limit applies to data that comes from outside (archives, registries, manifests,
YAML) and is enforced while streaming, so hostile input fails early and cheaply.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from lockgate._internal.dirs import cache_dir as _default_cache_dir

MiB = 1024 * 1024
GiB = 1024 * MiB


class Limits(msgspec.Struct, frozen=True):
    """Upper bounds on untrusted input."""

    max_manifest_bytes: int = 4 * MiB
    """Largest manifest, index or config blob we parse."""
    max_layers: int = 512
    """Most layers one image may have."""
    max_index_entries: int = 4096
    """Most manifests an index may list."""
    max_layer_bytes: int = 32 * GiB
    """Largest compressed layer we stream."""
    max_uncompressed_layer_bytes: int = 64 * GiB
    """Decompressed bytes per layer before we call it a bomb."""
    max_compression_ratio: int = 1000
    """Decompressed/compressed ratio past which a layer is treated as a bomb (after 64 MiB)."""
    max_tar_entries: int = 2_000_000
    """Entries per layer tar."""
    max_file_bytes: int = 64 * MiB
    """Largest single file handed to an analyser; bigger files become a coverage gap."""
    max_yaml_bytes: int = 16 * MiB
    """Largest YAML/JSON document we parse from users."""
    max_yaml_aliases: int = 1000
    """YAML alias expansions before we refuse (billion-laughs defence)."""
    max_signatures: int = 64
    """Signatures or attestations considered per artifact."""


class Settings(msgspec.Struct, frozen=True):
    """Process-wide settings resolved from options, ``LOCKGATE_*`` variables and defaults."""

    cache_dir: Path = msgspec.field(default_factory=_default_cache_dir)
    limits: Limits = msgspec.field(default_factory=Limits)
    quiet: bool = False
    debug: bool = False
    config_file: Path | None = None

    @property
    def db_path(self) -> Path:
        """Default location of the advisory database."""
        return self.cache_dir / "db" / "lockgate.db"

    @property
    def layer_cache_dir(self) -> Path:
        """Where per-layer analysis results are cached."""
        return self.cache_dir / "layers"
