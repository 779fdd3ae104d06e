"""CLI conventions, checked mechanically over the whole command tree.

Every leaf command of ``lockgate`` must: answer ``-h``; carry a help text, and help on every option
and argument; accept ``--format/-f json`` and ``--output/-o FILE`` when it prints a result (the
commented allow-lists below name the few where that makes no sense); and turn bad input into a
one-line error with exit code 2 (usage) or 3 (runtime) — never a traceback, never 1 — unless
``--debug`` asks for the traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer
from click.testing import CliRunner

from lockgate.cli.app import app

ROOT = typer.main.get_command(app)


def _leaves(cmd: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _leaves(sub, (*path, name))
    else:
        yield " ".join(path), cmd


def _groups(cmd: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Group]]:
    if isinstance(cmd, click.Group):
        yield " ".join(path) or "lockgate", cmd
        for name, sub in cmd.commands.items():
            yield from _groups(sub, (*path, name))


LEAVES: dict[str, click.Command] = dict(_leaves(ROOT))
GROUPS: dict[str, click.Group] = dict(_groups(ROOT))

# -- allow-lists: commands where --format json / --output truly make no sense ------------------
NO_JSON_FORMAT: dict[str, str] = {
    # Speaks ocicrypt's key-provider protocol on stdin/stdout; that JSON is fixed by the protocol.
    "keyprovider": "protocol endpoint",
    # Runs a user command (its output passes through) and writes an in-toto link file, as in-toto-run.
    "step run": "wraps a command; the link file is the result",
    # Writes a signed in-toto layout to --out/-o; the layout format is fixed by in-toto.
    "step sign-layout": "the output is an in-toto document",
    # Prints the hardened manifest in the input's own format (YAML), or a diff with --patch.
    "config fix": "the output is a manifest",
    # Prints an SLSA provenance predicate, which is a JSON document by definition.
    "provenance": "the output is a JSON predicate",
    # -f chooses the SBOM standard (cyclonedx, spdx); both are JSON documents.
    "sbom": "the output is an SBOM",
}
NO_OUTPUT: dict[str, str] = {
    "keyprovider": "protocol endpoint: answers on stdout",
    # The link file goes to --metadata-directory under in-toto's name <step>.<keyid8>.link.
    "step run": "in-toto names the link file",
}


def _option(cmd: click.Command, long: str) -> click.Option | None:
    return next((p for p in cmd.params if isinstance(p, click.Option) and long in p.opts), None)


def test_the_tree_is_what_the_design_lists() -> None:
    """Guards the walk itself: the command map's commands are all found (a broken walk checks nothing)."""
    for name in ("image inspect", "image copy", "scan image", "sign", "verify", "key list", "cache info", "db status"):
        assert name in LEAVES
    assert len(LEAVES) >= 30


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_dash_h_prints_help(name: str) -> None:
    r = CliRunner().invoke(ROOT, [*name.split(), "-h"])
    assert r.exit_code == 0, r.output
    assert f"Usage: lockgate {name}" in r.output or f"Usage: root {name}" in r.output
    assert "--help" in r.output and "-h" in r.output


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_groups_have_help_and_answer_dash_h(name: str) -> None:
    group = GROUPS[name]
    assert (group.help or "").strip(), f"group {name} has no help text"
    args = [] if name == "lockgate" else name.split()
    r = CliRunner().invoke(ROOT, [*args, "-h"])
    assert r.exit_code == 0 and "Commands" in r.output, r.output


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_command_and_every_parameter_have_help(name: str) -> None:
    cmd = LEAVES[name]
    assert (cmd.help or "").strip(), f"{name}: no help text (docstring)"
    missing = [p.name for p in cmd.params if not (getattr(p, "help", None) or "").strip()]
    assert not missing, f"{name}: parameters without help: {missing}"


