"""Shared helpers for the attestation tests: run the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PASSWORD = "attest test password"


def lockgate(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m lockgate ARGS`` with the test's environment (isolated config dir, key password)."""
    full = dict(os.environ)
    full["LOCKGATE_PASSWORD"] = PASSWORD
    full.pop("COSIGN_PASSWORD", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full,
        check=False,
        timeout=180,
    )


def one_line_reason(r: subprocess.CompletedProcess[str]) -> str:
    """The error line of a failed command; asserts there is no traceback."""
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert lines, r.stdout
    return lines[-1]
