"""The fast path (no Typer, no Click) must hand the command bodies exactly what Click would.

Oracle: the Typer tree itself. Every command line below, and a few thousand generated ones,
is parsed by :func:`lockgate.cli.fast.parse` and run through the real Click commands with
the bodies replaced by recorders; whenever the fast path accepts a line, Click must accept it
too and call the same body with identical values and settings. Lines the fast path declines
go to the Typer tree in real runs, so declining is always safe; the common CI lines must not
be declined.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer

from lockgate.cli import fast, fastspec, scan_run
from lockgate.cli._fastspec_build import build_spec
from lockgate.cli._output import make_state
from lockgate.cli.tree import app

ROOT = typer.main.get_command(app)
TARGETS = sorted({c["target"] for c in fastspec.SPEC["commands"].values()})


def test_the_generated_table_is_current() -> None:
    """Regenerate with ``python -m lockgate.cli._fastspec_build > src/lockgate/cli/fastspec.py``."""
    assert build_spec() == fastspec.SPEC


def _click_call(args: list[str]) -> tuple[Any, ...] | None:
    """(target, settings, values) the Typer tree calls for ``args``; None on a usage error."""
    calls: list[tuple[Any, ...]] = []
    with pytest.MonkeyPatch.context() as m:
        for name in TARGETS:
            m.setattr(scan_run, name, lambda s, _n=name, **kw: calls.append((_n, s, kw)) or 0)
        try:
            ROOT.main(args=args, prog_name="lockgate", standalone_mode=False)
        except click.exceptions.UsageError:
            return None
    assert len(calls) == 1, (args, calls)
    return calls[0]


def _fast_call(args: list[str]) -> tuple[Any, ...] | None:
    inv = fast.parse(args)
    if inv is None:
        return None
    g = inv.global_values
    settings = make_state(quiet=g["quiet"], debug=g["debug"], cache_dir=g["cache_dir"], config=g["config"]).settings
    return inv.target, settings, inv.values


def _check(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> bool:
    """Assert agreement under environment ``env``; True when the fast path took the line."""
    with monkeypatch.context() as m:
        for key in [k for k in os.environ if k.startswith("LOCKGATE_") or k == "_LOCKGATE_COMPLETE"]:
            m.delenv(key)
        for key, value in env.items():
            m.setenv(key, value)
        mine = _fast_call(args)
        if mine is None:
            return False
        theirs = _click_call(args)
    assert theirs is not None, f"fast path accepted what Click rejects: {args} {env}"
    assert mine == theirs, (args, env)
    return True


IMG = "oci:/tmp/img:latest"
COMMON = [
    (["scan", "image", IMG], {}),
    (["scan", "image", IMG, "--scanners", "vuln", "--db", "/tmp/x.db", "-f", "json", "-o", "out.json"], {}),
    (["--cache-dir", "/tmp/c", "scan", "image", IMG, "--format", "SARIF", "--fail-on", "HIGH"], {}),
    (["-q", "scan", "image", "--severity", "HIGH,CRITICAL", IMG, "--ignore-unfixed", "--allow-incomplete"], {}),
    (["scan", "image", IMG, "--vex", "a.json", "--vex", "b.json", "--platform", "linux/arm64"], {}),
    (["scan", "image", IMG, "--username", "u", "--password-stdin", "--insecure", "--no-cache"], {}),
    (["scan", "image", IMG, "--decryption-key", "k.pem", "--decryption-key", "pkcs11:token=x"], {}),
    (["scan", "image", IMG], {"LOCKGATE_FAIL_ON": "critical", "LOCKGATE_INSECURE": "true", "LOCKGATE_QUIET": "1"}),
    (["scan", "image", IMG], {"LOCKGATE_DB": "/x.db", "LOCKGATE_DB_MAX_AGE": "30d", "LOCKGATE_CACHE_DIR": "/c"}),
    (["scan", "image", IMG], {"LOCKGATE_INSECURE": "0", "LOCKGATE_DEBUG": "no", "LOCKGATE_USERNAME": "bob"}),
    (["scan", "fs", ".", "--scanners", "vuln,secret", "-f", "json"], {}),
    (["scan", "sbom", "bom.json", "--db=/x.db", "--db-max-age=2d", "--format=table"], {}),
    (["scan", "config", "a.yaml", "b/", "-", "--pss-level", "baseline", "--rego", "r.rego", "-f", "sarif"], {}),
    (["sbom", IMG, "-f", "spdx", "-o", "-"], {}),
    (["--debug", "--quiet", "sbom", "fs:/srv", "--format", "json"], {}),
    (["sbom", IMG, "--platform", "linux/amd64", "--ca-cert", "/etc/hostname"], {}),
    (["scan", "image", IMG, "-o", "a", "-o", "b", "-f", "json", "-f", "table"], {}),  # the last one wins
]


@pytest.mark.parametrize(("args", "env"), COMMON, ids=[" ".join(a) for a, _ in COMMON])
def test_common_command_lines_take_the_fast_path_and_agree(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _check(args, env, monkeypatch), "a common CI command line fell back to the Typer tree"


DECLINED = [
    (["--help"], {}),
    (["scan", "image", "--help"], {}),
    (["scan", "image", IMG, "-h"], {}),
    (["scan", "image"], {}),  # missing argument
    (["scan", "image", IMG, "extra"], {}),  # extra argument
    (["scan", "image", IMG, "--no-such-option"], {}),
    (["scan", "image", IMG, "-qf", "json"], {}),
    (["scan", "image", IMG, "-fjson"], {}),
    (["scan", "image", IMG, "--", "x"], {}),
    (["scan", "image", IMG, "--format", "yaml"], {}),  # not a choice
    (["scan", "image", IMG, "--ignore-unfixed=1"], {}),
    (["scan", "image", IMG, "--fail-on"], {}),  # missing value
    (["scan", "image", IMG], {"LOCKGATE_INSECURE": "maybe"}),
    (["--config", "lockgate.yaml", "scan", "image", IMG], {}),
    (["scan", "image", IMG], {"LOCKGATE_CONFIG": "lockgate.yaml"}),
    (["scan", "image", IMG], {"_LOCKGATE_COMPLETE": "bash_source"}),
    (["scan", "-q", "image", IMG], {}),
    (["db", "status"], {}),
    (["scan"], {}),
    ([], {}),
]


@pytest.mark.parametrize(("args", "env"), DECLINED, ids=[" ".join(a) or "<empty>" for a, _ in DECLINED])
def test_unusual_command_lines_go_to_the_typer_tree(args: list[str], env: dict[str, str]) -> None:
    assert fast.parse(args, env) is None


def test_version_is_answered_without_a_command() -> None:
    for args in (["--version"], ["-q", "--version"], ["--version", "bogus"]):
        inv = fast.parse(args, {})
        assert inv is not None and inv.target == ""


_VALUES = {
    "str": ["HIGH", "x", "", "a b", "linux/arm64", "-", "oci:/x:y", "ÄÖ"],
    "path": ["out.json", "/tmp/x", "-", "dir/", "a b"],
    "int": ["0", "7", "-1", "x"],
}
_ENV_BOOLS = ["1", "0", "true", "False", "YES", "no", "on", "off", "", "2", "y", "N", " t "]


def _random_line(rng: random.Random, path: tuple[str, ...], spec: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    words: list[str] = []
    env: dict[str, str] = {}
    for p in fastspec.SPEC["global"]:
        if p["name"] in ("version", "config"):
            continue
        if rng.random() < 0.2:
            words += _option_words(rng, p)
    words += list(path)
    units: list[list[str]] = []  # an argument, or an option with its value: shuffled as a whole
    for p in spec["params"]:
        if p["kind"] == "argument":
            n = rng.choice([1, 1, 2, 3]) if p["multiple"] else 1
            units += [[rng.choice(["oci:/i", "x", "-", "dir/", "a.yaml"])] for _ in range(n)]
            continue
        if rng.random() < 0.2:
            for _ in range(rng.choice([1, 1, 2]) if p["multiple"] or rng.random() < 0.1 else 1):
                units.append(_option_words(rng, p))
        if p["envvar"] and rng.random() < 0.15:
            env[p["envvar"]] = rng.choice(_ENV_BOOLS if p["type"] == "bool" else ["v", "", "HIGH", "/p", "a b"])
    for p in fastspec.SPEC["global"]:
        if p["envvar"] and p["name"] != "config" and rng.random() < 0.1:
            env[p["envvar"]] = rng.choice(_ENV_BOOLS if p["type"] == "bool" else ["/c", ""])
    rng.shuffle(units)  # Click accepts options and arguments in any order
    if rng.random() < 0.05:
        units.insert(rng.randrange(len(units) + 1), [rng.choice(["--bogus", "-z", "--", "-h"])])
    return words + [w for unit in units for w in unit], env


def _option_words(rng: random.Random, p: dict[str, Any]) -> list[str]:
    flag = rng.choice([*p["opts"], *p["secondary"]])
    if p["flag"]:
        return [flag]
    if p["type"] == "enum":
        value = rng.choice([*p["choices"], p["choices"][0].upper(), p["choices"][-1].title(), "nope"])
    else:
        value = rng.choice(_VALUES.get(p["type"], ["v"]))
    if flag.startswith("--") and rng.random() < 0.3:
        return [f"{flag}={value}"]
    return [flag, value]


@pytest.mark.parametrize("path", list(fastspec.SPEC["commands"]), ids=" ".join)
def test_generated_command_lines_agree_with_click(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(f"fast-{'-'.join(path)}")
    spec = fastspec.SPEC["commands"][path]
    taken = 0
    for _ in range(400):
        args, env = _random_line(rng, path, spec)
        taken += _check(args, env, monkeypatch)
    assert taken > 200  # most generated lines are ordinary and must not fall back


def test_a_scan_through_the_fast_path_loads_neither_typer_nor_click(tmp_path: Path) -> None:
    """End to end: same output and exit code as the Typer tree, without importing either."""
    from tests.fixtures.images import tiny_python_image

    oci = tiny_python_image(tmp_path)
    code = (
        "import sys, atexit\n"
        "import lockgate.cli.fast as f\n"
        "if sys.argv[1] == 'tree':\n"
        "    f.parse = lambda args, environ=None: None\n"
        "atexit.register(lambda: print('LOADED', sorted(m for m in ('typer', 'click') if m in sys.modules),"
        " file=sys.stderr))\n"
        "from lockgate.cli.app import main\n"
        "main(sys.argv[2:])\n"
    )
    env = {"HOME": str(tmp_path), "LOCKGATE_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    runs = {}
    for mode in ("fast", "tree"):
        for argv in (
            ["sbom", f"oci:{oci}", "-f", "spdx"],
            ["scan", "image", f"oci:{oci}", "--scanners", "pkg", "-f", "json"],
        ):
            r = subprocess.run(
                [sys.executable, "-c", code, mode, *argv], capture_output=True, text=True, env=env, cwd=tmp_path
            )
            runs[mode, argv[0]] = r
    for cmd in ("sbom", "scan"):
        fast_run, tree_run = runs["fast", cmd], runs["tree", cmd]
        assert fast_run.returncode == tree_run.returncode == 0, fast_run.stderr + tree_run.stderr
        assert "LOADED []" in fast_run.stderr
        assert "LOADED ['click', 'typer']" in tree_run.stderr
        assert _stable(fast_run.stdout) == _stable(tree_run.stdout)
        assert "requests" in fast_run.stdout


def _stable(text: str) -> str:
    """Output without the fields that differ between any two runs (timestamps, ids, timings)."""
    import json

    doc = json.loads(text) if text.lstrip().startswith("{") else None
    if doc is None:
        return "\n".join(line for line in text.splitlines() if "timing" not in line)
    for key in ("creationInfo", "documentNamespace", "timings", "metadata", "serialNumber"):
        doc.pop(key, None)
    return json.dumps(doc, sort_keys=True)


@pytest.mark.parametrize("value", ["0", "false", "no", "off"])
def test_a_false_value_in_a_flag_variable_means_false_on_both_paths(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``LOCKGATE_INSECURE=0`` must not turn TLS checks off.

    Click 8.2.0-8.2.1 read any non-empty value of a flag's variable as true; 8.3 reads it as false.
    """
    monkeypatch.setenv("LOCKGATE_INSECURE", value)
    theirs = _click_call(["scan", "image", IMG])
    mine = _fast_call(["scan", "image", IMG])
    assert theirs is not None and mine is not None
    assert theirs[2]["insecure"] is False and mine[2]["insecure"] is False