@pytest.mark.parametrize("name", sorted(set(LEAVES) - set(NO_JSON_FORMAT)))
def test_format_json_is_accepted(name: str) -> None:
    cmd = LEAVES[name]
    opt = _option(cmd, "--format")
    assert opt is not None, f"{name}: no --format option"
    assert "-f" in opt.opts, f"{name}: --format has no -f"
    assert isinstance(opt.type, click.Choice) and "json" in opt.type.choices, f"{name}: -f json is not a choice"


@pytest.mark.parametrize("name", sorted(set(LEAVES) - set(NO_OUTPUT)))
def test_output_file_is_accepted(name: str) -> None:
    cmd = LEAVES[name]
    opt = _option(cmd, "--output") or _option(cmd, "--out")
    assert opt is not None and "-o" in opt.opts, f"{name}: no --output/-o option"


def test_allow_lists_name_real_commands() -> None:
    """Stale entries would hide nothing but mislead; every listed name must still exist."""
    for table in (NO_JSON_FORMAT, NO_OUTPUT):
        assert set(table) <= set(LEAVES), set(table) - set(LEAVES)


def test_global_options_have_lockgate_env_vars() -> None:
    for p in ROOT.params:
        if isinstance(p, click.Option) and p.name not in ("version", "help"):
            assert isinstance(p.envvar, str) and p.envvar == f"LOCKGATE_{str(p.name).upper()}", p.name


