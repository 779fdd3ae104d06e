"""The in-toto reference implementation (3.1.0) as an oracle, in its own cached venv.

It is installed once into ``~/.cache/lockgate-tests/intoto-3.1.0/venv`` (never into the project venv) under
an fcntl lock, so parallel test workers share one install.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

VERSION = "3.1.0"
BASE = Path.home() / ".cache" / "lockgate-tests" / f"intoto-{VERSION}"


def intoto_bin() -> Path:
    """The venv's bin directory (in-toto-run, in-toto-verify, python), installing it if needed."""
    BASE.parent.mkdir(parents=True, exist_ok=True)
    with open(str(BASE) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv = BASE / "venv"
        if not (BASE / "ok").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", f"in-toto=={VERSION}"],
                check=True,
                capture_output=True,
                timeout=600,
            )
            (BASE / "ok").write_text(VERSION)
    return venv / "bin"


def run_intoto(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run an in-toto CLI tool from the oracle venv (its bin first on PATH, so ``python`` is that venv's)."""
    b = intoto_bin()
    env = dict(os.environ)
    env["PATH"] = f"{b}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(b / tool), *args], cwd=cwd, capture_output=True, text=True, env=env, check=False, timeout=120
    )
