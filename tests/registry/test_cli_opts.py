"""The shared registry CLI flags: a small Typer command built from them talks to the real registry."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lockgate.cli._registry_opts import (
    CACert,
    ClientCert,
    ClientKey,
    Insecure,
    PasswordStdin,
    Username,
    registry_options,
)
from lockgate.errors import ConfigError, LockgateError
from tests.fixtures.registry import PASSWORD, USERNAME, RunningRegistry, unique_repo


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def tags(
        ref: str,
        username: Username = None,
        password_stdin: PasswordStdin = False,
        ca_cert: CACert = None,
        client_cert: ClientCert = None,
        client_key: ClientKey = None,
        insecure: Insecure = False,
    ) -> None:
        from lockgate.oci.reference import Reference
        from lockgate.oci.registry.client import RegistryClient

        opts = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
        r = Reference.parse(ref)
        try:
            with RegistryClient(r.registry, opts) as c:
                typer.echo(",".join(sorted(c.tags(r.repository))))
        except LockgateError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(3) from None

    @app.command()
    def other() -> None:  # a second command keeps "tags" a subcommand
        pass

    return app


def test_flags_against_basic_registry(basic_registry: RunningRegistry, small_image, skopeo_push) -> None:
    repo = unique_repo()
    skopeo_push(small_image, basic_registry, repo, "v1")
    runner = CliRunner()
    ref = f"{basic_registry.host}/{repo}"
    ok = runner.invoke(_app(), ["tags", ref, "--username", USERNAME, "--password-stdin"], input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == "v1"
    bad = runner.invoke(_app(), ["tags", ref, "--username", USERNAME, "--password-stdin"], input="nope\n")
    assert bad.exit_code == 3
    assert "access denied" in bad.output or "authentication failed" in bad.output
    env = runner.invoke(_app(), ["tags", ref], env={"LOCKGATE_USERNAME": USERNAME, "LOCKGATE_PASSWORD": PASSWORD})
    assert env.exit_code == 0 and env.stdout.strip() == "v1"


def test_flags_against_mtls_registry(mtls_registry: RunningRegistry, small_image, skopeo_push) -> None:
    repo = unique_repo()
    skopeo_push(small_image, mtls_registry, repo, "v1")
    tls = mtls_registry.tls
    assert tls is not None
    args = ["tags", f"{mtls_registry.host}/{repo}", "--ca-cert", str(tls.ca_cert)]
    client = ["--client-cert", str(tls.client_cert), "--client-key", str(tls.client_key)]
    ok = CliRunner().invoke(_app(), args + client)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == "v1"
    denied = CliRunner().invoke(_app(), args)
    assert denied.exit_code == 3
    assert "TLS" in denied.output


def test_bad_combinations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKGATE_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="needs --username"):
        registry_options(password_stdin=True, stdin=io.StringIO("pw\n"))
    with pytest.raises(ConfigError, match="needs --password-stdin"):
        registry_options(username="u")
    with pytest.raises(ConfigError, match="no password"):
        registry_options(username="u", password_stdin=True, stdin=io.StringIO(""))
    with pytest.raises(ConfigError, match="needs --client-cert"):
        registry_options(client_key=tmp_path / "k.pem")
    with pytest.raises(ConfigError, match="not a readable file"):
        registry_options(ca_cert=tmp_path / "missing.pem")
    opts = registry_options(username="u", password_stdin=True, stdin=io.StringIO("p w\r\nignored"), insecure=True)
    assert (opts.username, opts.password, opts.insecure) == ("u", "p w", True)
    assert registry_options().username is None
