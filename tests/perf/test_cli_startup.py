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

from lockgate.cli.tree import _command_for, _named_command

_RUN = """
import sys, typer
import lockgate.cli.app as a, lockgate.cli.tree as t
if sys.argv[1] == "full":
    t._command_for = lambda args: typer.main.get_command(t.app)
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
    ["scan", "imag"],
    ["scan", "image", "-h"],
    ["scan", "--help"],
    ["scan", "config", "/nonexistent.yaml"],
    ["db", "status", "-h"],
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
    assert sorted(cmd.commands["scan"].commands) == ["image"]  # type: ignore[attr-defined]  # just the sub-command
    typo = _command_for(["scan", "imag"])
    assert {"image", "fs", "sbom", "config"} <= set(typo.commands["scan"].commands)  # type: ignore[attr-defined]
    assert sorted(_command_for(["--version"]).commands) == []  # type: ignore[attr-defined]
    full = _command_for(["--help"])
    assert {"scan", "db", "cache", "image"} <= set(full.commands)  # type: ignore[attr-defined]


def test_named_command_falls_back_when_unsure() -> None:
    assert _named_command(["--config=lockgate.yaml", "scan"]) == "scan"
    assert _named_command(["-qh", "scan"]) is None
    assert _named_command(["--", "scan"]) is None
    assert _named_command([]) is None
    assert sorted(_command_for(["--config", "x.yaml", "scan"]).commands) != ["scan"]  # type: ignore[attr-defined]


_WARM = """
import atexit, sys
import lockgate.cli.app as a
watch = ("lockgate.inventory.os.dpkg", "lockgate.inventory.lang.python", "yaml", "lockgate.fs.layers",
         "cyclonedx", "license_expression", "typer", "click")
atexit.register(lambda: print("LOADED", sorted(m for m in watch if m in sys.modules), file=sys.stderr))
a.main(sys.argv[1:])
"""


def test_a_warm_run_loads_no_analyser_code(tmp_path: Path) -> None:
    """Answered from the layer cache, a scan or sbom run never imports the analysers, YAML or the layer reader."""
    from tests.fixtures.images import tiny_python_image

    oci = tiny_python_image(tmp_path)
    argvs = (
        ["sbom", f"oci:{oci}", "-f", "cyclonedx"],
        ["scan", "image", f"oci:{oci}", "--scanners", "pkg,secret", "-f", "json"],
    )
    for i, argv in enumerate(argvs):
        env = {"HOME": str(tmp_path), "LOCKGATE_CACHE_DIR": str(tmp_path / f"cache{i}"), "PATH": "/usr/bin:/bin"}
        runs = [
            subprocess.run([sys.executable, "-c", _WARM, *argv], capture_output=True, text=True, env=env, cwd=tmp_path)
            for _ in range(2)
        ]
        assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
        assert "lockgate.inventory.lang.python" in runs[0].stderr  # the cold run did analyse (requirements.txt)
        assert "lockgate.inventory.os.dpkg" not in runs[0].stderr  # no dpkg database: its analyser never loads
        assert "LOADED []" in runs[1].stderr, (argv, runs[1].stderr)
        assert runs[0].stdout.count("requests") == runs[1].stdout.count("requests") > 0
