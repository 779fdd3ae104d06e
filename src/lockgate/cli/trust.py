"""Trust commands: ``sign``, ``verify``, ``sign-blob``, ``verify-blob`` and the ``key`` group.

Only Typer and the standard library are imported here; the trust package loads inside each command.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lockgate.cli._common import (
    FORMAT_OPTION,
    OUTPUT_OPTION,
    Format,
    check_format,
    settings,
    write_json,
    write_output,
)
from lockgate.cli._registry_opts import (
    CACert,
    ClientCert,
    ClientKey,
    Insecure,
    PasswordStdin,
    Username,
    registry_options,
)

if TYPE_CHECKING:
    from lockgate.trust.keys.model import PublicKey

key_app = typer.Typer(help="Generate, import, list and revoke signing keys.", no_args_is_help=True)

ALGORITHMS = ("ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-3072")


def _password(confirm: bool = False) -> bytes:
    """``LOCKGATE_PASSWORD``, else ``COSIGN_PASSWORD``, else an interactive prompt."""
    for var in ("LOCKGATE_PASSWORD", "COSIGN_PASSWORD"):
        value = os.environ.get(var)
        if value is not None:
            return value.encode()
    if not sys.stdin.isatty():
        from lockgate.errors import ConfigError

        raise ConfigError("a key password is needed: set LOCKGATE_PASSWORD (or COSIGN_PASSWORD)")
    return str(typer.prompt("Key password", hide_input=True, confirmation_prompt=confirm)).encode()


def _say(ctx: typer.Context, text: str) -> None:
    if not settings(ctx).quiet:
        typer.echo(text, err=True)


# -- keys ----------------------------------------------------------------------------------
@key_app.command("generate")
def key_generate(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", help="Write PREFIX.key and PREFIX.pub (default: the keyring)."),
    algorithm: str = typer.Option("ecdsa-p256", "--algorithm", help="ecdsa-p256, ecdsa-p384, ed25519 or rsa-3072."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Generate a key pair: PREFIX.key (cosign encrypted format) and PREFIX.pub (PEM)."""
    from lockgate.trust.keys.generate import generate_key_pair

    check_format(fmt, {Format.TABLE, Format.JSON}, "key generate")
    if algorithm not in ALGORITHMS:
        raise typer.BadParameter(f"use one of {', '.join(ALGORITHMS)}", param_hint="--algorithm")
    key_path, pub_path, pub = generate_key_pair(out, algorithm, _password(confirm=True), force=force)
    _say(ctx, f"wrote {key_path} and {pub_path}")
    _key_written(fmt, output, key_path, pub_path, pub)


def _key_written(fmt: Format, output: Path | None, key_path: Path, pub_path: Path, pub: PublicKey) -> None:
    """The result of ``key generate`` / ``key import``: one line, or a JSON object."""
    if fmt is Format.JSON:
        write_json(
            {
                "key_id": pub.key_id,
                "intoto_keyid": pub.intoto_keyid,
                "algorithm": pub.algorithm,
                "private_key": str(key_path),
                "public_key": str(pub_path),
            },
            output,
        )
    else:
        write_output(f"{pub.key_id}  {pub.algorithm}  {pub_path}\n", output)


