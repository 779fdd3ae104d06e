"""The bodies of ``lockgate scan image|fs|sbom|config`` and ``lockgate sbom``.

Free of Typer and Click: the Typer commands in :mod:`lockgate.cli.scan` and the fast path
(:mod:`lockgate.cli.fast`) both call these functions with the parsed options, so a scan in
CI starts without importing a CLI framework. Each returns the exit code: it is decided in
:func:`_gate_and_emit` only (0 allow/warn, 1 deny).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lockgate.cli._output import Format, check_format, echo_err, is_tty, write_output
from lockgate.cli.exitcodes import ExitCode

if TYPE_CHECKING:
    from lockgate.config import Settings
    from lockgate.findings.model import ScanReport
    from lockgate.gate.policy import Policy
    from lockgate.scan.options import ScanOptions

REPORT_FORMATS = {Format.TABLE, Format.JSON, Format.SARIF, Format.CYCLONEDX, Format.SPDX, Format.JUNIT, Format.HTML}


def _options(
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


def _load_policy(s: Settings, policy_file: Path | None) -> Policy:
    """``--policy``, else ``./lockgate-policy.yaml`` when present, else the empty policy."""
    from lockgate.gate.policy import Policy, load_policy

    if policy_file is None and Path("lockgate-policy.yaml").is_file():
        policy_file = Path("lockgate-policy.yaml")
    return load_policy(policy_file, s.limits) if policy_file else Policy()


def _gate_and_emit(
    s: Settings,
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
) -> int:
    import datetime as _dt
    import json

    from msgspec.structs import replace

    from lockgate.errors import ConfigError
    from lockgate.findings.model import Severity
    from lockgate.findings.render import renderer_for
    from lockgate.gate.evaluate import apply_policy, decide
    from lockgate.gate.policy import Source, load_ignore_file
    from lockgate.gate.vex import load_vex

    policy = loaded_policy if loaded_policy is not None else _load_policy(s, policy_file)
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
                echo_err(f"{r.outcome.value}: {r.message}" + (f" [{r.rule}]" if r.rule else ""))
        if len(decision.reasons) > 25:
            echo_err(f"... and {len(decision.reasons) - 25} more reasons")
        echo_err(f"decision: {decision.outcome.value}")
    return ExitCode.OK if decision.allowed else ExitCode.POLICY


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


def scan_image(
    s: Settings,
    *,
    ref: str,
    fmt: Format,
    output: Path | None,
    scanners: str | None,
    fail_on: str | None,
    severity: str | None,
    policy: Path | None,
    vex: list[Path] | None,
    ignore_unfixed: bool,
    allow_incomplete: bool,
    ignorefile: Path | None,
    platform: str | None,
    db: Path | None,
    db_max_age: str,
    no_cache: bool,
    decryption_key: list[str] | None,
    username: str | None,
    password_stdin: bool,
    ca_cert: Path | None,
    client_cert: Path | None,
    client_key: Path | None,
    insecure: bool,
) -> int:
    """``lockgate scan image``."""
    from lockgate.cli._credentials import registry_options
    from lockgate.scan.service import scan_image as run

    check_format(fmt, REPORT_FORMATS, "scan image")
    reg = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    pol = _load_policy(s, policy)
    opts = _options(
        scanners=scanners,
        platform=platform,
        db=db,
        db_max_age=db_max_age,
        no_cache=no_cache,
        registry=reg,
        policy=pol,
    )
    if decryption_key:
        from msgspec.structs import replace

        opts = replace(opts, decryption_keys=tuple(decryption_key))
    report = _with_progress(s, fmt, lambda progress: run(ref, opts, s, progress=progress))
    return _gate_and_emit(
        s,
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


def scan_fs(
    s: Settings,
    *,
    path: Path,
    fmt: Format,
    output: Path | None,
    scanners: str | None,
    fail_on: str | None,
    severity: str | None,
    policy: Path | None,
    vex: list[Path] | None,
    ignore_unfixed: bool,
    allow_incomplete: bool,
    ignorefile: Path | None,
    db: Path | None,
    db_max_age: str,
) -> int:
    """``lockgate scan fs``."""
    from lockgate.scan.service import scan_directory

    check_format(fmt, REPORT_FORMATS, "scan fs")
    pol = _load_policy(s, policy)
    opts = _options(scanners=scanners, db=db, db_max_age=db_max_age, policy=pol)
    report = scan_directory(path, opts, s)
    return _gate_and_emit(
        s,
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


def scan_sbom(
    s: Settings,
    *,
    file: Path,
    fmt: Format,
    output: Path | None,
    fail_on: str | None,
    severity: str | None,
    policy: Path | None,
    vex: list[Path] | None,
    ignore_unfixed: bool,
    allow_incomplete: bool,
    ignorefile: Path | None,
    db: Path | None,
    db_max_age: str,
) -> int:
    """``lockgate scan sbom``."""
    from lockgate.scan.service import scan_sbom as run

    check_format(fmt, REPORT_FORMATS, "scan sbom")
    opts = _options(scanners="vuln", db=db, db_max_age=db_max_age)
    report = run(file, opts, s)
    return _gate_and_emit(
        s,
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


def scan_config(
    s: Settings,
    *,
    paths: list[str],
    fmt: Format,
    output: Path | None,
    fail_on: str | None,
    severity: str | None,
    policy: Path | None,
    allow_incomplete: bool,
    ignorefile: Path | None,
    pss_level: str | None,
    pss_version: str | None,
    allowed_registries: list[str] | None,
    rego: list[str] | None,
    compliance: str | None,
) -> int:
    """``lockgate scan config``."""
    from lockgate.errors import NotFoundError
    from lockgate.misconfig.model import MisconfigOptions
    from lockgate.misconfig.scan import scan_config_paths, with_overrides

    check_format(fmt, REPORT_FORMATS - {Format.CYCLONEDX, Format.SPDX}, "scan config")
    if compliance:
        check_format(fmt, {Format.TABLE, Format.JSON}, "scan config --compliance")
    pol = _load_policy(s, policy)
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
    for p in paths:
        if p != "-" and not Path(p).exists():
            raise NotFoundError(f"{p}: no such file or directory")
    report = scan_config_paths(paths, opts, s)
    return _gate_and_emit(
        s,
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


def sbom(
    s: Settings,
    *,
    target: str,
    fmt: Format,
    output: Path | None,
    platform: str | None,
    no_cache: bool,
    username: str | None,
    password_stdin: bool,
    ca_cert: Path | None,
    client_cert: Path | None,
    client_key: Path | None,
    insecure: bool,
) -> int:
    """``lockgate sbom``."""
    from lockgate.cli._credentials import registry_options
    from lockgate.findings.render import renderer_for
    from lockgate.scan.service import scan_directory, scan_image

    check_format(fmt, {Format.CYCLONEDX, Format.SPDX, Format.JSON}, "sbom")
    reg = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    opts = _options(scanners="pkg", platform=platform, db=None, db_max_age="7d", no_cache=no_cache, registry=reg)
    if target.startswith("fs:") or (Path(target).is_dir() and not (Path(target) / "oci-layout").exists()):
        report = scan_directory(Path(target.removeprefix("fs:")), opts, s)
    else:
        report = _with_progress(s, fmt, lambda progress: scan_image(target, opts, s, progress=progress))
    write_output(renderer_for(fmt.value)(report), output)
    if report.gaps and not s.quiet:
        echo_err(f"warning: {len(report.gaps)} coverage gaps (see the SBOM's properties or scan --format json)")
    return ExitCode.OK
