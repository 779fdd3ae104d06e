"""``lockgate image``: ``inspect`` an image and ``copy`` it between transports.

Only Typer and the standard library load at import time; the OCI code loads inside the commands.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lockgate.cli._common import FORMAT_OPTION, OUTPUT_OPTION, Format, check_format, is_tty, settings, write_output
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
    from lockgate.oci.copy import ProgressFn
    from lockgate.oci.image import Image
    from lockgate.oci.model import Platform
    from lockgate.oci.targets import Target

app = typer.Typer(
    help="Inspect images and copy them between registries, OCI layouts and archives.", no_args_is_help=True
)

PLATFORM_OPTION = typer.Option(
    None, "--platform", help="os/arch[/variant] to pick from an index (default linux/amd64)."
)


def _target(text: str, what: str) -> Target:
    """Parse a target; a malformed one is a usage error (exit 2)."""
    from lockgate.errors import ConfigError, InputError
    from lockgate.oci.targets import parse_target

    try:
        return parse_target(text)
    except InputError as e:
        raise ConfigError(f"{what}: {e}") from None


def _platform(text: str | None) -> Platform | None:
    from lockgate.errors import ConfigError, InputError
    from lockgate.oci.model import Platform

    if text is None:
        return None
    try:
        return Platform.parse(text)
    except InputError as e:
        raise ConfigError(str(e)) from None


def _describe(image: Image, top_raw: bytes, top_type: str) -> dict[str, Any]:
    """The JSON document ``image inspect`` prints."""
    from lockgate.oci.model import INDEX_TYPES, sha256_digest

    m, c = image.manifest, image.config
    diff_ids: tuple[str | None, ...] = c.diff_ids or (None,) * len(m.layers)
    doc: dict[str, Any] = {
        "reference": image.source.reference,
        "digest": sha256_digest(top_raw),
        "media_type": top_type,
        "synthetic_manifest": bool(getattr(image.source, "manifest_is_synthetic", False)),
        "platforms": [],
        "manifest": {"digest": m.digest, "media_type": m.media_type, "size": len(m.raw)},
        "config": {
            "digest": m.config.digest,
            "media_type": m.config.media_type,
            "size": m.config.size,
            "os": c.os,
            "architecture": c.architecture,
            "variant": c.variant,
            "created": c.created,
            "user": c.user,
            "env": list(c.env),
            "entrypoint": list(c.entrypoint),
            "cmd": list(c.cmd),
            "working_dir": c.working_dir,
            "exposed_ports": list(c.exposed_ports),
            "labels": dict(c.labels),
            "history_count": len(c.history),
        },
        "layers": [
            {"digest": d.digest, "size": d.size, "media_type": d.media_type, "diff_id": diff}
            for d, diff in zip(m.layers, diff_ids, strict=False)
        ],
    }
    if top_type in INDEX_TYPES and image.index is not None:
        doc["platforms"] = [
            {
                "platform": str(d.platform) if d.platform else None,
                "digest": d.digest,
                "media_type": d.media_type,
                "size": d.size,
            }
            for d in image.index.manifests
        ]
    return doc


def _table(doc: dict[str, Any]) -> str:
    c = doc["config"]
    plat = "/".join(p for p in (c["os"], c["architecture"], c["variant"]) if p)
    rows = [
        ("Reference", doc["reference"]),
        (
            "Digest",
            doc["digest"] + (" (synthesised: docker-archive has no manifest)" if doc["synthetic_manifest"] else ""),
        ),
        ("Media type", doc["media_type"]),
    ]
    if doc["platforms"]:
        rows.append(("Manifest", f"{doc['manifest']['digest']} ({doc['manifest']['media_type']})"))
    rows += [
        ("Config", c["digest"]),
        ("Platform", plat or "-"),
        ("Created", c["created"] or "-"),
        ("User", c["user"] or "-"),
        ("Entrypoint", json.dumps(c["entrypoint"]) if c["entrypoint"] else "-"),
        ("Cmd", json.dumps(c["cmd"]) if c["cmd"] else "-"),
        ("Working dir", c["working_dir"] or "-"),
        ("History", str(c["history_count"])),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k + ':':<{width + 1}} {v}" for k, v in rows]
    for title, items in (("Env", c["env"]), ("Labels", [f"{k}={v}" for k, v in c["labels"].items()])):
        if items:
            lines.append(f"{title}:")
            lines += [f"  {x}" for x in items]
    if doc["platforms"]:
        lines.append("Platforms:")
        lines += [f"  {p['platform'] or '-':<20} {p['digest']}" for p in doc["platforms"]]
    lines.append(f"Layers ({len(doc['layers'])}):")
    for layer in doc["layers"]:
        lines.append(f"  {layer['digest']}  {layer['size']:>12}  {layer['media_type']}")
        if layer["diff_id"] and layer["diff_id"] != layer["digest"]:
            lines.append(f"    diff_id {layer['diff_id']}")
    return "\n".join(lines) + "\n"


@app.command("inspect")
def inspect(
    ctx: typer.Context,
    ref: str = typer.Argument(
        ..., metavar="REF", help="Image: registry reference, oci:, oci-archive:, docker-archive:."
    ),
    platform: str | None = PLATFORM_OPTION,
    raw: bool = typer.Option(False, "--raw", help="Print the manifest or index bytes as stored."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Show an image's manifest, platforms, config summary and layers."""
    from lockgate.oci.copy import open_image, select_manifest
    from lockgate.oci.image import opened
    from lockgate.oci.model import Platform
    from lockgate.oci.targets import open_source

    check_format(fmt, {Format.TABLE, Format.JSON}, "image inspect")
    limits = settings(ctx).limits
    target = _target(ref, "REF")
    plat = _platform(platform)
    options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    with opened(open_source(target, options, limits=limits)) as source:
        top_raw, top_type = source.resolve()
        if raw:
            if plat is not None:
                top_raw = select_manifest(source, top_raw, top_type, plat, limits).raw
            if output is None or str(output) == "-":
                import sys

                sys.stdout.buffer.write(top_raw)  # exact bytes, no newline added: digests must match
                sys.stdout.flush()
            else:
                write_output(top_raw, output)
            return
        image = open_image(source, plat, limits)
        from lockgate.oci.model import sniff_media_type

        doc = _describe(image, top_raw, sniff_media_type(top_raw, top_type))
        if image.index is not None:
            doc["platform"] = str(plat or Platform())
    text = json.dumps(doc, indent=2) + "\n" if fmt is Format.JSON else _table(doc)
    write_output(text, output)


