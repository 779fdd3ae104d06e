"""CLI plumbing that needs no CLI framework: global state, output formats, writing results safely.

Kept free of Typer and Click so the fast path (:mod:`lockgate.cli.fast`) and the command
bodies it calls start without importing them.
"""

from __future__ import annotations

import enum
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from lockgate.config import Settings
from lockgate.errors import ConfigError

if TYPE_CHECKING:
    import click


class Format(enum.StrEnum):
    """Output formats; commands accept the subset that makes sense for them."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"
    JUNIT = "junit"
    HTML = "html"


class State(msgspec.Struct, frozen=True):
    """What the global options resolved to; stored in ``ctx.obj``."""

    settings: Settings


def settings(ctx: click.Context) -> Settings:
    """The resolved global settings for this invocation."""
    root = ctx.find_root()
    obj = root.obj
    if isinstance(obj, State):
        return obj.settings
    return Settings()


def check_format(fmt: Format, allowed: set[Format], command: str) -> None:
    """Raise a usage error when ``fmt`` is not one of ``allowed`` for ``command``."""
    if fmt not in allowed:
        names = ", ".join(sorted(f.value for f in allowed))
        raise ConfigError(f"{command} does not support --format {fmt.value} (use one of: {names})")


def check_output(output: Path | None) -> None:
    """Fail early (usage error) when ``output`` cannot be written, before a command does its work."""
    if output is None or str(output) == "-":
        return
    parent = output.parent if str(output.parent) else Path()
    if not parent.is_dir():
        raise ConfigError(f"cannot write {output}: directory {parent} does not exist")
    if output.is_dir():
        raise ConfigError(f"cannot write {output}: it is a directory")


def write_output(text: str | bytes, output: Path | None) -> None:
    """Write to stdout, or atomically to ``output`` (never a half-written file)."""
    data = text.encode() if isinstance(text, str) else text
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        if data and not data.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return
    parent = output.parent if str(output.parent) else Path()
    if not parent.is_dir():
        raise ConfigError(f"cannot write {output}: directory {parent} does not exist")
    # A fresh, exclusive temporary name next to the target (what mkstemp does, without importing
    # tempfile/random at start-up); mode 0666 minus the umask, as for any ordinary file.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = parent / f".{output.name}.{os.getpid()}.{os.urandom(6).hex()}"
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise ConfigError(f"cannot write {output}: no free temporary name in {parent}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        tmp.replace(output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def is_tty() -> bool:
    """True when stderr is an interactive terminal (progress bars only then)."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def write_json(doc: Any, output: Path | None) -> None:
    """Write ``doc`` as indented JSON (one trailing newline) to stdout or ``output``."""
    write_output(json.dumps(doc, indent=2) + "\n", output)


def make_state(*, quiet: bool, debug: bool, cache_dir: Path | None, config: Path | None) -> State:
    """The :class:`State` the global options resolve to (both CLI paths build it here)."""
    kwargs: dict[str, Any] = {"quiet": quiet, "debug": debug, "config_file": config}
    if cache_dir is not None:
        kwargs["cache_dir"] = cache_dir
    return State(settings=Settings(**kwargs))


def echo_err(message: str) -> None:
    """One line to stderr (what ``typer.echo(..., err=True)`` does, without importing Click)."""
    print(message, file=sys.stderr, flush=True)
