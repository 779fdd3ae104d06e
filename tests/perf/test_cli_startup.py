"""The CLI builds only the command group argv names; results must equal the full tree's.

Each argv runs twice in a fresh interpreter: through ``main`` (pruned tree) and through
``main`` with the pruning replaced by the full ``get_command(app)``; stdout, stderr and the
exit code must be identical.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lockgate.cli.app import _command_for, _named_command

_RUN = """
import sys, typer
import lockgate.cli.app as a
if sys.argv[1] == "full":
    a._command_for = lambda args: typer.main.get_command(a.app)
a.main(sys.argv[2:])
"""

ARGVS = [
    ["--version"],
    ["-q", "--version"],
    ["scan", "image", "--help"],
    ["scan", "bogus"],
    ["bogus"],
    ["--debug", "cache", "info", "-f", "json"],
    ["db", "status", "--db", "/nonexistent/lockgate.db"],
    ["rules", "list", "-f", "json"],
    ["scan", "image"],
    ["--cache-dir", "/nonexistent", "verify", "--help"],
    ["--quiet", "sbom", "--no-such-option"],
]


def _run(mode: str, argv: list[str], tmp: Path) -> tuple[int, str, str]:
    env = {"HOME": str(tmp), "LOCKGATE_CACHE_DIR": str(tmp / "cache"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [sys.executable, "-c", _RUN, mode, *argv], capture_output=True, text=True, env=env, cwd=tmp, timeout=120
    )
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_pruned_tree_behaves_like_full_tree(argv: list[str], tmp_path: Path) -> None:
    assert _run("pruned", argv, tmp_path) == _run("full", argv, tmp_path)


def test_only_the_named_group_is_built() -> None:
    cmd = _command_for(["-q", "--cache-dir", "/x", "scan", "image", "ref"])
    assert sorted(cmd.commands) == ["scan"]  # type: ignore[attr-defined]
    assert sorted(_command_for(["--version"]).commands) == []  # type: ignore[attr-defined]
    full = _command_for(["--help"])
    assert {"scan", "db", "cache", "image"} <= set(full.commands)  # type: ignore[attr-defined]


def test_named_command_falls_back_when_unsure() -> None:
    assert _named_command(["--config=lockgate.yaml", "scan"]) == "scan"
    assert _named_command(["-qh", "scan"]) is None
    assert _named_command(["--", "scan"]) is None
    assert _named_command([]) is None
    assert sorted(_command_for(["--config", "x.yaml", "scan"]).commands) != ["scan"]  # type: ignore[attr-defined]