def _progress_bar(total: int) -> tuple[ProgressFn, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("copying", total=total or None)

    def advance(_desc: Any, n: int) -> None:
        bar.advance(task, n)

    return advance, bar


@app.command("copy")
def copy(
    ctx: typer.Context,
    src: str = typer.Argument(..., metavar="SRC", help="Source image."),
    dst: str = typer.Argument(
        ..., metavar="DST", help="Destination (oci:DIR[:TAG], oci-archive:, docker-archive:, ref)."
    ),
    all_platforms: bool = typer.Option(False, "--all-platforms", help="Copy the whole index, every platform."),
    platform: str | None = PLATFORM_OPTION,
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Copy an image between any two transports, keeping manifest digests where the format stores them."""
    from lockgate.errors import ConfigError
    from lockgate.oci.copy import copy_image, total_bytes
    from lockgate.oci.image import opened
    from lockgate.oci.targets import open_destination, open_source

    check_format(fmt, {Format.TABLE, Format.JSON}, "image copy")
    s = settings(ctx)
    src_t, dst_t = _target(src, "SRC"), _target(dst, "DST")
    plat = _platform(platform)
    if all_platforms and plat is not None:
        raise ConfigError("--all-platforms and --platform exclude each other")
    options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    with opened(open_source(src_t, options, limits=s.limits)) as source:
        progress: ProgressFn | None = None
        bar: Any = None
        if is_tty() and not s.quiet and fmt is Format.TABLE:
            total = 0 if all_platforms else total_bytes(source, platform=plat, limits=s.limits)
            progress, bar = _progress_bar(total)
        destination = open_destination(dst_t, options, limits=s.limits)
        try:
            with bar if bar is not None else contextlib.nullcontext():
                digest = copy_image(
                    source,
                    destination,
                    platform=plat,
                    all_platforms=all_platforms,
                    progress=progress,
                    limits=s.limits,
                    jobs=3,
                )
        finally:
            destination.close()
    if fmt is Format.JSON:
        write_output(json.dumps({"source": src, "destination": dst, "digest": digest}, indent=2) + "\n", output)
    else:
        write_output(f"{digest}\n", output)
        if not s.quiet:
            typer.echo(f"copied {src} -> {dst}", err=True)


@app.command("unpack")
def unpack(
    ctx: typer.Context,
    ref: str = typer.Argument(..., metavar="REF", help="Image to unpack."),
    dest: Path = typer.Argument(..., metavar="DIR", help="Empty or new directory to write the file system into."),
    platform: str | None = PLATFORM_OPTION,
    keep_special_bits: bool = typer.Option(False, "--keep-special-bits", help="Keep setuid/setgid bits."),
    allow_incomplete: bool = typer.Option(
        False, "--allow-incomplete", help="Exit 0 even when some entries could not be written safely."
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
    """Write an image's merged file system (whiteouts applied) into DIR, safely: nothing outside DIR."""
    from lockgate.fs.flatten import flatten
    from lockgate.oci.copy import open_image
    from lockgate.oci.image import opened
    from lockgate.oci.targets import open_source

    check_format(fmt, {Format.TABLE, Format.JSON}, "image unpack")
    s = settings(ctx)
    options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    with opened(open_source(_target(ref, "REF"), options, limits=s.limits)) as source:
        image = open_image(source, _platform(platform), s.limits)
        result = flatten(image, dest, settings=s, keep_special_bits=keep_special_bits)
    doc = {
        "image": ref,
        "digest": image.digest,
        "directory": str(dest),
        "files": result.files,
        "dirs": result.dirs,
        "symlinks": result.symlinks,
        "hardlinks": result.hardlinks,
        "layers": list(result.layers),
        "gaps": [g.to_dict() for g in result.gaps],
    }
    if fmt is Format.JSON:
        write_output(json.dumps(doc, indent=2) + "\n", output)
    else:
        text = (
            f"{dest}: {result.files} files, {result.dirs} directories, {result.symlinks} symlinks, "
            f"{result.hardlinks} hard links from {len(result.layers)} layers\n"
        )
        text += "".join(f"skipped {g.where}: {g.reason}\n" for g in result.gaps)
        write_output(text, output)
    if result.gaps and not allow_incomplete:
        raise typer.Exit(1)
