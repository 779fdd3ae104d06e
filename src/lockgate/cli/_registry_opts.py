"""The registry flags every registry-touching command shares, and building ``RegistryOptions`` from them.

Use the ``Annotated`` aliases as parameter types so all commands spell the flags alike::

    def pull(ref: str, username: Username = None, password_stdin: PasswordStdin = False,
             ca_cert: CACert = None, client_cert: ClientCert = None, client_key: ClientKey = None,
             insecure: Insecure = False) -> None:
        options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)

Only Typer and the standard library are imported here (CLI start-up time); building the options
lives in :mod:`lockgate.cli._credentials`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lockgate.cli._credentials import MAX_PASSWORD_BYTES, read_password, registry_options

__all__ = [
    "MAX_PASSWORD_BYTES",
    "CACert",
    "ClientCert",
    "ClientKey",
    "Insecure",
    "PasswordStdin",
    "Username",
    "read_password",
    "registry_options",
]

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
