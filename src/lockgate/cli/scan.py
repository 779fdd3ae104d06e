"""``lockgate scan image|fs|sbom`` and ``lockgate sbom``: Trivy-like scanning commands.

One function builds the report, one applies the policy, one renders: the exit code is
decided in :func:`_gate_and_emit` only (0 allow/warn, 1 deny).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lockgate.cli._common import FORMAT_OPTION, OUTPUT_OPTION, Format, check_format, is_tty, settings, write_output
from lockgate.cli._registry_opts import CACert, ClientCert, ClientKey, Insecure, PasswordStdin, Username

if TYPE_CHECKING:
    from lockgate.config import Settings
    from lockgate.findings.model import ScanReport
    from lockgate.gate.policy import Policy
    from lockgate.scan.options import ScanOptions

app = typer.Typer(help="Scan images, file systems and SBOMs for vulnerabilities and more.", no_args_is_help=True)

REPORT_FORMATS = {Format.TABLE, Format.JSON, Format.SARIF, Format.CYCLONEDX, Format.SPDX, Format.JUNIT, Format.HTML}

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


def _options(
    ctx: typer.Context,
    *,
    scanners: str | None,
    platform: str | None = None,
    db: Path | None,
    db_max_age: str,
    no_cache: bool = False,
    registry: object = None,
    policy: Policy | None = None,
) -> ScanOptions:
    from lockgate._internal.durations import parse_duration
    from lockgate.oci.model import Platform
    from lockgate.oci.registry.options import RegistryOptions
    from lockgate.scan.options import DEFAULT_IMAGE_SCANNERS, ScanOptions, parse_scanners

    return ScanOptions(
        scanners=parse_scanners(scanners) if scanners else DEFAULT_IMAGE_SCANNERS,
        platform=Platform.parse(platform) if platform else None,
        registry=registry if isinstance(registry, RegistryOptions) else RegistryOptions(),
        db_path=db,
        db_max_age=parse_duration(db_max_age),
        use_cache=not no_cache,
        secrets_config=policy.secrets.scanner or None if policy else None,
        malware_config=policy.malware.scanner or None if policy else None,
    )


def _load_policy(ctx: typer.Context, policy_file: Path | None) -> Policy:
    """``--policy``, else ``./lockgate-policy.yaml`` when present, else the empty policy."""
    from lockgate.gate.policy import Policy, load_policy

    if policy_file is None and Path("lockgate-policy.yaml").is_file():
        policy_file = Path("lockgate-policy.yaml")
    return load_policy(policy_file, settings(ctx).limits) if policy_file else Policy()


def _gate_and_emit(
    ctx: typer.Context,
    report: ScanReport,
    *,
    fmt: Format,
    output: Path | None,
    fail_on: str | None,
    severity: str | None,
    policy_file: Path | None,
    vex: list[Path] | None,
    ignore_unfixed: bool,
    allow_incomplete: bool,
    ignorefile: Path | None,
    compliance: str | None = None,
    loaded_policy: Policy | None = None,
) -> None:
    import datetime as _dt
    import json
    from dataclasses import replace

    from lockgate.errors import ConfigError
    from lockgate.findings.model import Severity
    from lockgate.findings.render import renderer_for
    from lockgate.gate.evaluate import apply_policy, decide
    from lockgate.gate.policy import Source, load_ignore_file
    from lockgate.gate.vex import load_vex

    s = settings(ctx)
    policy = loaded_policy if loaded_policy is not None else _load_policy(ctx, policy_file)
    vp = policy.vulnerabilities
    if fail_on:
        try:
            sev = Severity.parse(fail_on)
        except ValueError as e:
            raise ConfigError(f"--fail-on: {e}") from None
        vp = replace(vp, fail_on=sev, source=Source())
        policy = replace(
            policy,
            vulnerabilities=vp,
            secrets=replace(policy.secrets, fail_on=policy.secrets.fail_on or sev),
            malware=replace(policy.malware, fail_on=policy.malware.fail_on or sev),
            misconfig=replace(policy.misconfig, fail_on=policy.misconfig.fail_on or sev),
        )
    if ignore_unfixed:
        policy = replace(policy, vulnerabilities=replace(policy.vulnerabilities, ignore_unfixed=True))
    ignore_path = ignorefile or (Path(".lockgateignore") if Path(".lockgateignore").is_file() else None)
    if ignore_path is not None:
        policy = replace(policy, exceptions=policy.exceptions + load_ignore_file(ignore_path, s.limits))
    statements = tuple(st for p in vex or () for st in load_vex(p))
    today = _dt.datetime.now(_dt.UTC).date()
    report, prior = apply_policy(report, policy, today=today, vex=statements)
    if severity:
        try:
            wanted = {Severity.parse(x) for x in severity.split(",") if x.strip()}
        except ValueError as e:
            raise ConfigError(f"--severity: {e}") from None
        report = replace(report, findings=tuple(f for f in report.findings if f.severity in wanted))
    decision = decide(report, policy, allow_incomplete=allow_incomplete, prior=prior)
    if compliance:
        from lockgate.misconfig.compliance import evaluate

        counted = replace(report, findings=tuple(f for f in report.findings if not f.suppressed_by))
        view = evaluate(counted, compliance)
        text = json.dumps(view.to_dict(), indent=2) + "\n" if fmt is Format.JSON else view.render_table()
        write_output(text, output)
    else:
        write_output(renderer_for(fmt.value)(report), output)
    if not s.quiet:
        for r in decision.reasons[:25]:
            if r.outcome.value != "allow":
                typer.echo(f"{r.outcome.value}: {r.message}" + (f" [{r.rule}]" if r.rule else ""), err=True)
        if len(decision.reasons) > 25:
            typer.echo(f"... and {len(decision.reasons) - 25} more reasons", err=True)
        typer.echo(f"decision: {decision.outcome.value}", err=True)
    if not decision.allowed:
        raise typer.Exit(1)


def _with_progress(s: Settings, fmt: Format, run: object) -> ScanReport:
    """Run ``run(progress)`` with a Rich progress bar on a TTY (never in quiet mode)."""
    from collections.abc import Callable

    assert callable(run)
    fn: Callable[..., ScanReport] = run
    if s.quiet or not is_tty() or fmt is not Format.TABLE:
        return fn(None)  # progress only for humans: never in machine-readable modes
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("scanning layers"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
        console=__import__("rich.console", fromlist=["Console"]).Console(file=sys.stderr),
    ) as bar:
        task = bar.add_task("layers", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return fn(progress)


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
) -> None:
    """Scan a container image: inventory, vulnerabilities, secrets (and more), gated by policy."""
    from lockgate.cli._registry_opts import registry_options
    from lockgate.scan.service import scan_image

    check_format(fmt, REPORT_FORMATS, "scan image")
    s = settings(ctx)
    reg = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    pol = _load_policy(ctx, policy)
    opts = _options(
        ctx,
        scanners=scanners,
        platform=platform,
        db=db,
        db_max_age=db_max_age,
        no_cache=no_cache,
        registry=reg,
        policy=pol,
    )
    if decryption_key:
        from dataclasses import replace

        opts = replace(opts, decryption_keys=tuple(decryption_key))
    report = _with_progress(s, fmt, lambda progress: scan_image(ref, opts, s, progress=progress))
    _gate_and_emit(
        ctx,
        report,
        loaded_policy=pol,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        severity=severity,
        policy_file=policy,
        vex=vex,
        ignore_unfixed=ignore_unfixed,
        allow_incomplete=allow_incomplete,
        ignorefile=ignorefile,
    )


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
) -> None:
    """Scan a directory (a root file system or a project with lock files)."""
    from lockgate.scan.service import scan_directory

    check_format(fmt, REPORT_FORMATS, "scan fs")
    s = settings(ctx)
    pol = _load_policy(ctx, policy)
    opts = _options(ctx, scanners=scanners, db=db, db_max_age=db_max_age, policy=pol)
    report = scan_directory(path, opts, s)
    _gate_and_emit(
        ctx,
        report,
        loaded_policy=pol,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        severity=severity,
        policy_file=policy,
        vex=vex,
        ignore_unfixed=ignore_unfixed,
        allow_incomplete=allow_incomplete,
        ignorefile=ignorefile,
    )


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
) -> None:
    """Scan the inventory recorded in an SBOM, without the image."""
    from lockgate.scan.service import scan_sbom

    check_format(fmt, REPORT_FORMATS, "scan sbom")
    s = settings(ctx)
    opts = _options(ctx, scanners="vuln", db=db, db_max_age=db_max_age)
    report = scan_sbom(file, opts, s)
    _gate_and_emit(
        ctx,
        report,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        severity=severity,
        policy_file=policy,
        vex=vex,
        ignore_unfixed=ignore_unfixed,
        allow_incomplete=allow_incomplete,
        ignorefile=ignorefile,
    )


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
) -> None:
    """Scan configuration: Kubernetes (Pod Security Standards and hardening), Dockerfiles, Terraform."""
    from lockgate.misconfig.model import MisconfigOptions
    from lockgate.misconfig.scan import scan_config_paths, with_overrides

    check_format(fmt, REPORT_FORMATS - {Format.CYCLONEDX, Format.SPDX}, "scan config")
    if compliance:
        check_format(fmt, {Format.TABLE, Format.JSON}, "scan config --compliance")
    s = settings(ctx)
    pol = _load_policy(ctx, policy)
    opts = MisconfigOptions.from_policy(pol.misconfig)
    changes: dict[str, object] = {}
    if pss_level:
        changes["pss_level"] = pss_level
    if pss_version:
        changes["pss_version"] = pss_version
    if allowed_registries:
        changes["allowed_registries"] = tuple(allowed_registries)
    if rego:
        changes["rego_paths"] = tuple(rego)
    if changes:
        opts = with_overrides(opts, **changes)
    from lockgate.errors import NotFoundError

    for p in paths:
        if p != "-" and not Path(p).exists():
            raise NotFoundError(f"{p}: no such file or directory")
    report = scan_config_paths(paths, opts, s)
    _gate_and_emit(
        ctx,
        report,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        severity=severity,
        policy_file=policy,
        vex=None,
        ignore_unfixed=False,
        allow_incomplete=allow_incomplete,
        ignorefile=ignorefile,
        compliance=compliance,
    )


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
) -> None:
    """Write an SBOM (CycloneDX or SPDX JSON) of an image or directory."""
    from lockgate.cli._registry_opts import registry_options
    from lockgate.findings.render import renderer_for
    from lockgate.scan.service import scan_directory, scan_image

    check_format(fmt, {Format.CYCLONEDX, Format.SPDX, Format.JSON}, "sbom")
    s = settings(ctx)
    reg = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    opts = _options(ctx, scanners="pkg", platform=platform, db=None, db_max_age="7d", no_cache=no_cache, registry=reg)
    if target.startswith("fs:") or (Path(target).is_dir() and not (Path(target) / "oci-layout").exists()):
        report = scan_directory(Path(target.removeprefix("fs:")), opts, s)
    else:
        report = _with_progress(s, fmt, lambda progress: scan_image(target, opts, s, progress=progress))
    write_output(renderer_for(fmt.value)(report), output)
    if report.gaps and not s.quiet:
        typer.echo(
            f"warning: {len(report.gaps)} coverage gaps (see the SBOM's properties or scan --format json)", err=True
        )


def register(root: typer.Typer) -> None:
    """Attach ``scan`` and ``sbom`` to the root app."""
    root.add_typer(app, name="scan")
    root.command("sbom")(sbom_cmd)