@key_app.command("import")
def key_import(
    ctx: typer.Context,
    private_key: Path = typer.Argument(..., help="PEM private key (PKCS#8, SEC1 or PKCS#1)."),
    out: Path | None = typer.Option(None, "--out", help="Write PREFIX.key and PREFIX.pub (default: the keyring)."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Import a PEM private key into cosign's encrypted format (password from LOCKGATE_PASSWORD)."""
    from lockgate.trust.keys.generate import import_key_pair

    check_format(fmt, {Format.TABLE, Format.JSON}, "key import")
    key_path, pub_path, pub = import_key_pair(private_key, out, _password, force=force)
    _say(ctx, f"wrote {key_path} and {pub_path}")
    _key_written(fmt, output, key_path, pub_path, pub)


@key_app.command("list")
def key_list(ctx: typer.Context, fmt: Format = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION) -> None:
    """List the keys in the keyring (<config dir>/keys): ID, algorithm, file."""
    from lockgate.trust.keys.keyring import entries

    check_format(fmt, {Format.TABLE, Format.JSON}, "key list")
    rows = [
        {
            "key_id": e.key.key_id if e.key else "",
            "intoto_keyid": e.key.intoto_keyid if e.key else "",
            "algorithm": e.key.algorithm if e.key else "",
            "private": e.private,
            "file": str(e.path),
            "error": e.error,
        }
        for e in entries()
    ]
    if fmt == Format.JSON:
        write_json(rows, output)
        return
    lines = []
    for r in rows:
        kid = r["key_id"] or "?"
        err = f"  ({r['error']})" if r["error"] else ""
        lines.append(f"{kid}  {r['algorithm'] or '?':<11} {r['file']}{err}\n")
    write_output("".join(lines), output)


@key_app.command("revoke")
def key_revoke(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Key ID (lockgate or in-toto), or a public-key file."),
    reason: str = typer.Option("", "--reason", help="Why the key is revoked."),
    since: str | None = typer.Option(
        None, "--since", "--at", help="Only signatures made at/after this time (YYYY-MM-DD or ISO 8601)."
    ),
    list_file: Path | None = typer.Option(None, "--list", help="Revocation list file (default: config dir)."),
    signing_key: str | None = typer.Option(
        None, "--signing-key", envvar="LOCKGATE_REVOCATION_SIGNING_KEY", help="Sign the list with this key."
    ),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Add a key to the revocation list; verification refuses its signatures from then on."""
    from lockgate.trust.keys.files import load_public_key
    from lockgate.trust.keys.resolve import load_signer
    from lockgate.trust.revocation import default_path, parse_time, revoke

    check_format(fmt, {Format.TABLE, Format.JSON}, "key revoke")
    ident: object = key
    if Path(key).is_file():
        ident = load_public_key(Path(key))
    signer = load_signer(signing_key, _password) if signing_key else None
    rl = revoke(
        ident,  # type: ignore[arg-type]
        reason=reason,
        since=parse_time(since) if since else None,
        path=list_file,
        signer=signer,
    )
    _say(ctx, f"revocation list version {rl.version}: {len(rl.revoked)} revoked key(s)")
    if fmt is Format.JSON:
        doc = {"list": str(list_file or default_path()), "signed": signer is not None} | rl.signed_dict()
        write_json(doc, output)


# -- blobs ---------------------------------------------------------------------------------
def sign_blob_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="File to sign."),
    key: str = typer.Option(..., "--key", help="Private key file, pkcs11: URI or plug-in URI."),
    output_signature: Path | None = typer.Option(
        None, "--output-signature", help="Write the base64 signature here (default: stdout)."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the result here: the signature (as cosign's --output), or with -f json the JSON document.",
    ),
    bundle: Path | None = typer.Option(None, "--bundle", help="Also write a Sigstore bundle (v0.3) here."),
    tsa: str | None = typer.Option(
        None, "--tsa", "--timestamp-server-url", help="RFC 3161 timestamp authority for the bundle."
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Sign a file (cosign sign-blob compatible: base64 signature over the file's SHA-256)."""
    from lockgate.errors import ConfigError
    from lockgate.trust.blob import encode_signature, file_digest, sign_blob
    from lockgate.trust.keys.resolve import load_signer

    check_format(fmt, {Format.TABLE, Format.JSON}, "sign-blob")
    if tsa and bundle is None:
        raise ConfigError("--tsa needs --bundle (the timestamp is stored in the bundle)")
    if fmt is Format.TABLE and output is not None:
        if output_signature is not None:
            raise ConfigError("--output and --output-signature both name the signature file; give one")
        output_signature = output
    signer = load_signer(key, _password)
    raw_sig = sign_blob(file, signer)
    if bundle is not None:
        from lockgate.trust.bundle import assemble_blob_bundle

        tsr = None
        if tsa:
            from lockgate.trust.timestamp import request_timestamp

            tsr = request_timestamp(tsa, raw_sig)
        write_output(assemble_blob_bundle(file_digest(file), signer.public_key.key_id, raw_sig, tsr), bundle)
        _say(ctx, f"wrote bundle to {bundle}")
    sig = encode_signature(raw_sig)
    if fmt is Format.JSON:
        if output_signature is not None:
            write_output(sig, output_signature)
        doc = {
            "file": str(file),
            "digest": "sha256:" + file_digest(file).hex(),
            "key_id": signer.public_key.key_id,
            "algorithm": signer.public_key.algorithm,
            "signature": sig.decode(),
            "signature_file": str(output_signature) if output_signature is not None else None,
            "bundle": str(bundle) if bundle is not None else None,
        }
        write_json(doc, output)
        return
    if output_signature is None:
        sys.stdout.buffer.write(sig)
        sys.stdout.flush()
        if sys.stdout.isatty():
            sys.stdout.write("\n")
        return
    write_output(sig, output_signature)
    _say(ctx, f"wrote signature to {output_signature}")


IDENTITY_OPTION = typer.Option(None, "--certificate-identity", help="Keyless: exact certificate identity (SAN).")
IDENTITY_RX_OPTION = typer.Option(
    None, "--certificate-identity-regexp", help="Keyless: certificate identity regular expression."
)
ISSUER_OPTION = typer.Option(None, "--certificate-oidc-issuer", help="Keyless: exact OIDC issuer.")
ISSUER_RX_OPTION = typer.Option(None, "--certificate-oidc-issuer-regexp", help="Keyless: OIDC issuer regexp.")
TRUSTED_ROOT_OPTION = typer.Option(
    None, "--trusted-root", help="Keyless: Sigstore trusted_root.json (or ClientTrustConfig) to verify against."
)


def verify_blob_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="File whose signature to check."),
    key: str | None = typer.Option(None, "--key", help="Public key file, key ID or pkcs11: URI."),
    signature: Path | None = typer.Option(None, "--signature", help="Base64 signature file (cosign format)."),
    bundle: Path | None = typer.Option(None, "--bundle", help="Keyless: Sigstore bundle (.sigstore.json)."),
    trusted_root: Path | None = TRUSTED_ROOT_OPTION,
    certificate_identity: str | None = IDENTITY_OPTION,
    certificate_identity_regexp: str | None = IDENTITY_RX_OPTION,
    certificate_oidc_issuer: str | None = ISSUER_OPTION,
    certificate_oidc_issuer_regexp: str | None = ISSUER_RX_OPTION,
    revocations: Path | None = typer.Option(None, "--revocations", help="Revocation list (default: config dir)."),
    tsa_cert_chain: Path | None = typer.Option(
        None, "--tsa-cert-chain", "--timestamp-certificate-chain", help="PEM chain of the TSA (bundle timestamps)."
    ),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Verify a detached blob signature or a Sigstore bundle; exit 1 with a one-line reason when it fails."""
    from lockgate.errors import ConfigError, PolicyFailure

    check_format(fmt, {Format.TABLE, Format.JSON}, "verify-blob")
    base: dict[str, Any] = {"file": str(file)}
    try:
        if bundle is not None and trusted_root is None and key is not None:
            doc = _verify_keyed_blob_bundle(file, key, bundle, revocations, tsa_cert_chain)
        elif bundle is not None:
            if trusted_root is None:
                raise ConfigError("--bundle needs --trusted-root (offline verification)")
            matcher = (
                certificate_identity, certificate_identity_regexp, certificate_oidc_issuer,
                certificate_oidc_issuer_regexp,
            )  # fmt: skip
            doc = _verify_keyless_blob(file, bundle, trusted_root, matcher)
        else:
            if key is None or signature is None:
                raise ConfigError(
                    "verify-blob needs --key with --signature or --bundle (or --bundle with --trusted-root)"
                )
            doc = _verify_signature_blob(file, key, signature, revocations)
    except PolicyFailure as e:
        if fmt is Format.JSON:
            write_json(base | {"verified": False, "reason": str(e).removeprefix("verification failed: ")}, output)
        raise
    doc = base | {"verified": True} | doc
    if doc.get("identity"):
        message = f"Verified OK: {file} signed by {doc['identity']} (issuer {doc['issuer']})"
    else:
        when = f" at {doc['signed_at']}" if doc.get("signed_at") else ""
        message = f"Verified OK: {file} signed by key {doc['key_id']}{when}"
    _say(ctx, message)  # stderr, as cosign prints it
    if fmt is Format.JSON:
        write_json(doc, output)
    elif output is not None:
        write_output(message + "\n", output)


def _read_file(file: Path) -> bytes:
    from lockgate.errors import NotFoundError

    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"file {file} not found") from None


def _verify_keyless_blob(
    file: Path, bundle: Path, trusted_root: Path, matcher_args: tuple[str | None, str | None, str | None, str | None]
) -> dict[str, Any]:
    """``verify-blob --bundle B --trusted-root R``: a keyless Sigstore bundle (Fulcio certificate, Rekor entry)."""
    from lockgate.errors import IntegrityError, PolicyFailure
    from lockgate.trust.keyless import IdentityMatcher, load_bundle, load_trusted_root, verify_blob_bundle

    matcher = IdentityMatcher(*matcher_args)
    root = load_trusted_root(trusted_root)
    loaded = load_bundle(bundle.read_bytes() if bundle.is_file() else b"", str(bundle))
    data = _read_file(file)
    try:
        res = verify_blob_bundle(data, loaded, root, matcher)
    except IntegrityError as e:
        raise PolicyFailure(f"verification failed: {e}") from None
    return {"key_id": None, "identity": res.identity, "issuer": res.issuer, "signed_at": None}


def _verify_signature_blob(file: Path, key: str, signature: Path, revocations: Path | None) -> dict[str, Any]:
    """``verify-blob --key PUB --signature SIG``: a detached base64 signature (cosign sign-blob)."""
    from lockgate.errors import IntegrityError, PolicyFailure
    from lockgate.trust.blob import read_signature_file, verify_blob
    from lockgate.trust.keys.resolve import load_verifier
    from lockgate.trust.revocation import load_revocations

    pub = load_verifier(key)
    sig = read_signature_file(signature)
    rl = load_revocations(revocations)
    refused = rl.check(pub, None)
    if refused:
        raise PolicyFailure(f"verification failed: {refused}")
    try:
        verify_blob(file, pub, sig)
    except IntegrityError as e:
        raise PolicyFailure(f"verification failed: {e}") from None
    return {"key_id": pub.key_id, "identity": None, "issuer": None, "signed_at": None}


def _verify_keyed_blob_bundle(
    file: Path, key: str, bundle: Path, revocations: Path | None, tsa_cert_chain: Path | None
) -> dict[str, Any]:
    """``verify-blob --key PUB --bundle B``: a key-based message-signature bundle (cosign sign-blob --bundle)."""
    from lockgate.errors import IntegrityError, NotFoundError, PolicyFailure
    from lockgate.trust.blob import file_digest, verify_blob
    from lockgate.trust.bundle import parse_blob_bundle
    from lockgate.trust.keys.resolve import load_verifier
    from lockgate.trust.revocation import load_revocations

    pub = load_verifier(key)
    try:
        parsed = parse_blob_bundle(bundle.read_bytes())
    except FileNotFoundError:
        raise NotFoundError(f"bundle {bundle} not found") from None
    signed_at = None
    try:
        if parsed.digest != file_digest(file):
            raise IntegrityError(f"bundle digest does not match {file.name}")
        verify_blob(file, pub, parsed.signature)
        if tsa_cert_chain is not None and parsed.timestamps:
            from lockgate.trust.timestamp import TsaTrust, verify_timestamp

            signed_at = verify_timestamp(parsed.timestamps[0], parsed.signature, TsaTrust.from_pem_file(tsa_cert_chain))
    except IntegrityError as e:
        raise PolicyFailure(f"verification failed: {e}") from None
    refused = load_revocations(revocations).check(pub, signed_at)
    if refused:
        raise PolicyFailure(f"verification failed: {refused}")
    return {
        "key_id": pub.key_id,
        "identity": None,
        "issuer": None,
        "signed_at": signed_at.isoformat() if signed_at else None,
    }


# -- images --------------------------------------------------------------------------------
def _annotations(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in pairs or []:
        k, eq, v = p.partition("=")
        if not eq or not k:
            raise typer.BadParameter(f"{p!r} is not key=value", param_hint="-a")
        out[k] = v
    return out


def sign_cmd(
    ctx: typer.Context,
    image: str = typer.Argument(..., help="Image: registry reference or oci:DIR[:TAG]."),
    key: list[str] = typer.Option(..., "--key", help="Private key file, pkcs11: URI or plug-in URI (repeatable)."),
    annotation: list[str] | None = typer.Option(None, "-a", "--annotation", help="key=value added to the payload."),
    all_platforms: bool = typer.Option(False, "--all-platforms", help="Also sign every platform manifest."),
    referrer: bool = typer.Option(False, "--referrer", help="Also store the signature as an OCI 1.1 referrer."),
    identity: str | None = typer.Option(
        None, "--identity", help="docker-reference to sign for (default: the image's repository)."
    ),
    tsa: str | None = typer.Option(
        None, "--tsa", "--timestamp-server-url", help="RFC 3161 timestamp authority URL (trusted signing time)."
    ),
    tsa_ca_cert: Path | None = typer.Option(None, "--tsa-ca-cert", help="CA certificate for the TSA's HTTPS."),
    bundle: bool = typer.Option(
        False, "--bundle", help="Write cosign v3's layout: a Sigstore bundle referrer (needs --tsa)."
    ),
    certificate: Path | None = typer.Option(None, "--certificate", help="PEM signing certificate for the key."),
    certificate_chain: Path | None = typer.Option(
        None, "--certificate-chain", help="PEM chain (intermediates, root) for --certificate."
    ),
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Sign an image's manifest digest (cosign-compatible: tag sha256-<hex>.sig in the same repository)."""
    from lockgate.trust.image import sign_image
    from lockgate.trust.keys.resolve import load_signer

    check_format(fmt, {Format.TABLE, Format.JSON}, "sign")
    signers = [load_signer(k, _password) for k in key]
    results = sign_image(
        image,
        signers,
        annotations=_annotations(annotation),
        identity=identity,
        all_platforms=all_platforms,
        referrer=referrer,
        options=registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure),
        limits=settings(ctx).limits,
        tsa_url=tsa,
        tsa_ca_cert=tsa_ca_cert,
        bundle=bundle,
        certificate=certificate,
        certificate_chain=certificate_chain,
    )
    if fmt is Format.JSON:
        rows = [{"digest": r.digest, "key_id": r.key_id, "stored_at": r.stored_at} for r in results]
        write_json({"image": image, "signatures": rows}, output)
    else:
        write_output("".join(f"{r.digest}  signed by {r.key_id}  -> {r.stored_at}\n" for r in results), output)


def verify_cmd(
    ctx: typer.Context,
    image: str = typer.Argument(..., help="Image: registry reference or oci:DIR[:TAG]."),
    key: list[str] | None = typer.Option(None, "--key", help="Public key file, key ID or pkcs11: URI (repeatable)."),
    annotation: list[str] | None = typer.Option(None, "-a", "--annotation", help="Required payload key=value."),
    threshold: int = typer.Option(1, "--threshold", min=1, help="Distinct keys that must have signed."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy file whose trust: section decides."),
    identity: str | None = typer.Option(None, "--identity", help="Expected docker-reference (default: the image)."),
    revocations: Path | None = typer.Option(None, "--revocations", help="Revocation list (default: config dir)."),
    tsa_cert_chain: Path | None = typer.Option(
        None,
        "--tsa-cert-chain",
        "--timestamp-certificate-chain",
        help="PEM chain of the timestamp authority; verified RFC 3161 timestamps give the signing time.",
    ),
    ca_roots: Path | None = typer.Option(
        None, "--ca-roots", help="PEM CA roots for signing certificates carried by signatures (X.509 PKI)."
    ),
    crl: list[Path] | None = typer.Option(None, "--crl", help="CRL (PEM or DER) checked for those certificates."),
    trusted_root: Path | None = TRUSTED_ROOT_OPTION,
    certificate_identity: str | None = IDENTITY_OPTION,
    certificate_identity_regexp: str | None = IDENTITY_RX_OPTION,
    certificate_oidc_issuer: str | None = ISSUER_OPTION,
    certificate_oidc_issuer_regexp: str | None = ISSUER_RX_OPTION,
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Verify an image's signatures; exit 1 unless enough keys verified (or the policy allows it)."""
    from lockgate.errors import ConfigError, PolicyFailure
    from lockgate.trust.image import verify_image
    from lockgate.trust.keys.resolve import load_verifier
    from lockgate.trust.revocation import load_revocations

    check_format(fmt, {Format.TABLE, Format.JSON}, "verify")
    opts = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    if trusted_root is not None:
        from lockgate.trust.keyless import IdentityMatcher, load_trusted_root, verify_image_bundles

        matcher = IdentityMatcher(
            certificate_identity, certificate_identity_regexp, certificate_oidc_issuer, certificate_oidc_issuer_regexp
        )
        digest, bundle_checks = verify_image_bundles(image, load_trusted_root(trusted_root), matcher, options=opts)
        good = [c for c in bundle_checks if c.ok]
        if fmt == Format.JSON:
            rows = [{"referrer": c.referrer, "ok": c.ok, "reason": c.reason, "identity": c.identity,
                     "issuer": c.issuer} for c in bundle_checks]  # fmt: skip
            write_json({"digest": digest, "bundles": rows}, output)
        else:
            write_output(
                "".join(
                    f"{'OK  ' if bc.ok else 'FAIL'} bundle {bc.referrer[:19]} {bc.reason or bc.identity}\n"
                    for bc in bundle_checks
                ),
                output,
            )
        if len(good) < threshold:
            why = bundle_checks[0].reason if bundle_checks and not good else f"no Sigstore bundles for {digest}"
            raise PolicyFailure(f"verification failed for {digest}: {why}")
        return
    rl = load_revocations(revocations)
    wanted = _annotations(annotation)
    tsa_trust = None
    if tsa_cert_chain is not None:
        from lockgate.trust.timestamp import TsaTrust

        tsa_trust = TsaTrust.from_pem_file(tsa_cert_chain)
    cert_trust = None
    if ca_roots is not None:
        from lockgate.trust.x509chain import CertTrust

        cert_trust = CertTrust.from_files(ca_roots, crl)
    elif crl:
        raise ConfigError("--crl needs --ca-roots")
    if policy is not None:
        from lockgate.trust.policy import evaluate_image

        decision, result = evaluate_image(
            image, policy, revocations=rl, options=opts, limits=settings(ctx).limits, annotations=wanted,
            extra_keys=[load_verifier(k) for k in key or []], tsa=tsa_trust,
        )  # fmt: skip
        doc = {"allowed": decision.allowed, "scope": decision.scope, "reasons": list(decision.reasons)}
        if result is not None:
            doc |= result.to_dict()
        if fmt == Format.JSON:
            write_json(doc, output)
        else:
            write_output("".join(f"{line}\n" for line in decision.reasons), output)
        if not decision.allowed:
            last = decision.reasons[-1] if decision.reasons else "denied"
            first_rejection = next((r for r in decision.reasons if " rejected: " in r), "")
            detail = f" ({first_rejection})" if first_rejection else ""
            raise PolicyFailure(f"verification failed: {last}{detail}")
        return
    if not key and cert_trust is None:
        raise ConfigError("verify needs --key, --ca-roots, --policy or --trusted-root")
    keys = [load_verifier(k) for k in key or []]
    result = verify_image(
        image, keys, annotations=wanted, identity=identity, revocations=rl,
        options=opts, limits=settings(ctx).limits, tsa=tsa_trust, cert_trust=cert_trust,
    )  # fmt: skip
    verified = result.verified_keys
    if fmt == Format.JSON:
        write_json(result.to_dict() | {"threshold": threshold}, output)
    else:
        lines = [
            f"{'OK  ' if c.ok else 'FAIL'} {c.source:<8} {c.key_id[:16] or '-':<16} {c.reason or 'verified'}\n"
            for c in result.checks
        ]
        lines += [f"verified by key {kid}\n" for kid in verified]
        write_output("".join(lines), output)
    if len(verified) < threshold:
        if not result.checks:
            why = f"no signatures found for {result.digest}"
        elif verified:
            why = f"{len(verified)} of {threshold} required keys verified"
        else:
            why = next((c.reason for c in result.checks if c.key_id), result.checks[0].reason)
        raise PolicyFailure(f"verification failed for {result.digest}: {why}")


def register(app: typer.Typer) -> None:
    """Attach the trust commands to the root app."""
    app.add_typer(key_app, name="key")
    app.command("sign")(sign_cmd)
    app.command("verify")(verify_cmd)
    app.command("sign-blob")(sign_blob_cmd)
    app.command("verify-blob")(verify_blob_cmd)
