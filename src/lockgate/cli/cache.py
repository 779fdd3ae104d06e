"""``lockgate cache``: inspect and empty the local cache."""

from __future__ import annotations

import shutil

import typer

from lockgate.cli._common import settings

app = typer.Typer(help="Manage the local cache (layer analysis results).", no_args_is_help=True)


@app.command("clean")
def clean(ctx: typer.Context) -> None:
    """Delete cached layer analysis results (the advisory DB is kept)."""
    s = settings(ctx)
    target = s.layer_cache_dir
    if target.exists():
        shutil.rmtree(target)
    if not s.quiet:
        typer.echo(f"removed {target}", err=True)
