"""What a scan should do; resolved once by the CLI (or a library caller) and passed down."""

from __future__ import annotations

import datetime as _dt
import enum
from pathlib import Path

import msgspec

from lockgate._internal.structs import PartialEq
from lockgate.errors import ConfigError
from lockgate.oci.model import Platform
from lockgate.oci.registry.options import RegistryOptions


class Scanner(enum.StrEnum):
    PKG = "pkg"
    VULN = "vuln"
    SECRET = "secret"
    MALWARE = "malware"
    MISCONFIG = "misconfig"


AVAILABLE = frozenset(Scanner)
"""Scanners implemented; asking for another is a usage error, never a silent skip."""
DEFAULT_IMAGE_SCANNERS = frozenset({Scanner.VULN, Scanner.SECRET})
"""As Trivy: vulnerabilities and secrets unless ``--scanners`` says otherwise."""


def parse_scanners(text: str) -> frozenset[Scanner]:
    """``vuln,secret`` -> set of scanners; unknown or unavailable names are usage errors."""
    out = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        try:
            s = Scanner(part)
        except ValueError:
            names = ", ".join(x.value for x in Scanner)
            raise ConfigError(f"unknown scanner {part!r} (choose from {names})") from None
        if s not in AVAILABLE:
            raise ConfigError(f"scanner {part!r} is not available in this version of lockgate")
        out.add(s)
    if not out:
        raise ConfigError("--scanners needs at least one scanner")
    return frozenset(out)


class ScanOptions(PartialEq, frozen=True):
    _uncompared = frozenset({"secrets_config", "malware_config"})

    scanners: frozenset[Scanner] = DEFAULT_IMAGE_SCANNERS
    platform: Platform | None = None
    registry: RegistryOptions = msgspec.field(default_factory=RegistryOptions)
    db_path: Path | None = None
    """Advisory DB; ``None`` = the default under the cache dir."""
    db_max_age: _dt.timedelta = _dt.timedelta(days=7)
    use_cache: bool = True
    decryption_keys: tuple[str, ...] = ()
    """``--decryption-key`` specs (as ``decrypt --key``): encrypted layers are decrypted on the fly."""
    secrets_config: dict[str, object] | None = None
    """The policy's ``secrets:`` section (custom rules, allow-lists), ``None`` for built-ins only."""
    malware_config: dict[str, object] | None = None
    """The policy's ``malware:`` section (rule dirs, hash lists, clamd)."""
    now: _dt.datetime | None = None
    """The scan's single reference time (EOL, DB age, withdrawn advisories)."""

    @property
    def wants_vulns(self) -> bool:
        return Scanner.VULN in self.scanners

    @property
    def wants_inventory(self) -> bool:
        return bool(self.scanners & {Scanner.PKG, Scanner.VULN})

    def reference_time(self) -> _dt.datetime:
        return self.now or _dt.datetime.now(_dt.UTC)
