"""Shared helpers for the trust tests: run the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PASSWORD = "correct horse battery staple"


def lockgate(
    *args: str, cwd: Path | None = None, env: dict[str, str | None] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m lockgate ARGS`` with the test's environment (isolated config dir, key password)."""
    full: dict[str, str] = dict(os.environ)
    full.setdefault("LOCKGATE_PASSWORD", PASSWORD)
    full.pop("COSIGN_PASSWORD", None)
    for k, v in (env or {}).items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env=full,
        check=False,
        timeout=120,
    )
