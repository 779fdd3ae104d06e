"""The CLI shell: version, usage errors, exit codes, env vars."""

from __future__ import annotations

import subprocess
import sys

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


HEAVY = ("httpx", "cryptography", "yaml", "sqlite3", "cyclonedx", "packageurl", "zstandard", "jsonschema", "cvss")


def test_cli_start_up_imports_nothing_heavy() -> None:
    """Start-up speed is a feature (see bench/startup.sh): building the command tree must not load
    the heavy libraries that only some commands need."""
    code = (
        "import sys, lockgate.cli.app as a, typer; typer.main.get_command(a.app); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_config_file_sets_option_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``--config`` gives defaults per command; unknown keys are usage errors naming the file."""
    cfg = tmp_path / "lockgate.yaml"
    cfg.write_text("scan:\n  image:\n    db: /nonexistent/x.db\n")
    r = run("--config", str(cfg), "scan", "image", f"oci:{tmp_path}/none:x")
    assert r.returncode == 3  # the image is missing: the config itself was accepted
    cfg.write_text("scan:\n  image:\n    fial_on: HIGH\n")
    r = run("--config", str(cfg), "scan", "image", "x")
    assert r.returncode == 2 and "unknown option or command 'fial_on'" in r.stderr
    cfg.write_text("scan: [1, 2]\n")
    r = run("--config", str(cfg), "scan", "image", "x")
    assert r.returncode == 2 and "expected a mapping" in r.stderr
    cfg.write_text("cache: {clean: {}}\nquiet: true\n")
    r = run("--config", str(cfg), "cache", "clean")
    assert r.returncode == 0 and r.stderr == ""  # quiet came from the file


def test_config_default_reaches_the_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "lockgate.yaml"
    cfg.write_text("scan:\n  image:\n    db_max_age: forever\n")
    r = run("--config", str(cfg), "scan", "image", "x")
    assert r.returncode == 2 and "invalid duration 'forever'" in r.stderr


def test_rules_list_covers_every_scanner() -> None:
    """Misconfiguration, secret (text rules and binary key checks) and malware (bundled YARA) rules, ids unique."""
    import json as _json

    from lockgate.detect.malware.yararules import load_rules
    from lockgate.detect.secrets.keyfiles import KEY_CHECK_IDS
    from lockgate.detect.secrets.rules import BUILTIN_RULES
    from lockgate.misconfig.rules import all_rules

    res = run("rules", "list", "-f", "json")
    assert res.returncode == 0, res.stderr
    rules = _json.loads(res.stdout)
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    by_family: dict[str, set[str]] = {}
    for r in rules:
        by_family.setdefault(r["family"], set()).add(r["id"])
    assert by_family["secret"] == {r.id for r in BUILTIN_RULES} | KEY_CHECK_IDS
    assert by_family["malware"] == set(load_rules(()).names)
    assert set().union(*(v for k, v in by_family.items() if k not in ("secret", "malware"))) == set(all_rules())
    only = run("rules", "list", "--family", "malware")
    assert only.returncode == 0 and "LG_Test_EICAR" in only.stdout and "aws-access-key-id" not in only.stdout
