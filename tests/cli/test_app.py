"""The CLI shell: version, usage errors, exit codes, env vars."""

from __future__ import annotations

import subprocess
import sys
import time

from lockgate import __version__


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args], capture_output=True, text=True, env=env, check=False
    )


def test_version_prints_and_exits_zero() -> None:
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"lockgate {__version__}"


def test_unknown_option_is_usage_error_without_traceback() -> None:
    r = run("--no-such-option")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "No such option" in r.stderr


def test_version_starts_fast() -> None:
    best = min(_timed() for _ in range(3))
    assert best < 0.6, f"lockgate --version took {best:.3f}s"


def _timed() -> float:
    t = time.perf_counter()
    assert run("--version").returncode == 0
    return time.perf_counter() - t
