"""The registry flags every registry-touching command shares, and building ``RegistryOptions`` from them.

Use the ``Annotated`` aliases as parameter types so all commands spell the flags alike::

    def pull(ref: str, username: Username = None, password_stdin: PasswordStdin = False,
             ca_cert: CACert = None, client_cert: ClientCert = None, client_key: ClientKey = None,
             insecure: Insecure = False) -> None:
        options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)

Only Typer and the standard library are imported here (CLI start-up time).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

if TYPE_CHECKING:
    from lockgate.oci.registry.options import RegistryOptions

_PANEL = "Registry"

Username = Annotated[
    str | None,
    typer.Option(
        "--username", envvar="LOCKGATE_USERNAME", help="Registry user name.", rich_help_panel=_PANEL, show_default=False
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the registry password (or token) from stdin; LOCKGATE_PASSWORD also works.",
        rich_help_panel=_PANEL,
    ),
]
CACert = Annotated[
    Path | None,
    typer.Option(
        "--ca-cert",
        envvar="LOCKGATE_CA_CERT",
        help="Extra CA certificate (PEM) trusted for registry TLS.",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
ClientCert = Annotated[
    Path | None,
    typer.Option(
        "--client-cert",
        envvar="LOCKGATE_CLIENT_CERT",
        help="Client certificate (PEM) for mutual TLS.",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
ClientKey = Annotated[
    Path | None,
    typer.Option(
        "--client-key",
        envvar="LOCKGATE_CLIENT_KEY",
        help="Private key (PEM) for --client-cert.",
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
Insecure = Annotated[
    bool,
    typer.Option(
        "--insecure",
        envvar="LOCKGATE_INSECURE",
        help="Skip TLS verification and allow plain HTTP (only for registries you control).",
        rich_help_panel=_PANEL,
    ),
]

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
