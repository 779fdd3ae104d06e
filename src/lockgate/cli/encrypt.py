"""``lockgate encrypt``, ``decrypt`` and ``keyprovider``: ocicrypt-compatible layer encryption.

``encrypt``/``decrypt`` print their result as JSON by default (``-f table``: the manifest digest
alone), to stdout or ``-o FILE``; a one-line note goes to stderr unless ``-q``.
Only Typer and the standard library load at import time; the crypto and OCI code loads inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lockgate.cli._common import OUTPUT_OPTION, Format, check_format, check_output, settings, write_json, write_output
from lockgate.cli._registry_opts import (
    CACert,
    ClientCert,
    ClientKey,
    Insecure,
    PasswordStdin,
    Username,
    registry_options,
)


def _dst_opener(dst_text: str, options: object, limits: object) -> object:
    from lockgate.oci.targets import open_destination

    return lambda: open_destination(dst_text, options, limits=limits)  # type: ignore[arg-type]


# JSON stays the default: it is what these commands printed before -f existed, and scripts parse it.
FORMAT_OPTION = typer.Option(
    Format.JSON, "--format", "-f", help="Output format: json (document) or table (digest only).", case_sensitive=False
)
_FORMATS = {Format.TABLE, Format.JSON}


def _report(op: str, src: str, dst: str, digest: str, fmt: Format, output: Path | None, quiet: bool) -> None:
    """The result to stdout or ``output``; the human note to stderr unless ``quiet``."""
    if fmt is Format.JSON:
        write_json({"operation": op, "source": src, "destination": dst, "digest": digest}, output)
    else:
        write_output(f"{digest}\n", output)
    if not quiet:
        typer.echo(f"{op}ed {src} -> {dst}", err=True)


def encrypt(
    ctx: typer.Context,
    src: str = typer.Argument(..., metavar="SRC", help="Source image (oci:, oci-archive:, docker-archive:, ref)."),
    dst: str = typer.Argument(..., metavar="DST", help="Destination (oci:DIR[:TAG], oci-archive:FILE, ref)."),
    recipient: list[str] = typer.Option(
        [], "--recipient", "-r", help="jwe:PUB.pem | pkcs7:CERT.pem | pgp:KEYID | pkcs11:URI | provider:NAME[:ARG]."
    ),
    layer: list[int] = typer.Option([], "--layer", help="Encrypt only layer N (0-based, negative from the end)."),
    platform: str | None = typer.Option(None, "--platform", help="os/arch[/variant] to pick from an index."),
    add_recipient: list[str] = typer.Option([], "--add-recipient", help="Add a recipient to an encrypted image."),
    remove_recipient: list[str] = typer.Option(
        [],
        "--remove-recipient",
        help="Remove a recipient: jwe:PUB/PRIV.pem | pkcs7:CERT.pem | pgp:KEYID/UID | pkcs11:URI.",
    ),
    key: list[str] = typer.Option([], "--key", help="Current private key (needed with --add-recipient)."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Encrypt image layers for recipients, or add/remove recipients of an encrypted image (no re-encryption)."""
    check_format(fmt, _FORMATS, "encrypt")
    check_output(output)
    from lockgate.encryption.image import encrypt_image, rewrap_image
    from lockgate.encryption.keys import parse_key, parse_recipient
    from lockgate.errors import ConfigError
    from lockgate.oci.model import Platform
    from lockgate.oci.targets import open_source, parse_target

    s = settings(ctx)
    plat = Platform.parse(platform) if platform else None
    options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    parse_target(dst)
    rewrap = bool(add_recipient or remove_recipient)
    if rewrap and (recipient or layer):
        raise ConfigError("--add-recipient/--remove-recipient change an encrypted image; drop --recipient/--layer")
    if not rewrap and not recipient:
        raise ConfigError("give at least one --recipient")
    if add_recipient and not key:
        raise ConfigError("--add-recipient needs --key with a current private key to unwrap the layer keys")
    opener = _dst_opener(dst, options, s.limits)
    source = open_source(src, options, limits=s.limits)
    if rewrap:
        digest = rewrap_image(
            source,
            opener,  # type: ignore[arg-type]
            [parse_key(k) for k in key],
            add=[parse_recipient(r) for r in add_recipient],
            remove=[parse_recipient(r) for r in remove_recipient],
            platform=plat,
            cache_dir=s.cache_dir,
            limits=s.limits,
        )
    else:
        digest = encrypt_image(
            source,
            opener,  # type: ignore[arg-type]
            [parse_recipient(r) for r in recipient],
            layers=layer or None,
            platform=plat,
            cache_dir=s.cache_dir,
            limits=s.limits,
        )
    _report("encrypt", src, dst, digest, fmt, output, s.quiet)


