"""Attestation and pipeline commands: ``attest``, ``verify-attestation``, ``provenance``, ``step run`` and
``verify-pipeline``.

Only Typer and the standard library are imported here; the attest package loads inside each command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from lockgate.cli._common import FORMAT_OPTION, OUTPUT_OPTION, Format, check_format, settings, write_output
from lockgate.cli._registry_opts import (
    CACert,
    ClientCert,
    ClientKey,
    Insecure,
    PasswordStdin,
    Username,
    registry_options,
)

step_app = typer.Typer(help="Record signed in-toto links for pipeline steps.", no_args_is_help=True)

TYPE_HELP = (
    "Predicate type: slsaprovenance (v0.2), slsaprovenance02, slsaprovenance1 (v1), spdx, spdxjson, cyclonedx, "
    "vuln, openvex, link, custom, or a predicate-type URI."
)


def _type_uri(type_name: str) -> str:
    """``--type`` as a predicate-type URI; an unknown name is a usage error (exit 2)."""
    from lockgate.attest.predicates import predicate_type_uri
    from lockgate.errors import InputError

    try:
        return predicate_type_uri(type_name)
    except InputError as e:
        raise typer.BadParameter(str(e), param_hint="--type") from None


def _say(ctx: typer.Context, text: str) -> None:
    if not settings(ctx).quiet:
        typer.echo(text, err=True)


def _read_input(path: Path, what: str) -> bytes:
    from lockgate.errors import InputError, NotFoundError

    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        if path.stat().st_size > 64 * 1024 * 1024:
            raise InputError(f"{what} {path} is larger than 64 MiB")
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{what} {path} not found") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a directory") from None


def attest_cmd(
    ctx: typer.Context,
    image: str = typer.Argument(..., help="Image: registry reference or oci:DIR[:TAG]."),
    predicate: Path = typer.Option(..., "--predicate", help="Predicate file (JSON; text for --type custom)."),
    type_name: str = typer.Option("custom", "--type", help=TYPE_HELP),
    key: list[str] = typer.Option(..., "--key", help="Private key file, pkcs11: URI or plug-in URI (repeatable)."),
    referrer: bool = typer.Option(False, "--referrer", help="Also store the attestation as an OCI 1.1 referrer."),
    no_tag: bool = typer.Option(False, "--no-tag", help="Do not write cosign's sha256-<hex>.att tag."),
    replace: bool = typer.Option(False, "--replace", help="Replace earlier attestations of the same type."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Attest an image: sign an in-toto Statement v1 in a DSSE envelope and attach it as cosign does."""
    from lockgate.attest.create import attest_image
    from lockgate.cli.trust import _password
    from lockgate.trust.keys.resolve import load_signer

    check_format(fmt, {Format.TABLE, Format.JSON}, "attest")
    _type_uri(type_name)
    data = _read_input(predicate, "predicate")
    signers = [load_signer(k, _password) for k in key]
    res = attest_image(
        image, data, type_name, signers, tag_layout=not no_tag, referrer=referrer, replace=replace,
        options=registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure),
        limits=settings(ctx).limits,
    )  # fmt: skip
    if fmt == Format.JSON:
        import json

        doc = {"digest": res.digest, "predicateType": res.predicate_type, "key_ids": list(res.key_ids),
               "stored_at": list(res.stored_at)}  # fmt: skip
        write_output(json.dumps(doc, indent=2), output)
        return
    line = f"{res.digest}  {res.predicate_type}  signed by {', '.join(res.key_ids)}  -> {', '.join(res.stored_at)}"
    write_output(line, output)