# -- running commands with bad input --------------------------------------------------------
def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.setdefault("LOCKGATE_PASSWORD", "conventions")
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "lockgate", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Inputs for the bad-input runs: a real key pair made by ``key generate``, and broken files."""
    d = tmp_path_factory.mktemp("conventions")
    r = run("key", "generate", "--out", str(d / "good"), env={"LOCKGATE_CONFIG_DIR": str(d / "cfg")})
    assert r.returncode == 0, r.stderr
    (d / "bad.key").write_text("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n")
    (d / "blob.txt").write_text("hello\n")
    (d / "blob.sig").write_text("MEUCIQ==")
    (d / "bad.yaml").write_text("apiVersion: v1\nkind: [unclosed\n")
    return {
        "tmp": str(d),
        "missing": str(d / "does-not-exist"),
        "goodkey": str(d / "good.key"),
        "goodpub": str(d / "good.pub"),
        "badkey": str(d / "bad.key"),
        "blob": str(d / "blob.txt"),
        "sig": str(d / "blob.sig"),
        "badyaml": str(d / "bad.yaml"),
        "reg": "127.0.0.1:1/x:y",
    }


# (command, arguments with {placeholders}, allowed exit codes)
BAD_INPUT: list[object] = [
    ("image inspect", ["{reg}", "--insecure"], {3}),
    ("image inspect", ["oci:{missing}:v1"], {3}),
    ("image inspect", ["not a reference!"], {2}),
    ("image copy", ["{reg}", "oci:{tmp}/copy:v1", "--insecure"], {3}),
    ("image unpack", ["oci:{missing}:v1", "{tmp}/unpacked"], {3}),
    ("sign", ["{reg}", "--key", "{goodkey}", "--insecure"], {3}),
    ("sign", ["oci:{missing}:v1", "--key", "{badkey}"], {2, 3}),
    ("verify", ["{reg}", "--key", "{goodpub}", "--insecure"], {3}),
    ("verify", ["oci:{missing}:v1", "--key", "{badkey}"], {2, 3}),
    ("verify", ["oci:{missing}:v1"], {2}),
    ("sign-blob", ["{missing}", "--key", "{goodkey}"], {2, 3}),
    ("sign-blob", ["{blob}", "--key", "{badkey}"], {2, 3}),
    ("sign-blob", ["{blob}", "--key", "{goodkey}", "-f", "sarif"], {2}),
    ("verify-blob", ["{missing}", "--key", "{goodpub}", "--signature", "{sig}"], {2, 3}),
    ("verify-blob", ["{blob}", "--key", "{badkey}", "--signature", "{sig}"], {2, 3}),
    ("verify-blob", ["{blob}", "--key", "{goodpub}", "--signature", "{missing}"], {2, 3}),
    ("key import", ["{badkey}", "--out", "{tmp}/imported"], {2, 3}),
    ("key import", ["{missing}", "--out", "{tmp}/imported"], {2, 3}),
    ("key generate", ["--out", "{missing}/sub/k"], {2}),
    ("key generate", ["--out", "{tmp}/k", "--algorithm", "dsa"], {2}),
    ("key revoke", ["{badkey}"], {2, 3}),
    ("key revoke", ["not-a-key-id"], {2}),
    ("key list", ["-f", "sarif"], {2}),
    ("cache info", ["-f", "html"], {2}),
    ("sbom", ["{reg}", "--insecure"], {3}),
    ("attest", ["{reg}", "--predicate", "{blob}", "--key", "{badkey}", "--insecure"], {2, 3}),
    ("verify-attestation", ["{reg}", "--key", "{goodpub}", "--insecure"], {3}),
    ("verify-pipeline", ["--layout", "{missing}", "--layout-key", "{goodpub}"], {2, 3}),
    ("provenance", ["--ci", "nonsense"], {2}),
    ("encrypt", ["{reg}", "oci:{tmp}/enc:v1", "--recipient", "jwe:{badkey}", "--insecure"], {2, 3}),
    ("decrypt", ["oci:{missing}:v1", "oci:{tmp}/dec:v1", "--key", "{badkey}"], {2, 3}),
    ("keyprovider", ["--provider-config", "{missing}"], {2, 3}),
    ("db import", ["{missing}"], {2, 3}),
    ("db status", ["--db", "{missing}"], {3}),
    ("db update", ["--source", "http://127.0.0.1:1/", "--db", "{tmp}/update.db"], {3}),
    ("db export", ["{reg}", "--db", "{missing}", "--insecure"], {2, 3}),
    ("scan image", ["{reg}", "--insecure"], {3}),
    ("scan fs", ["{missing}"], {2, 3}),
    ("scan sbom", ["{missing}"], {2, 3}),
    ("scan sbom", ["{badyaml}"], {3}),
    ("scan config", ["{missing}"], {2, 3}),
    ("rules list", ["--family", "nonsense"], {2}),
    ("config fix", ["{missing}"], {2, 3}),
    ("config fix", ["{badyaml}"], {3}),
    ("step run", ["--name", "x", "--key", "{badkey}", "--", "true"], {2, 3}),
    ("step sign-layout", ["{missing}", "--key", "{goodkey}", "--out", "{tmp}/signed.layout"], {2, 3}),
]


def _name(case: object) -> str:
    """The command of a BAD_INPUT entry (a plain tuple or a ``pytest.param``)."""
    values = getattr(case, "values", case)
    assert isinstance(values, tuple)
    return str(values[0])


def _ids(cases: list[object]) -> list[str]:
    return [f"{_name(c)}-{i}" for i, c in enumerate(cases)]


@pytest.mark.parametrize(("name", "args", "codes"), BAD_INPUT, ids=_ids(BAD_INPUT))
def test_bad_input_is_a_one_line_error(name: str, args: list[str], codes: set[int], material: dict[str, str]) -> None:
    """Run in JSON mode where the command has one: -f json is accepted, and stdout holds JSON or nothing."""
    argv = [*name.split(), *(a.format(**material) for a in args)]
    json_mode = _option(LEAVES[name], "--format") is not None and name not in NO_JSON_FORMAT and "-f" not in args
    r = run(*argv, *(["-f", "json"] if json_mode else []), cwd=Path(material["tmp"]))
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in codes, (r.returncode, r.stderr)
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    assert last.startswith(("lockgate: error:", "Error:")), r.stderr
    assert "env var: 'None'" not in r.stderr
    if json_mode:
        assert "does not support --format json" not in r.stderr
        assert r.stdout == "" or json.loads(r.stdout) is not None, r.stdout


def test_every_leaf_has_a_bad_input_case() -> None:
    """Commands without input to get wrong (cache clean) are the only ones without a case."""
    covered = {_name(c) for c in BAD_INPUT}
    assert set(LEAVES) - covered <= {"cache clean"}, set(LEAVES) - covered


def test_missing_required_option_is_a_usage_error() -> None:
    r = run("sign-blob", "somefile")
    assert r.returncode == 2
    assert "Missing option '--key'." in r.stderr
    assert "env var: 'None'" not in r.stderr and "Traceback" not in r.stderr


def test_debug_shows_the_traceback_and_keeps_the_exit_code(material: dict[str, str]) -> None:
    args = ("image", "inspect", "{reg}".format(**material), "--insecure")
    plain = run(*args)
    assert plain.returncode == 3 and "Traceback" not in plain.stderr
    assert plain.stderr.count("\n") == 1 and plain.stderr.startswith("lockgate: error: cannot reach registry")
    for debug in (run("--debug", *args), run(*args, env={"LOCKGATE_DEBUG": "1"})):
        assert debug.returncode == 3
        assert "Traceback (most recent call last)" in debug.stderr
        assert debug.stderr.strip().splitlines()[-1] == plain.stderr.strip()


CRASHING_APP = """
import sys, typer
from lockgate.cli import app as a

