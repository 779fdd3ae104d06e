"""The fast path: run a plain scanning command line without importing Typer or Click.

Importing Typer and Click and building the command costs a CI scan more than the scan
itself when the layer cache is warm (~50-70 ms of a ~150 ms run). This module parses the
command lines that make up nearly every CI invocation (``scan image|fs|sbom|config`` and
``sbom`` with global options) from the generated table :mod:`lockgate.cli.fastspec` and
calls the same command bodies (:mod:`lockgate.cli.scan_run`) the Typer commands call.

It only accepts what it is sure Click would accept with the same result: help, ``--``,
unknown or combined options, missing or extra arguments, a config file, shell completion,
environment values it cannot interpret — anything unusual — returns ``None`` and the Typer
tree handles the line, with its messages. ``tests/cli/test_fast.py`` checks, on many command
lines and environments, that both paths hand the bodies identical values.
"""

from __future__ import annotations

import os

from lockgate.cli.fastspec import SPEC

TYPE_CHECKING = False  # typing itself is not imported: ``lockgate --version`` needs nothing else
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any


class _Unsure(Exception):
    """The fast path declines this command line; the Typer tree will handle it."""


_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class Invocation:
    """A parsed command line: which body to call with which values."""

    __slots__ = ("global_values", "target", "values")

    def __init__(self, target: str, global_values: dict[str, Any], values: dict[str, Any]) -> None:
        self.target = target
        """Function name in :mod:`lockgate.cli.scan_run`; empty for ``--version``."""
        self.global_values = global_values
        self.values = values

    def run(self) -> int:
        """Run the command; its exit code."""
        if not self.target:
            from lockgate import __version__

            print(f"lockgate {__version__}", flush=True)
            return 0
        from lockgate.cli import scan_run
        from lockgate.cli._output import make_state

        g = self.global_values
        state = make_state(quiet=g["quiet"], debug=g["debug"], cache_dir=g["cache_dir"], config=g["config"])
        result: int = getattr(scan_run, self.target)(state.settings, **self.values)
        return result


def parse(args: Sequence[str], environ: Mapping[str, str] | None = None) -> Invocation | None:
    """The :class:`Invocation` for ``args``, or ``None`` when the Typer tree should handle them."""
    env = os.environ if environ is None else environ
    if env.get("_LOCKGATE_COMPLETE"):
        return None
    try:
        return _parse(list(args), env)
    except _Unsure:
        return None


def _parse(args: list[str], env: Mapping[str, str]) -> Invocation | None:
    glob_params: tuple[dict[str, Any], ...] = SPEC["global"]
    raw: dict[str, list[Any]] = {}
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        i = _take_option(glob_params, args, i, raw)
    if "version" in raw:  # eager in Click too: runs before the command is even looked at
        return Invocation("", {}, {})
    glob = _resolve(glob_params, raw, [], env)
    if glob["config"] is not None:
        return None  # config-file defaults are applied (and checked) by the Typer tree
    command = None
    for width in (1, 2):
        path = tuple(args[i : i + width])
        if len(path) == width and path in SPEC["commands"]:
            command = SPEC["commands"][path]
            i += width
            break
    if command is None:
        return None
    params: tuple[dict[str, Any], ...] = command["params"]
    raw = {}
    positional: list[str] = []
    while i < len(args):
        a = args[i]
        if a.startswith("-") and a != "-":
            i = _take_option(params, args, i, raw)
        else:
            positional.append(a)
            i += 1
    return Invocation(command["target"], glob, _resolve(params, raw, positional, env))


def _take_option(params: tuple[dict[str, Any], ...], args: list[str], i: int, raw: dict[str, list[Any]]) -> int:
    """Record the option at ``args[i]`` (and its value) in ``raw``; the index after it."""
    token = args[i]
    name, eq, inline = token.partition("=")
    if token == "--" or (not name.startswith("--") and (len(token) != 2 or eq)):
        raise _Unsure  # "--", combined or attached short options ("-qf", "-fjson")
    for p in params:
        if p["kind"] != "option":
            continue
        if name in p["opts"] or name in p["secondary"]:
            if p["flag"]:
                if eq:
                    raise _Unsure  # "--flag=x" is a Click usage error
                raw.setdefault(p["name"], []).append(name in p["opts"])
                return i + 1
            if eq:
                value, nxt = inline, i + 1
            elif i + 1 < len(args):
                value, nxt = args[i + 1], i + 2
            else:
                raise _Unsure  # missing value: Click's error message
            if value.startswith("-") and len(value) > 1 and not eq:
                raise _Unsure  # Click would take it as the value; let it, with its checks
            raw.setdefault(p["name"], []).append(value)
            return nxt
    raise _Unsure  # unknown option, --help, -h: the Typer tree answers


def _resolve(
    params: tuple[dict[str, Any], ...], raw: dict[str, list[Any]], positional: list[str], env: Mapping[str, str]
) -> dict[str, Any]:
    """Each parameter's final value: argv, else its environment variable, else its default."""
    out: dict[str, Any] = {}
    arguments = [p for p in params if p["kind"] == "argument"]
    fixed = sum(1 for p in arguments if not p["multiple"])
    if len(positional) < fixed or (len(positional) > fixed and not any(p["multiple"] for p in arguments)):
        raise _Unsure  # missing or extra arguments: Click's message
    pos = iter(positional)
    extra = len(positional) - fixed
    for p in params:
        if p["kind"] == "argument":
            given = [next(pos) for _ in range(extra)] if p["multiple"] else [next(pos)]
        else:
            given = raw.get(p["name"], [])
        if not given and p["envvar"] and env.get(p["envvar"]):
            if p["multiple"]:
                raise _Unsure  # Click splits list values from the environment on whitespace
            given = [_env_value(p, env[p["envvar"]])]
        if not given:
            if p["required"]:
                raise _Unsure
            out[p["name"]] = _convert(p, p["default"]) if p["default"] is not None else None
            continue
        if p["multiple"]:
            out[p["name"]] = [_convert(p, v) for v in given]
        else:
            out[p["name"]] = _convert(p, given[-1])  # Click: the last occurrence wins
    return out


def _env_value(p: dict[str, Any], value: str) -> Any:
    if p["type"] != "bool":
        return value
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise _Unsure  # Click reports the bad value


def _convert(p: dict[str, Any], value: Any) -> Any:
    kind = p["type"]
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Unsure
        return value
    if kind == "str":
        return value
    if kind == "path":
        from pathlib import Path

        path = Path(value)
        if p["readable"] and value and path.exists() and not os.access(path, os.R_OK):
            raise _Unsure  # Click's "is not readable" usage error
        return path
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise _Unsure from None
    if kind == "enum":
        return _enum(p, value)
    raise _Unsure


def _enum(p: dict[str, Any], value: str) -> Any:
    import importlib

    choices: tuple[str, ...] = p["choices"]
    if p["case_sensitive"]:
        match = value if value in choices else None
    else:
        folded = value.casefold()
        match = next((c for c in choices if c.casefold() == folded), None)
    if match is None:
        raise _Unsure  # Click lists the valid choices
    module, _, name = p["enum"].partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(match)
