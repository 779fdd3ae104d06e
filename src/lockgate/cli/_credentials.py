"""Registry credentials and TLS files from the shared registry flags, as :class:`RegistryOptions`.

Free of Typer and Click (the flags themselves are declared in :mod:`lockgate.cli._registry_opts`),
so the fast path can call it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from lockgate.oci.registry.options import RegistryOptions

MAX_PASSWORD_BYTES = 64 * 1024


def read_password(stream: TextIO) -> str:
    """The first line of ``stream`` without its line ending (as ``docker login --password-stdin``)."""
    from lockgate.errors import ConfigError

    text = stream.read(MAX_PASSWORD_BYTES + 1)
    if len(text) > MAX_PASSWORD_BYTES:
        raise ConfigError("--password-stdin: password is too long")
    password = text.splitlines()[0] if text else ""
    if not password:
        raise ConfigError("--password-stdin: no password on stdin")
    return password


def registry_options(
    username: str | None = None,
    password_stdin: bool = False,
    ca_cert: Path | None = None,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    insecure: bool = False,
    *,
    stdin: TextIO | None = None,
) -> RegistryOptions:
    """Build :class:`RegistryOptions` from the common flags; raises ``ConfigError`` on bad combinations."""
    from lockgate.errors import ConfigError
    from lockgate.oci.registry.options import RegistryOptions

    password: str | None = None
    if password_stdin:
        if not username:
            raise ConfigError("--password-stdin needs --username")
        password = read_password(stdin if stdin is not None else sys.stdin)
    elif username and os.environ.get("LOCKGATE_PASSWORD"):
        password = os.environ["LOCKGATE_PASSWORD"]
    elif username:
        raise ConfigError("--username needs --password-stdin (or LOCKGATE_PASSWORD)")
    if client_key is not None and client_cert is None:
        raise ConfigError("--client-key needs --client-cert")
    for flag, path in (("--ca-cert", ca_cert), ("--client-cert", client_cert), ("--client-key", client_key)):
        if path is not None and not path.is_file():
            raise ConfigError(f"{flag}: {path} is not a readable file")
    return RegistryOptions(
        username=username,
        password=password,
        ca_cert=ca_cert,
        client_cert=client_cert,
        client_key=client_key,
        insecure=insecure,
    )
