"""The Typer command tree: global options, command groups, config-file defaults, usage errors.

Command modules import only Typer at module level and load heavy dependencies inside
the command bodies. :func:`run` parses and runs one command line; :mod:`lockgate.cli.app`
calls it whenever the fast path (:mod:`lockgate.cli.fast`) does not handle the line.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import click
import typer

from lockgate import __version__
from lockgate.cli._common import hide_unset_envvars, make_state
from lockgate.cli.exitcodes import ExitCode

app = typer.Typer(
    name="lockgate",
    help="Secure the distribute phase: scan, sign, verify, encrypt and gate container images.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lockgate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", envvar="LOCKGATE_QUIET", help="Only print results."),
    debug: bool = typer.Option(False, "--debug", envvar="LOCKGATE_DEBUG", help="Show tracebacks and debug logs."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", envvar="LOCKGATE_CACHE_DIR", help="Cache directory (advisory DB, layer results)."
    ),
    config: Path | None = typer.Option(
        None, "--config", envvar="LOCKGATE_CONFIG", help="lockgate.yaml with defaults for options."
    ),
) -> None:
    """Global options apply to every command; each has a LOCKGATE_* environment variable."""
    ctx.obj = make_state(quiet=quiet, debug=debug, cache_dir=cache_dir, config=config)


def _register() -> None:
    """Attach command groups in the order of the command map (explicit list, no import side effects).

    The command modules import only Typer at module level, so this stays cheap.
    """
    from lockgate.cli import attest, cache, config, db, encrypt, image, scan, trust

    app.add_typer(image.app, name="image")  # inspect, copy, unpack
    scan.register(app)  # scan image|fs|sbom|config, sbom
    app.add_typer(db.app, name="db")  # import, update, status, export
    app.add_typer(config.rules_app, name="rules")  # rules list
    app.add_typer(config.config_app, name="config")  # config fix
    trust.register(app)  # key ..., sign, verify, sign-blob, verify-blob
    attest.register(app)  # attest, verify-attestation, provenance, step ..., verify-pipeline
    encrypt.register(app)  # encrypt, decrypt, keyprovider
    app.add_typer(cache.app, name="cache")  # info, clean


_register()


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("LOCKGATE_DEBUG", "").lower() in ("1", "true", "yes")


def _config_path(argv: list[str]) -> Path | None:
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if a.startswith("--config="):
            return Path(a.split("=", 1)[1])
    env = os.environ.get("LOCKGATE_CONFIG")
    return Path(env) if env else None


def _normalise(obj: object, where: str) -> dict[str, object]:
    from lockgate.errors import ConfigError

    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected a mapping of option names to values")
    out: dict[str, object] = {}
    for k, v in obj.items():
        key = str(k).replace("-", "_")
        out[key] = _normalise(v, f"{where}.{k}") if isinstance(v, dict) else v
    return out


def _check_against(command: click.Command, values: dict[str, object], where: str) -> None:
    """Every key must be a parameter of ``command`` or, for groups, a sub-command with a mapping."""
    from lockgate.errors import ConfigError

    params = {p.name for p in command.params if p.name}
    subs = command.commands if isinstance(command, click.Group) else {}
    for key, value in values.items():
        sub = subs.get(key) or subs.get(key.replace("_", "-"))
        if sub is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.{key}: expected a mapping of {key} options")
            _check_against(sub, value, f"{where}.{key}")
        elif key not in params:
            raise ConfigError(f"{where}: unknown option or command {key!r}")


def load_config_defaults(path: Path) -> dict[str, object]:
    """``lockgate.yaml``: option defaults per command, e.g. ``scan: {image: {fail_on: HIGH}}``.

    Top-level keys set global options (``cache_dir``, ``quiet``); nested mappings follow the
    command path. Command-line flags and ``LOCKGATE_*`` variables still win.
    """
    from lockgate._internal.yamlsafe import load_all, read_text
    from lockgate.config import Limits

    docs = load_all(read_text(path, Limits().max_yaml_bytes), what=str(path))
    return _normalise(docs[0] if docs else {}, str(path))


_GLOBAL_FLAGS = frozenset({"--quiet", "-q", "--debug", "--version"})
_GLOBAL_VALUED = ("--cache-dir", "--config")


def _named_command(args: list[str]) -> str | None:
    """The command name ``args`` selects, skipping global options; None when unsure.

    None (build the whole tree) for help, no command, unknown or combined options and
    shell completion, so that only a plain ``lockgate [global options] NAME ...`` is pruned.
    """
    if os.environ.get("_LOCKGATE_COMPLETE"):
        return None
    i = 0
    while i < len(args):
        a = args[i]
        if a in _GLOBAL_VALUED:
            i += 2
            continue
        if a.startswith(tuple(v + "=" for v in _GLOBAL_VALUED)) or a in _GLOBAL_FLAGS:
            i += 1
            continue
        if a.startswith("-"):
            return None  # --help, -h, --, typos: the full tree answers these
        return a
    return "" if "--version" in args else None  # --version alone needs no command at all


def _subcommand_after(args: list[str], name: str) -> str | None:
    """The word after the group ``name`` in ``args`` (``scan image`` → ``image``); None when unsure."""
    try:
        i = args.index(name)
    except ValueError:
        return None
    nxt = args[i + 1] if i + 1 < len(args) else None
    return nxt if nxt is not None and not nxt.startswith("-") else None


def _prune_group(info: typer.models.TyperInfo, sub: str | None) -> typer.models.TyperInfo:
    """``info`` with only the sub-command ``sub`` when the group has exactly that command."""
    from typer.main import get_command_name

    group = info.typer_instance
    if sub is None or group is None or group.registered_groups:
        return info
    keep = [
        c
        for c in group.registered_commands
        if (c.name or get_command_name(c.callback.__name__)) == sub  # type: ignore[union-attr]
    ]
    if len(keep) != 1:
        return info  # unknown sub-command: the whole group reports it (with its list of commands)
    pruned_group = copy.copy(group)
    pruned_group.registered_commands = keep
    pruned = copy.copy(info)
    pruned.typer_instance = pruned_group
    return pruned


def _command_for(args: list[str]) -> click.Command:
    """The click command for ``args``: only the named command group is built.

    Building Typer's click tree inspects every command's signature (~0.1 s for the whole
    tree), so a run builds just the command it invokes (within a group, just that group's
    sub-command, e.g. ``scan image``); anything unusual (help,
    unknown names, a config file whose keys are checked against every command) gets the full
    tree, so behaviour and messages are unchanged.
    """
    from typer.main import get_command_name, solve_typer_info_defaults

    name = _named_command(args)
    if name is None or _config_path(args) is not None:
        return typer.main.get_command(app)
    commands = [
        c
        for c in app.registered_commands
        if (c.name or get_command_name(c.callback.__name__)) == name  # type: ignore[union-attr]
    ]
    group_names = [solve_typer_info_defaults(g).name for g in app.registered_groups]
    if not all(group_names):
        return typer.main.get_command(app)  # a nameless group merges its commands: cannot prune safely
    groups = [g for g, n in zip(app.registered_groups, group_names, strict=True) if n == name]
    if name and not commands and not groups:
        return typer.main.get_command(app)  # unknown command: the full tree reports it
    pruned = copy.copy(app)
    pruned.registered_commands = commands
    pruned.registered_groups = [_prune_group(g, _subcommand_after(args, name)) for g in groups]
    return typer.main.get_command(pruned)


def run(args: list[str]) -> int:
    """Parse ``args`` with the Typer tree and run the command; the exit code.

    Usage errors are shown and become :attr:`ExitCode.USAGE`; :class:`LockgateError` and
    other exceptions propagate to :func:`lockgate.cli.app.main`, which maps them.
    """
    command = _command_for(args)
    hide_unset_envvars(command)  # no "(env var: 'None')" in usage errors
    try:
        cfg = _config_path(args)
        defaults = load_config_defaults(cfg) if cfg is not None else None
        if defaults is not None:
            _check_against(command, defaults, str(cfg))
        rv = command.main(args=args, prog_name="lockgate", standalone_mode=False, default_map=defaults)
    except click.exceptions.UsageError as e:
        e.show()
        return ExitCode.USAGE
    except click.exceptions.Abort:
        print("lockgate: aborted", file=sys.stderr)
        return ExitCode.RUNTIME
    return rv if isinstance(rv, int) else ExitCode.OK
