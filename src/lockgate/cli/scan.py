"""``lockgate scan image|fs|sbom|config`` and ``lockgate sbom``: Trivy-like scanning commands.

This module declares the options (Typer); the bodies live in :mod:`lockgate.cli.scan_run`,
which the fast path (:mod:`lockgate.cli.fast`) calls directly with the same parameters.
:data:`FAST_TARGETS` names that body for each command, and ``tests/cli/test_fast.py`` checks
that both paths hand it the same values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lockgate.cli import scan_run
from lockgate.cli._common import FORMAT_OPTION, OUTPUT_OPTION, Format, settings
from lockgate.cli._registry_opts import CACert, ClientCert, ClientKey, Insecure, PasswordStdin, Username

app = typer.Typer(help="Scan images, file systems and SBOMs for vulnerabilities and more.", no_args_is_help=True)

FAST_TARGETS: dict[tuple[str, ...], str] = {
    ("scan", "image"): "scan_image",
    ("scan", "fs"): "scan_fs",
    ("scan", "sbom"): "scan_sbom",
    ("scan", "config"): "scan_config",
    ("sbom",): "sbom",
}
"""Command path -> function in :mod:`lockgate.cli.scan_run` that runs it."""


def _params(values: dict[str, Any]) -> dict[str, Any]:
    """A command's parameters from its ``locals()``, without the Click context."""
    return {k: v for k, v in values.items() if k != "ctx"}


Scanners = Annotated[
    str | None,
    typer.Option(
        "--scanners",
        help="Comma-separated: pkg, vuln, secret, malware, misconfig (default: vuln,secret).",
        show_default=False,
    ),
]
FailOn = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        envvar="LOCKGATE_FAIL_ON",
        help="Exit 1 when a finding is at or above SEVERITY.",
        show_default=False,
    ),
]
SeverityFilter = Annotated[
    str | None,
    typer.Option("--severity", help="Only report these severities (e.g. HIGH,CRITICAL).", show_default=False),
]
PolicyFile = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        envvar="LOCKGATE_POLICY",
        help="Policy file (default: ./lockgate-policy.yaml when present).",
        show_default=False,
    ),
]
VexFiles = Annotated[
    list[Path] | None, typer.Option("--vex", help="OpenVEX document(s) (repeatable).", show_default=False)
]
IgnoreUnfixed = Annotated[bool, typer.Option("--ignore-unfixed", help="Drop vulnerabilities with no fix.")]
AllowIncomplete = Annotated[
    bool, typer.Option("--allow-incomplete", help="Do not fail on coverage gaps (they are still reported).")
]
IgnoreFile = Annotated[
    Path | None,
    typer.Option("--ignorefile", help="Exceptions file (default: ./.lockgateignore if present).", show_default=False),
]
PlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="os/arch[/variant] (default linux/amd64).", show_default=False)
]
DbPath = Annotated[
    Path | None,
    typer.Option(
        "--db", envvar="LOCKGATE_DB", help="Advisory database (default: under the cache dir).", show_default=False
    ),
]
DbMaxAge = Annotated[
    str, typer.Option("--db-max-age", envvar="LOCKGATE_DB_MAX_AGE", help="Fail when the DB is older (e.g. 7d, 12h).")
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Do not read or write the layer cache.")]
DecryptionKeys = Annotated[
    list[str] | None,
    typer.Option(
        "--decryption-key",
        help="Decrypt encrypted layers on the fly: PRIV.pem[:password] | pkcs11:URI | provider:NAME (repeatable).",
        show_default=False,
    ),
]


@app.command("image")
def scan_image_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Image: oci:DIR[:TAG], oci-archive:F, docker-archive:F, or registry ref.")],
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    scanners: Scanners = None,
    fail_on: FailOn = None,
    severity: SeverityFilter = None,
    policy: PolicyFile = None,
    vex: VexFiles = None,
    ignore_unfixed: IgnoreUnfixed = False,
    allow_incomplete: AllowIncomplete = False,
    ignorefile: IgnoreFile = None,
    platform: PlatformOpt = None,
    db: DbPath = None,
    db_max_age: DbMaxAge = "7d",
    no_cache: NoCache = False,
    decryption_key: DecryptionKeys = None,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> int:
    """Scan a container image: inventory, vulnerabilities, secrets (and more), gated by policy."""
    return scan_run.scan_image(settings(ctx), **_params(locals()))


@app.command("fs")
def scan_fs_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Root file system or project directory.")],
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    scanners: Scanners = None,
    fail_on: FailOn = None,
    severity: SeverityFilter = None,
    policy: PolicyFile = None,
    vex: VexFiles = None,
    ignore_unfixed: IgnoreUnfixed = False,
    allow_incomplete: AllowIncomplete = False,
    ignorefile: IgnoreFile = None,
    db: DbPath = None,
    db_max_age: DbMaxAge = "7d",
) -> int:
    """Scan a directory (a root file system or a project with lock files)."""
    return scan_run.scan_fs(settings(ctx), **_params(locals()))


