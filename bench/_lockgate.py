"""How the benchmarks run lockgate: as an installed package runs, with its bytecode cache.

pip compiles ``.pyc`` files on install; this checkout is an editable install, and the
environment may set PYTHONDONTWRITEBYTECODE, which would make every run re-compile every
module. So the benchmarks unset it and keep the bytecode in a scratch directory (never in the
checkout), and :func:`prime` fills that cache before anything is timed.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path


def lockgate_argv(work: Path) -> list[str]:
    """The argv prefix that runs lockgate with a bytecode cache under ``work``.

    The installed ``lockgate`` console script (what users run) when it sits next to this
    interpreter, else ``python -m lockgate``.
    """
    script = Path(sys.executable).parent / "lockgate"
    run = [str(script)] if script.is_file() else [sys.executable, "-m", "lockgate"]
    return ["env", "-u", "PYTHONDONTWRITEBYTECODE", f"PYTHONPYCACHEPREFIX={work / 'pycache'}", *run]


def lockgate_cmd(work: Path) -> str:
    """:func:`lockgate_argv` as a shell command prefix."""
    return shlex.join(lockgate_argv(work))


def prime(work: Path) -> None:
    """Compile every lockgate module once into the scratch bytecode cache."""
    env_argv = lockgate_argv(work)[:4]  # env -u VAR PREFIX=...
    subprocess.run([*env_argv, sys.executable, "-m", "compileall", "-q", str(Path(__file__).parent.parent / "src")],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
