"""``lockgate rules list`` (the misconfiguration rule catalogue) and ``lockgate config fix`` (hardened manifests)."""

from __future__ import annotations

from pathlib import Path

import typer

from lockgate.cli._common import FORMAT_OPTION, OUTPUT_OPTION, Format, check_format, write_output

rules_app = typer.Typer(help="Misconfiguration rules: list the catalogue.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration files: propose hardened manifests.", no_args_is_help=True)


@rules_app.command("list")
def rules_list(
    fmt: Format = FORMAT_OPTION,
    family: str | None = typer.Option(
        None, "--family", help="Only this family: pss, kubernetes, rbac, dockerfile, terraform, image."
    ),
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Print every misconfiguration rule with id, severity and title (JSON: full metadata)."""
    import json

    from lockgate.errors import ConfigError
    from lockgate.misconfig.model import FAMILIES
    from lockgate.misconfig.rules import all_rules

    check_format(fmt, {Format.TABLE, Format.JSON}, "rules list")
    if family is not None and family not in FAMILIES:
        raise ConfigError(f"unknown rule family {family!r} (use one of: {', '.join(FAMILIES)})")
    rules = [r for r in all_rules().values() if family is None or r.family == family]
    if fmt is Format.JSON:
        write_output(json.dumps([r.to_dict() for r in rules], indent=2), output)
        return
    w = max(len(r.id) for r in rules) if rules else 2
    lines = [f"{'ID':<{w}}  {'SEVERITY':<8}  {'FAMILY':<10}  TITLE"]
    lines += [f"{r.id:<{w}}  {r.severity.name:<8}  {r.family:<10}  {r.title}" for r in rules]
    write_output("\n".join(lines), output)


@config_app.command("fix")
def config_fix(
    file: Path = typer.Argument(..., help="Kubernetes manifest to harden (YAML; '-' for stdin)."),
    output: Path | None = OUTPUT_OPTION,
    in_place: bool = typer.Option(False, "--in-place", help="Rewrite FILE itself."),
    patch: bool = typer.Option(False, "--patch", help="Print a unified diff instead of the manifest."),
) -> None:
    """Write a hardened manifest: security context, resource placeholders, token automount off, ..."""
    import difflib
    import sys

    from lockgate.errors import ConfigError
    from lockgate.misconfig.fix import fix_manifest

    if in_place and (output is not None or str(file) == "-"):
        raise ConfigError("--in-place cannot be combined with --output or stdin")
    if str(file) == "-":
        text = sys.stdin.read()
    else:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{file}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{file}: cannot read: {e}") from None
    fixed = fix_manifest(text, str(file))
    if patch:
        diff = difflib.unified_diff(
            text.splitlines(keepends=True),
            fixed.splitlines(keepends=True),
            f"a/{str(file).lstrip('/')}",
            f"b/{str(file).lstrip('/')}",
        )
        write_output("".join(diff), output)
        return
    write_output(fixed, file if in_place else output)
