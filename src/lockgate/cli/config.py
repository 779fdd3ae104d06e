"""``lockgate rules list`` (the misconfiguration rule catalogue) and ``lockgate config fix`` (hardened manifests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lockgate.cli._common import FORMAT_OPTION, OUTPUT_OPTION, Format, check_format, write_output

rules_app = typer.Typer(help="Rules of every scanner: list the catalogue.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration files: propose hardened manifests.", no_args_is_help=True)


@rules_app.command("list")
def rules_list(
    fmt: Format = FORMAT_OPTION,
    family: str | None = typer.Option(
        None,
        "--family",
        help="Only this family: pss, kubernetes, rbac, dockerfile, terraform, image (misconfiguration), "
        "secret or malware.",
    ),
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Print every rule (misconfiguration, secret, malware) with id, severity and title (JSON: full metadata).

    The ids are what exceptions, ``secrets.disable_rules`` and findings use.
    """
    import json

    from lockgate.errors import ConfigError
    from lockgate.misconfig.model import FAMILIES

    check_format(fmt, {Format.TABLE, Format.JSON}, "rules list")
    families = (*FAMILIES, "secret", "malware")
    if family is not None and family not in families:
        raise ConfigError(f"unknown rule family {family!r} (use one of: {', '.join(families)})")
    rules = [r for r in _catalogue(family) if family is None or r["family"] == family]
    if fmt is Format.JSON:
        write_output(json.dumps(rules, indent=2), output)
        return
    w = max(len(r["id"]) for r in rules) if rules else 2
    lines = [f"{'ID':<{w}}  {'SEVERITY':<8}  {'FAMILY':<10}  TITLE"]
    lines += [f"{r['id']:<{w}}  {r['severity']:<8}  {r['family']:<10}  {r['title']}" for r in rules]
    write_output("\n".join(lines), output)


def _catalogue(family: str | None) -> list[dict[str, Any]]:
    """Rule metadata of the scanners ``family`` selects (all when None), misconfiguration first."""
    out: list[dict[str, Any]] = []
    if family not in ("secret", "malware"):
        from lockgate.misconfig.rules import all_rules

        out += [r.to_dict() for r in all_rules().values()]
    if family in (None, "secret"):
        from lockgate.detect.secrets.keyfiles import KEY_CHECKS
        from lockgate.detect.secrets.rules import BUILTIN_RULES

        seen: set[str] = set()
        for rule in BUILTIN_RULES:
            seen.add(rule.id)
            out.append(
                {
                    "id": rule.id,
                    "title": rule.title,
                    "severity": rule.severity.name,
                    "family": "secret",
                    "description": f"{rule.title} ({rule.category}), found by pattern and keywords in text files.",
                }
            )
        for check in KEY_CHECKS:
            if check.id not in seen:
                out.append(
                    {
                        "id": check.id,
                        "title": check.title,
                        "severity": check.severity.name,
                        "family": "secret",
                        "description": f"{check.title}, recognised by its binary structure.",
                    }
                )
    if family in (None, "malware"):
        from lockgate.detect.malware.yararules import load_rules

        out += load_rules(()).catalogue()
    return out


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
