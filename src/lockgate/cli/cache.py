"""``lockgate cache``: show (``info``) and empty (``clean``) the local cache.

``info`` only reads: it never creates the cache directory and opens the layer database read-only,
so it is safe to run while scans use the cache.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import typer

from lockgate.cli._common import FORMAT_OPTION, OUTPUT_OPTION, Format, check_format, settings, write_json, write_output

app = typer.Typer(help="Manage the local cache (layer analysis results, advisory DB).", no_args_is_help=True)

LAYER_DB = "layers.sqlite"
"""The layer cache's database file name (see ``lockgate.fs.cache``)."""


def _tree_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``; symlinks are not followed, unreadable parts are skipped."""
    if not path.exists():
        return 0, 0
    if not path.is_dir():
        return path.lstat().st_size, 1
    total = files = 0
    for root, _dirs, names in os.walk(path, onerror=lambda _e: None):
        for name in names:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
            files += 1
    return total, files


def _layer_counts(directory: Path) -> tuple[int | None, int | None, str | None]:
    """(cached layers, cached analyser results, error) from the layer database, opened read-only."""
    import sqlite3

    db = directory / LAYER_DB
    if not db.is_file():
        return 0, 0, None
    # With no write-ahead log on disk the file is complete and "immutable" opens it without creating
    # -wal/-shm files; with one, a read-only open sees the log (those files exist already).
    wal = db.with_name(db.name + "-wal").exists()
    mode = "mode=ro" if wal else "immutable=1"
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?{mode}", uri=True, timeout=5)
        try:
            layers = conn.execute("SELECT COUNT(*) FROM layers").fetchone()[0]
            results = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as e:
        return None, None, f"unreadable layer database: {e}"
    return int(layers), int(results), None


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


@app.command("info")
def info(ctx: typer.Context, fmt: Format = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION) -> None:
    """Show where the cache is, its size, and how many layers and results it holds."""
    check_format(fmt, {Format.TABLE, Format.JSON}, "cache info")
    s = settings(ctx)
    size, files = _tree_size(s.cache_dir)
    layer_size, _ = _tree_size(s.layer_cache_dir)
    layers, results, error = _layer_counts(s.layer_cache_dir)
    db_size, _ = _tree_size(s.db_path)
    doc: dict[str, Any] = {
        "path": str(s.cache_dir),
        "exists": s.cache_dir.is_dir(),
        "size": size,
        "files": files,
        "entries": layers,
        "layers": {"path": str(s.layer_cache_dir), "size": layer_size, "layers": layers, "results": results},
        "db": {"path": str(s.db_path), "exists": s.db_path.is_file(), "size": db_size},
    }
    if error:
        doc["layers"]["error"] = error
    if fmt is Format.JSON:
        write_json(doc, output)
        return
    rows = [
        ("Path", doc["path"] + ("" if doc["exists"] else " (not created yet)")),
        ("Size", f"{_human(size)} in {files} file{'' if files == 1 else 's'}"),
        ("Layer cache", f"{s.layer_cache_dir} ({_human(layer_size)})"),
        ("Cached layers", error or f"{layers} ({results} analyser results)"),
        ("Advisory DB", f"{s.db_path} ({_human(db_size)})" if doc["db"]["exists"] else f"{s.db_path} (none)"),
    ]
    width = max(len(k) for k, _ in rows)
    write_output("".join(f"{k + ':':<{width + 1}} {v}\n" for k, v in rows), output)


@app.command("clean")
def clean(ctx: typer.Context, fmt: Format = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION) -> None:
    """Delete cached layer analysis results (the advisory DB is kept)."""
    check_format(fmt, {Format.TABLE, Format.JSON}, "cache clean")
    s = settings(ctx)
    target = s.layer_cache_dir
    freed, files = _tree_size(target)
    if target.exists():
        shutil.rmtree(target)
    if fmt is Format.JSON:
        write_json({"removed": str(target), "size": freed, "files": files}, output)
    elif output is not None:
        write_output(f"removed {target} ({_human(freed)})\n", output)
    if not s.quiet:
        typer.echo(f"removed {target}", err=True)
