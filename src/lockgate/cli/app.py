"""The ``lockgate`` entry point: run one command line and map every outcome to an exit code.

A plain scanning command line (``scan image|fs|sbom|config``, ``sbom``) runs through the
fast path (:mod:`lockgate.cli.fast`), which needs neither Typer nor Click; everything else,
and anything the fast path is unsure about (help, errors, config files), goes through the
Typer tree in :mod:`lockgate.cli.tree`. Both call the same command bodies.
"""

from __future__ import annotations

import os
import sys


def __getattr__(name: str) -> object:
    """``lockgate.cli.app.app``: the Typer application (built on first use)."""
    if name == "app":
        from lockgate.cli.tree import app

        return app
    raise AttributeError(name)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("LOCKGATE_DEBUG", "").lower() in ("1", "true", "yes")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map every outcome to a documented exit code."""
    from lockgate.cli.exitcodes import ExitCode
    from lockgate.errors import LockgateError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from lockgate.cli.fast import parse

        invocation = parse(args)
        if invocation is not None:
            rv = invocation.run()
        else:
            from lockgate.cli.tree import run

            rv = run(args)
    except LockgateError as e:
        if _debug_requested(args):
            import traceback

            traceback.print_exc()
        print(f"lockgate: error: {e.diagnostics()}", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        print("lockgate: interrupted", file=sys.stderr)
        sys.exit(ExitCode.RUNTIME)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except Exception as e:
        if _debug_requested(args):
            import traceback

            traceback.print_exc()  # the traceback, but still exit 3: never 1 for a crash
            sys.exit(ExitCode.RUNTIME)
        print(f"lockgate: internal error: {type(e).__name__}: {e} (run with --debug for details)", file=sys.stderr)
        sys.exit(ExitCode.RUNTIME)
    sys.exit(rv)