def verify_attestation_cmd(
    ctx: typer.Context,
    image: str = typer.Argument(..., help="Image: registry reference or oci:DIR[:TAG]."),
    type_name: str | None = typer.Option(None, "--type", help=TYPE_HELP + " Default: any type."),
    key: list[str] | None = typer.Option(None, "--key", help="Public key file, key ID or pkcs11: URI (repeatable)."),
    policy: Path | None = typer.Option(
        None, "--policy", help="A .rego file, or a policy file whose trust: scopes list attestations: requirements."
    ),
    cel: list[str] | None = typer.Option(None, "--cel", help="CEL expression every verified statement must satisfy."),
    threshold: int = typer.Option(1, "--threshold", min=1, help="Distinct keys whose attestations must pass."),
    revocations: Path | None = typer.Option(None, "--revocations", help="Revocation list (default: config dir)."),
    bundle: Path | None = typer.Option(
        None, "--bundle", help="Keyless: a Sigstore bundle holding the attestation (IMAGE may be a sha256: digest)."
    ),
    trusted_root: Path | None = typer.Option(None, "--trusted-root", help="Keyless: Sigstore trusted_root.json."),
    certificate_identity: str | None = typer.Option(None, "--certificate-identity", help="Keyless: exact identity."),
    certificate_identity_regexp: str | None = typer.Option(
        None, "--certificate-identity-regexp", help="Keyless: identity regular expression."
    ),
    certificate_oidc_issuer: str | None = typer.Option(None, "--certificate-oidc-issuer", help="Keyless: issuer."),
    certificate_oidc_issuer_regexp: str | None = typer.Option(
        None, "--certificate-oidc-issuer-regexp", help="Keyless: issuer regular expression."
    ),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Verify an image's attestations (signature, subject digest, predicate type and schema, policy); exit 1
    with a one-line reason unless at least one passes."""
    import json

    from lockgate.attest.policy import CelCheck, load_rego
    from lockgate.attest.verify import PredicateCheck, verify_attestations
    from lockgate.errors import ConfigError, PolicyFailure
    from lockgate.trust.keys.resolve import load_verifier
    from lockgate.trust.revocation import load_revocations

    check_format(fmt, {Format.TABLE, Format.JSON}, "verify-attestation")
    opts = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    ptype = _type_uri(type_name) if type_name else None
    rl = load_revocations(revocations)
    checks: list[PredicateCheck] = [CelCheck(c) for c in cel or []]
    if bundle is not None:
        _verify_bundle(
            ctx, image, bundle, trusted_root, ptype, checks, policy, fmt, output,
            (certificate_identity, certificate_identity_regexp, certificate_oidc_issuer,
             certificate_oidc_issuer_regexp), opts,
        )  # fmt: skip
        return
    if policy is not None and policy.suffix != ".rego":
        from lockgate.attest.trustpolicy import evaluate_attestation_policy

        decision = evaluate_attestation_policy(
            image, policy, revocations=rl, options=opts, limits=settings(ctx).limits,
            extra_keys=[load_verifier(k) for k in key or []], predicate_type=ptype,
        )  # fmt: skip
        if fmt == Format.JSON:
            write_output(json.dumps(decision.to_dict(), indent=2), output)
        else:
            write_output("\n".join(decision.reasons), output)
        if not decision.allowed:
            raise PolicyFailure(f"attestation verification failed: {decision.reasons[-1]}")
        return
    if policy is not None:
        checks.append(load_rego(policy))
    if not key:
        raise ConfigError("verify-attestation needs --key (or --policy with a trust: section)")
    keys = [load_verifier(k) for k in key]
    result = verify_attestations(
        image, keys, predicate_type=ptype, revocations=rl, checks=checks, options=opts, limits=settings(ctx).limits
    )
    if fmt == Format.JSON:
        write_output(json.dumps(result.to_dict(), indent=2), output)
    else:
        lines = [
            f"{'OK  ' if c.ok else 'FAIL'} {c.source:<8} {c.predicate_type or '-'}  {c.reason or 'verified'}"
            for c in result.checks
        ]
        write_output("\n".join(lines), output)
    if not result.passed:
        raise PolicyFailure(f"attestation verification failed for {result.digest}: {result.failure_reason()}")
    signers = {k for c in result.passed for k in c.key_ids}
    if len(signers) < threshold:
        raise PolicyFailure(
            f"attestation verification failed for {result.digest}: {len(signers)} of {threshold} required keys verified"
        )
    _say(ctx, f"Verified OK: {len(result.passed)} attestation(s) for {result.digest}")


def _verify_bundle(
    ctx: typer.Context,
    image: str,
    bundle: Path,
    trusted_root: Path | None,
    ptype: str | None,
    checks: Sequence[Any],
    policy: Path | None,
    fmt: Format,
    output: Path | None,
    ident: tuple[str | None, str | None, str | None, str | None],
    opts: Any,
) -> None:
    """``verify-attestation --bundle``: a keyless attestation bundle for IMAGE (a reference or a digest)."""
    import json
    import re

    from lockgate.attest.keyless import verify_bundle_attestation
    from lockgate.attest.policy import load_rego
    from lockgate.errors import ConfigError, IntegrityError, PolicyFailure
    from lockgate.trust.keyless import IdentityMatcher

    if trusted_root is None:
        raise ConfigError("--bundle needs --trusted-root (offline keyless verification)")
    if policy is not None:
        if policy.suffix != ".rego":
            raise ConfigError("with --bundle, --policy takes a .rego file")
        checks = [*checks, load_rego(policy)]
    if re.fullmatch(r"sha256:[0-9a-f]{64}", image):
        digest = image
    else:
        from lockgate.attest.attach import resolve_image
        from lockgate.oci.targets import parse_target

        digest = resolve_image(parse_target(image), opts, settings(ctx).limits)
    try:
        who, issuer, st = verify_bundle_attestation(
            _read_input(bundle, "bundle"), trusted_root, IdentityMatcher(*ident), digest,
            predicate_type=ptype, checks=checks,
        )  # fmt: skip
    except IntegrityError as e:
        raise PolicyFailure(f"attestation verification failed for {digest}: {e}") from None
    if fmt == Format.JSON:
        doc = {"digest": digest, "identity": who, "issuer": issuer, "statement": st.to_dict()}
        write_output(json.dumps(doc, indent=2), output)
    else:
        write_output(f"OK   bundle   {st.predicate_type}  signed by {who} ({issuer})", output)


@step_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": False})
def step_run(
    ctx: typer.Context,
    command: list[str] | None = typer.Argument(None, help="The step's command (after --)."),
    name: str = typer.Option(..., "--name", "-n", help="Step name (as in the layout)."),
    key: str = typer.Option(..., "--key", help="Functionary's private key file, pkcs11: URI or plug-in URI."),
    materials: list[str] | None = typer.Option(None, "--materials", "-m", help="Paths hashed before the command."),
    products: list[str] | None = typer.Option(None, "--products", "-p", help="Paths hashed after the command."),
    metadata_dir: Path = typer.Option(Path(), "--metadata-directory", "-d", help="Where to write the link."),
    base_path: Path | None = typer.Option(None, "--base-path", help="Directory paths are relative to (and cwd)."),
    exclude: list[str] | None = typer.Option(None, "--exclude", help="Glob of paths not to record (repeatable)."),
    lstrip: list[str] | None = typer.Option(None, "--lstrip-paths", help="Prefix removed from recorded paths."),
    record_streams: bool = typer.Option(False, "--record-streams", "-s", help="Keep stdout/stderr in the link."),
    dsse: bool = typer.Option(False, "--use-dsse", help="Write a DSSE envelope instead of a Metablock."),
    timeout: float | None = typer.Option(None, "--run-timeout", help="Seconds before the command is stopped."),
) -> None:
    """Run CMD and record materials, products and the command in a signed in-toto link
    (<step>.<keyid[:8]>.link); materials and products default to the working directory."""
    from lockgate.attest.intoto.artifacts import DEFAULT_EXCLUDES
    from lockgate.attest.intoto.link import run_step
    from lockgate.cli.trust import _password
    from lockgate.trust.keys.resolve import load_signer

    signer = load_signer(key, _password)
    cmd = list(command or [])
    res = run_step(
        name, cmd, signer,
        materials=materials if materials is not None else ["."],
        products=products if products is not None else ["."],
        out_dir=metadata_dir, base_path=base_path,
        exclude=[*DEFAULT_EXCLUDES, *(exclude or [])], lstrip=lstrip or [],
        record_streams=record_streams, dsse=dsse, timeout=timeout,
    )  # fmt: skip
    _say(ctx, f"wrote {res.path} ({len(res.link['materials'])} materials, {len(res.link['products'])} products)")
    typer.echo(str(res.path))
    if res.return_value != 0:
        raise typer.Exit(res.return_value if 0 < res.return_value < 256 else 1)


@step_app.command("sign-layout")
def step_sign_layout(
    ctx: typer.Context,
    layout: Path = typer.Argument(..., help="Layout (or unsigned template) to sign."),
    key: list[str] = typer.Option(..., "--key", help="Layout owner's private key (repeatable)."),
    out: Path = typer.Option(..., "--out", "-o", help="Signed layout file to write."),
    expires: str | None = typer.Option(None, "--expires", help="Expiry (ISO 8601; default: the layout's or 30 days)."),
    dsse: bool = typer.Option(False, "--use-dsse", help="Write a DSSE envelope instead of a Metablock."),
) -> None:
    """Sign an in-toto layout with the owners' keys (existing signatures are replaced)."""
    from lockgate.attest.intoto.layout import parse_time, sign_layout
    from lockgate.attest.intoto.metadata import load_metadata
    from lockgate.cli.trust import _password
    from lockgate.trust.keys.resolve import load_signer

    md = load_metadata(_read_input(layout, "layout"), str(layout))
    signers = [load_signer(k, _password) for k in key]
    when = parse_time(expires, "--expires") if expires else None
    write_output(sign_layout(md.signed, signers, dsse=dsse, expires=when), out)
    _say(ctx, f"wrote {out}")


def verify_pipeline_cmd(
    ctx: typer.Context,
    layout: Path = typer.Option(..., "--layout", "-l", help="Signed root layout."),
    layout_key: list[str] = typer.Option(
        ..., "--layout-key", "--verification-keys", "-k", help="Layout owner's public key; each must have signed."
    ),
    links: Path = typer.Option(Path(), "--links", "--link-dir", help="Directory holding <step>.<keyid>.link files."),
    workdir: Path | None = typer.Option(None, "--workdir", help="Where inspections run (default: cwd)."),
    no_inspections: bool = typer.Option(False, "--no-inspections", help="Do not run the layout's inspections."),
    inspection_timeout: float = typer.Option(60.0, "--inspection-timeout", help="Seconds per inspection."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Verify a supply chain against an in-toto layout; exit 1 with a one-line reason when it fails."""
    import json

    from lockgate.attest.intoto.verify import verify_pipeline
    from lockgate.trust.keys.resolve import load_verifier

    check_format(fmt, {Format.TABLE, Format.JSON}, "verify-pipeline")
    keys = [load_verifier(k) for k in layout_key]
    res = verify_pipeline(
        _read_input(layout, "layout"), keys, links, workdir=workdir, run_inspections=not no_inspections,
        inspection_timeout=inspection_timeout,
    )  # fmt: skip
    if fmt == Format.JSON:
        write_output(json.dumps(res.to_dict(), indent=2), output)
    else:
        lines = [f"OK   step {step}: links by {', '.join(k[:8] for k in kids)}" for step, kids in res.steps.items()]
        lines += [f"OK   inspection {name}" for name in res.inspections]
        lines += [f"note {note}" for note in res.notes]
        write_output("\n".join(lines), output)
    _say(ctx, "Verified OK: the supply chain passed all checks")


def provenance_cmd(
    ctx: typer.Context,
    ci: str = typer.Option("auto", "--ci", help="auto (detect), github, gitlab or generic."),
    builder_id: str | None = typer.Option(None, "--builder-id", help="Builder id URI (overrides the detected one)."),
    param: list[str] | None = typer.Option(None, "--param", help="key=value added to externalParameters."),
    material: list[str] | None = typer.Option(
        None, "--material", help="URI=ALGO:HEX resolved dependency (e.g. git+https://...=gitCommit:abc...)."
    ),
    started_on: str | None = typer.Option(None, "--started-on", help="Build start time (ISO 8601)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the predicate here (default: stdout)."),
) -> None:
    """Write a SLSA v1 provenance predicate for this build from the CI environment (use it with
    `lockgate attest --type slsaprovenance1 --predicate FILE`)."""
    import json
    import os

    from lockgate.attest.intoto.layout import parse_time
    from lockgate.attest.provenance import build_provenance

    params: dict[str, str] = {}
    for p in param or []:
        k, eq, v = p.partition("=")
        if not eq or not k:
            raise typer.BadParameter(f"{p!r} is not key=value", param_hint="--param")
        params[k] = v
    mats = []
    for m in material or []:
        uri, eq, dig = m.rpartition("=")
        algo, colon, hexpart = dig.partition(":")
        if not eq or not uri or not colon or not hexpart:
            raise typer.BadParameter(f"{m!r} is not URI=ALGO:HEX", param_hint="--material")
        mats.append((uri, {algo: hexpart}))
    pred = build_provenance(
        os.environ, ci=ci, builder_id=builder_id, parameters=params, materials=mats,
        started_on=parse_time(started_on, "--started-on") if started_on else None,
    )  # fmt: skip
    write_output(json.dumps(pred, indent=2) + "\n", output)
    if output is not None:
        _say(ctx, f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Attach the attestation commands to the root app."""
    app.command("attest")(attest_cmd)
    app.command("verify-attestation")(verify_attestation_cmd)
    app.add_typer(step_app, name="step")
    app.command("verify-pipeline")(verify_pipeline_cmd)
    app.command("provenance")(provenance_cmd)
