"""Derive :mod:`lockgate.cli.fastspec` from the Typer tree (the single source of the options).

The fast path must accept exactly what Click would and hand the command bodies the same
values, so its table is generated from the Click commands Typer builds, never written by
hand. ``tests/cli/test_fast.py`` fails when the committed table is stale; regenerate with::

    python -m lockgate.cli._fastspec_build > src/lockgate/cli/fastspec.py

Only simple parameter shapes are allowed (strings, paths without checks, enum choices, flags,
integers; one value each or repeatable); anything else raises, so a new option kind cannot
silently be parsed differently from Click.
"""

from __future__ import annotations

import enum
import pprint
import typing
from pathlib import Path
from typing import Any

import click
import typer

from lockgate.cli.scan import FAST_TARGETS


def _type_of(param: click.Parameter, hints: dict[str, Any]) -> dict[str, Any]:
    t = param.type
    if isinstance(t, click.Choice):
        hint = hints.get(param.name or "")
        for arg in (*typing.get_args(hint), hint):
            if isinstance(arg, type) and issubclass(arg, enum.Enum):
                return {
                    "type": "enum",
                    "enum": f"{arg.__module__}:{arg.__qualname__}",
                    "choices": tuple(str(c) for c in t.choices),
                    "case_sensitive": bool(t.case_sensitive),
                }
        raise TypeError(f"{param.name}: a Choice that is not an Enum")
    if isinstance(t, click.Path):
        checks = (t.exists, t.writable, t.resolve_path, not t.file_okay, not t.dir_okay, t.allow_dash)
        if any(checks):
            raise TypeError(f"{param.name}: click.Path checks are not supported by the fast path")
        return {"type": "path", "readable": bool(t.readable)}
    if isinstance(t, click.types.BoolParamType):
        return {"type": "bool"}
    if isinstance(t, click.types.IntParamType) and not isinstance(t, click.IntRange):
        return {"type": "int"}
    if isinstance(t, click.types.StringParamType):
        return {"type": "str"}
    raise TypeError(f"{param.name}: parameter type {t!r} is not supported by the fast path")


def _default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | bool | int):
        return value
    raise TypeError(f"default {value!r} is not supported by the fast path")


def _param(param: click.Parameter, hints: dict[str, Any], py_default: Any) -> dict[str, Any]:
    if param.callback is not None and param.name != "version":
        raise TypeError(f"{param.name}: parameter callbacks are not supported by the fast path")
    if param.nargs not in (1, -1) or (param.nargs == -1 and not isinstance(param, click.Argument)):
        raise TypeError(f"{param.name}: nargs={param.nargs} is not supported by the fast path")
    envvar = param.envvar
    if envvar is not None and not isinstance(envvar, str):
        raise TypeError(f"{param.name}: several environment variables are not supported by the fast path")
    out: dict[str, Any] = {
        "name": param.name,
        "kind": "argument" if isinstance(param, click.Argument) else "option",
        **_type_of(param, hints),
        "multiple": bool(param.multiple) or param.nargs == -1,
        "required": bool(param.required),
        "envvar": envvar,
        "default": _default(py_default),
    }
    if isinstance(param, click.Option):
        if param.count or param.prompt or param.hidden:
            raise TypeError(f"{param.name}: count/prompt/hidden options are not supported by the fast path")
        if param.is_flag and (param.flag_value is not True or out["type"] != "bool"):
            raise TypeError(f"{param.name}: only boolean flags are supported by the fast path")
        out["opts"] = tuple(param.opts)
        out["secondary"] = tuple(param.secondary_opts)
        out["flag"] = bool(param.is_flag)
    return out


def _callback_defaults(callback: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Python-level defaults (what Typer hands the callback when a value is absent) and type hints."""
    from typer.utils import get_params_from_function

    defaults: dict[str, Any] = {}
    for name, meta in get_params_from_function(callback).items():
        default = meta.default
        if isinstance(default, typer.models.ParameterInfo):
            default = default.default
        defaults[name] = None if default is ... else default
    return defaults, typing.get_type_hints(callback, include_extras=True)


def _command_spec(command: click.Command, target: str) -> dict[str, Any]:
    callback = command.callback
    original = getattr(callback, "__wrapped__", callback)
    defaults, hints = _callback_defaults(original)
    params = tuple(_param(p, hints, defaults.get(p.name or "")) for p in command.params)
    variadic = [p for p in params if p["kind"] == "argument" and p["multiple"]]
    if len(variadic) > 1:
        raise TypeError(f"{command.name}: more than one variadic argument")
    return {"target": target, "params": params}


def build_spec() -> dict[str, Any]:
    """The fast-path table for the global options and every command in :data:`FAST_TARGETS`."""
    from lockgate.cli.tree import app

    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    glob_defaults, glob_hints = _callback_defaults(app.registered_callback.callback)  # type: ignore[union-attr]
    commands: dict[tuple[str, ...], Any] = {}
    for path, target in FAST_TARGETS.items():
        node: click.Command = root
        for word in path:
            assert isinstance(node, click.Group)
            node = node.commands[word]
        commands[path] = _command_spec(node, target)
    glob = tuple(_param(p, glob_hints, glob_defaults.get(p.name or "")) for p in root.params)
    return {"global": glob, "commands": commands}


HEADER = '''"""Generated by ``python -m lockgate.cli._fastspec_build`` from the Typer tree: do not edit.

The options of the commands the fast path (:mod:`lockgate.cli.fast`) runs without Typer or
Click; ``tests/cli/test_fast.py`` checks it is current.
"""

from __future__ import annotations

TYPE_CHECKING = False  # no typing import at run time (``lockgate --version`` stays minimal)
if TYPE_CHECKING:
    from typing import Any

'''


def render_spec() -> str:
    """The source text of :mod:`lockgate.cli.fastspec`."""
    spec = build_spec()
    body = pprint.pformat(spec, width=110, sort_dicts=False)
    return HEADER + f"SPEC: dict[str, Any] = {body}\n"


if __name__ == "__main__":
    print(render_spec(), end="")
