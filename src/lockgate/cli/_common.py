"""Typer-facing CLI plumbing: the shared ``--format``/``--output`` options and usage-error tidying.

Everything that needs no CLI framework lives in :mod:`lockgate.cli._output` and is re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from lockgate.cli._output import (
    Format,
    State,
    check_format,
    check_output,
    echo_err,
    is_tty,
    make_state,
    settings,
    write_json,
    write_output,
)

if TYPE_CHECKING:
    import click

__all__ = [
    "FORMAT_OPTION",
    "OUTPUT_OPTION",
    "Format",
    "State",
    "check_format",
    "check_output",
    "echo_err",
    "hide_unset_envvars",
    "is_tty",
    "make_state",
    "settings",
    "write_json",
    "write_output",
]

FORMAT_OPTION = typer.Option(Format.TABLE, "--format", "-f", help="Output format.", case_sensitive=False)
OUTPUT_OPTION = typer.Option(None, "--output", "-o", help="Write the result to FILE instead of stdout.")


def hide_unset_envvars(command: click.Command) -> None:
    """Stop usage errors from saying ``(env var: 'None')`` for options that have no variable.

    Typer options default to ``show_envvar=True`` and Click 8.2 appends the variable to the
    "Missing option" hint even when there is none; only options with a real variable keep it.
    """
    import click

    for param in command.params:
        if isinstance(param, click.Option) and not param.envvar:
            param.show_envvar = False
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            hide_unset_envvars(sub)