@a.app.command("crash-for-test")
def crash() -> None:
    '''Fails like a bug would.'''
    raise RuntimeError("boom")

a.main(sys.argv[1:])
"""


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_error_exits_3_never_1(debug: bool) -> None:
    """A bug cannot be produced on purpose in real commands, so a throw-away command that raises
    stands in for one (the only stand-in in this file); everything else is the real ``main``."""
    argv = ["--debug"] if debug else []
    r = subprocess.run(
        [sys.executable, "-c", CRASHING_APP, *argv, "crash-for-test"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert r.returncode == 3, r.stderr
    assert ("Traceback" in r.stderr) is debug
    assert "RuntimeError" in r.stderr and "boom" in r.stderr


def test_quiet_and_cache_dir_come_from_the_environment(tmp_path: Path) -> None:
    cache = tmp_path / "c"
    (cache / "layers").mkdir(parents=True)
    r = run("cache", "clean", env={"LOCKGATE_CACHE_DIR": str(cache)})
    assert r.returncode == 0 and r.stderr.strip() == f"removed {cache / 'layers'}"
    assert not (cache / "layers").exists()
    (cache / "layers").mkdir()
    r = run("cache", "clean", env={"LOCKGATE_CACHE_DIR": str(cache), "LOCKGATE_QUIET": "1"})
    assert r.returncode == 0 and r.stderr == "" and not (cache / "layers").exists()


# -- progress bars only on a terminal ---------------------------------------------------------
def run_on_tty(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    import pty

    master, slave = pty.openpty()
    full = dict(os.environ, TERM="xterm", COLUMNS="100") | (env or {})
    p = subprocess.Popen(
        [sys.executable, "-m", "lockgate", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=full,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = p.stdout.read() if p.stdout else b""
    p.wait(timeout=120)
    return p.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def small_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.fixtures.registry import build_oci_image

    d = tmp_path_factory.mktemp("progress")
    layout = build_oci_image(d / "img", [{"etc/app.conf": b"x=1\n", "data/blob.bin": os.urandom(400_000)}], "v1")
    return layout.skopeo_ref


def test_image_copy_progress_only_on_a_terminal(small_image: str, tmp_path: Path) -> None:
    code, out, tty = run_on_tty("image", "copy", small_image, f"oci:{tmp_path}/a:v1")
    assert code == 0 and out.startswith("sha256:") and out.count("\n") == 1
    assert "copying" in tty and "kB" in tty  # Rich's bar with the byte counts
    piped = run("image", "copy", small_image, f"oci:{tmp_path}/b:v1")
    assert piped.returncode == 0 and piped.stdout == out
    assert piped.stderr == f"copied {small_image} -> oci:{tmp_path}/b:v1\n"
    for extra, env in ((("-f", "json"), None), ((), {"LOCKGATE_QUIET": "1"}), ((), {"TERM": "dumb"})):
        code, out, tty = run_on_tty("image", "copy", small_image, f"oci:{tmp_path}/c:v1", *extra, env=env)
        assert code == 0 and "copying" not in tty, (extra, env, tty)
        if extra:
            assert json.loads(out)["digest"] == piped.stdout.strip()


# -- cache info -------------------------------------------------------------------------------
def test_cache_info_and_clean_report_what_is_on_disk(small_image: str, tmp_path: Path) -> None:
    """A real scan fills the layer cache; sizes are checked with find(1), counts with sqlite3(1)."""
    cache = tmp_path / "cache"
    env = {"LOCKGATE_CACHE_DIR": str(cache)}
    empty = json.loads(run("cache", "info", "-f", "json", env=env).stdout)
    assert empty["exists"] is False and empty["size"] == 0 and empty["entries"] == 0
    assert not cache.exists()  # info never creates anything
    scan = run("-q", "scan", "image", small_image, "--scanners", "secret", "-f", "json", env=env)
    assert scan.returncode == 0, scan.stderr
    before = sorted(str(p) for p in cache.rglob("*"))
    r = run("cache", "info", "-f", "json", "-o", str(tmp_path / "info.json"), env=env)
    assert r.returncode == 0 and r.stdout == ""
    assert sorted(str(p) for p in cache.rglob("*")) == before  # read-only: no -wal/-shm appeared
    info = json.loads((tmp_path / "info.json").read_text())
    sizes = subprocess.run(["find", str(cache), "-type", "f", "-printf", "%s\n"], capture_output=True, text=True)
    assert info["size"] == sum(int(x) for x in sizes.stdout.split()) > 0
    assert info["files"] == len(sizes.stdout.split())
    db = cache / "layers" / "layers.sqlite"
    count = subprocess.run(["sqlite3", str(db), "SELECT COUNT(*) FROM layers; SELECT COUNT(*) FROM results;"],
                           capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert [info["entries"], info["layers"]["results"]] == [int(count[0]), int(count[1])]
    assert info["entries"] >= 1 and info["path"] == str(cache)
    table = run("cache", "info", env=env).stdout
    assert f"Path:          {cache}\n" in table and f"Cached layers: {info['entries']} (" in table
    in_layers = subprocess.run(["find", str(cache / "layers"), "-type", "f"], capture_output=True, text=True).stdout
    cleaned = json.loads(run("cache", "clean", "-f", "json", env=env).stdout)
    assert cleaned == {
        "removed": str(cache / "layers"),
        "size": info["layers"]["size"],
        "files": len(in_layers.split()),
    }
    after = json.loads(run("cache", "info", "-f", "json", env=env).stdout)
    assert after["entries"] == 0 and after["layers"]["size"] == 0


def test_cache_info_reports_a_damaged_database(tmp_path: Path) -> None:
    layers = tmp_path / "layers"
    layers.mkdir()
    (layers / "layers.sqlite").write_bytes(b"this is not a database" * 100)
    r = run("cache", "info", "-f", "json", env={"LOCKGATE_CACHE_DIR": str(tmp_path)})
    assert r.returncode == 0 and "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert doc["entries"] is None and "unreadable layer database" in doc["layers"]["error"]
    assert (layers / "layers.sqlite").read_bytes() == b"this is not a database" * 100


def test_scan_json_on_a_terminal_draws_no_progress_bar(small_image: str, tmp_path: Path) -> None:
    """Issue 2: progress bars on a TTY, nothing extra in JSON mode (image copy already behaves)."""
    env = {"LOCKGATE_CACHE_DIR": str(tmp_path / "cache")}
    code, out, tty = run_on_tty("scan", "image", small_image, "--scanners", "secret", "-f", "json", env=env)
    assert code == 0 and json.loads(out)["target"] == small_image
    assert "scanning layers" not in tty, tty