@app.command("sbom")
def scan_sbom_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CycloneDX or SPDX JSON (from lockgate, Trivy or Syft).")],
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    fail_on: FailOn = None,
    severity: SeverityFilter = None,
    policy: PolicyFile = None,
    vex: VexFiles = None,
    ignore_unfixed: IgnoreUnfixed = False,
    allow_incomplete: AllowIncomplete = False,
    ignorefile: IgnoreFile = None,
    db: DbPath = None,
    db_max_age: DbMaxAge = "7d",
) -> int:
    """Scan the inventory recorded in an SBOM, without the image."""
    return scan_run.scan_sbom(settings(ctx), **_params(locals()))


@app.command("config")
def scan_config_cmd(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Files or directories (Kubernetes YAML/JSON, Dockerfiles, .tf); - = stdin.")
    ],
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    fail_on: FailOn = None,
    severity: SeverityFilter = None,
    policy: PolicyFile = None,
    allow_incomplete: AllowIncomplete = False,
    ignorefile: IgnoreFile = None,
    pss_level: Annotated[
        str | None, typer.Option("--pss-level", help="baseline or restricted (default: policy, else restricted).")
    ] = None,
    pss_version: Annotated[
        str | None, typer.Option("--pss-version", help="vX.Y or latest (default: policy, else latest).")
    ] = None,
    allowed_registries: Annotated[
        list[str] | None, typer.Option("--allowed-registry", help="Registry prefix images may come from (repeatable).")
    ] = None,
    rego: Annotated[list[str] | None, typer.Option("--rego", help="Custom Rego rules: file or directory.")] = None,
    compliance: Annotated[
        str | None,
        typer.Option(
            "--compliance", help="Report per control: pss-baseline, pss-restricted, k8s-nsa, docker-cis (table|json)."
        ),
    ] = None,
) -> int:
    """Scan configuration: Kubernetes (Pod Security Standards and hardening), Dockerfiles, Terraform."""
    return scan_run.scan_config(settings(ctx), **_params(locals()))


def sbom_cmd(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="Image reference (any transport), fs:PATH or a directory.")],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="cyclonedx (1.6 JSON) or spdx (2.3 JSON).", case_sensitive=False)
    ] = Format.CYCLONEDX,
    output: Path | None = OUTPUT_OPTION,
    platform: PlatformOpt = None,
    no_cache: NoCache = False,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> int:
    """Write an SBOM (CycloneDX or SPDX JSON) of an image or directory."""
    return scan_run.sbom(settings(ctx), **_params(locals()))


def register(root: typer.Typer) -> None:
    """Attach ``scan`` and ``sbom`` to the root app."""
    root.add_typer(app, name="scan")
    root.command("sbom")(sbom_cmd)