def decrypt(
    ctx: typer.Context,
    src: str = typer.Argument(..., metavar="SRC", help="Encrypted source image."),
    dst: str = typer.Argument(..., metavar="DST", help="Destination (any transport)."),
    key: list[str] = typer.Option(
        [],
        "--key",
        "-k",
        help="PRIV.pem[:password] | pkcs11:URI | provider:NAME[:ARG] | pgp[:SECRET.gpg] | pkcs7:CERT:PRIV.",
    ),
    platform: str | None = typer.Option(None, "--platform", help="os/arch[/variant] to pick from an index."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Decrypt image layers; each is verified (HMAC, digest) before anything is written."""
    check_format(fmt, _FORMATS, "decrypt")
    check_output(output)
    from lockgate.encryption.image import decrypt_image
    from lockgate.encryption.keys import parse_key
    from lockgate.errors import ConfigError
    from lockgate.oci.model import Platform
    from lockgate.oci.targets import open_source, parse_target

    s = settings(ctx)
    if not key:
        raise ConfigError("give at least one --key")
    keys = [parse_key(k) for k in key]
    plat = Platform.parse(platform) if platform else None
    options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    parse_target(dst)
    source = open_source(src, options, limits=s.limits)
    opener = _dst_opener(dst, options, s.limits)
    digest = decrypt_image(source, opener, keys, platform=plat, cache_dir=s.cache_dir, limits=s.limits)  # type: ignore[arg-type]
    _report("decrypt", src, dst, digest, fmt, output, s.quiet)


def keyprovider(
    config: Path = typer.Option(
        ..., "--provider-config", help="Provider config (kek_file, verifier_key, nonce_dir, issuer, claims)."
    ),
    issue_nonce: bool = typer.Option(
        False, "--issue-nonce", help="Print a fresh nonce (bound to the first evidence naming it) and exit."
    ),
) -> None:
    """Reference ocicrypt key provider: protocol JSON on stdin/stdout; keys released only against evidence.

    Register it for ocicrypt (skopeo, containerd) or lockgate in $OCICRYPT_KEYPROVIDER_CONFIG as
    {"key-providers": {"NAME": {"cmd": {"path": "lockgate", "args": ["keyprovider", "--provider-config", FILE]}}}}.
    Decrypting parties pass a JWT or DSSE envelope signed by the configured verifier over a nonce from
    --issue-nonce: --key provider:NAME:EVIDENCE_FILE.
    """
    from lockgate.encryption.keyprovider import ProviderConfig, serve
    from lockgate.encryption.keyprovider import issue_nonce as new_nonce

    cfg = ProviderConfig.load(config)
    if issue_nonce:
        typer.echo(new_nonce(cfg))
        return
    out = serve(cfg, sys.stdin.buffer.read(1 << 20))
    sys.stdout.buffer.write(out)
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Attach ``encrypt``, ``decrypt`` and ``keyprovider`` to the root app."""
    app.command("encrypt")(encrypt)
    app.command("decrypt")(decrypt)
    app.command("keyprovider")(keyprovider)
