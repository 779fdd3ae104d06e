"""``lockgate db``: import offline advisory feeds, update from OSV, show the database status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lockgate.cli._common import FORMAT_OPTION, Format, check_format, settings, write_output
from lockgate.cli._registry_opts import (
    CACert,
    ClientCert,
    ClientKey,
    Insecure,
    PasswordStdin,
    Username,
    registry_options,
)

app = typer.Typer(help="Manage the local advisory database.", no_args_is_help=True)

DB_OPTION = typer.Option(
    None, "--db", envvar="LOCKGATE_DB", help="Advisory database file (default: <cache-dir>/db/lockgate.db)."
)


def _db_path(ctx: typer.Context, db: Path | None) -> Path:
    return db if db is not None else settings(ctx).db_path


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        None, help="OSV dir/zip/file, Alpine secdb, Debian DSA/DLA list or tracker JSON, NVD JSON."
    ),
    replace: bool = typer.Option(False, "--replace", help="Build a new database from PATHs only."),
    oci: str | None = typer.Option(
        None, "--oci", metavar="REF", help="Instead of PATHs: pull a database pushed with `db export REF`."
    ),
    db: Path | None = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Import advisory feeds (format detected per path); invalid records are listed and skipped."""
    check_format(fmt, {Format.TABLE, Format.JSON}, "db import")
    from lockgate.errors import ConfigError

    s = settings(ctx)
    target = _db_path(ctx, db)
    if oci is not None:
        if paths:
            raise ConfigError("give either PATHs or --oci REF, not both")
        from lockgate.oci.reference import Reference
        from lockgate.vulndb.feeds.oci_artifact import pull_db

        options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
        digest = pull_db(Reference.parse(oci), target, options)
        typer.echo(f"database {target} replaced from {oci}@{digest}")
        return
    if not paths:
        raise ConfigError("db import needs at least one PATH (or --oci REF)")
    from lockgate.vulndb.feeds.importer import import_paths

    summary = import_paths(target, list(paths), replace=replace, limits=s.limits)
    if fmt is Format.JSON:
        import json

        doc = {
            "db": str(target),
            "records": summary.records,
            "feeds": [
                {
                    "location": f.location,
                    "kinds": list(f.kinds),
                    "records": f.records,
                    "invalid": [{"where": i.where, "reason": i.reason} for i in f.issues],
                }
                for f in summary.feeds
            ],
        }
        write_output(json.dumps(doc, indent=2), None)
        return
    for f in summary.feeds:
        for issue in f.issues:
            if not s.quiet:
                typer.echo(f"skipped: {issue}", err=True)
    for f in summary.feeds:
        kinds = ",".join(f.kinds) or "nothing recognised"
        typer.echo(f"{f.location}: {f.records} records ({kinds}), {len(f.issues)} skipped")
    typer.echo(f"database {target}: {summary.records} records imported")


@app.command("update")
def update(
    ctx: typer.Context,
    source: str = typer.Option(
        "https://osv-vulnerabilities.storage.googleapis.com",
        "--source",
        envvar="LOCKGATE_DB_SOURCE",
        help="Base URL serving <ecosystem>/all.zip (OSV's bucket layout).",
    ),
    ecosystems: list[str] = typer.Option(
        [],
        "--ecosystem",
        "-e",
        help="Ecosystem to fetch (repeatable; default: those fetched before, or a standard set).",
    ),
    db: Path | None = DB_OPTION,
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per HTTP read."),
) -> None:
    """Download OSV archives (conditional, resumable) and swap in the rebuilt database."""
    from lockgate.vulndb.feeds.osv_update import update as do_update

    s = settings(ctx)
    target = _db_path(ctx, db)
    results = do_update(target, source=source, ecosystems=ecosystems or None, limits=s.limits, timeout=timeout)
    for r in results:
        if r.status == "not-modified":
            typer.echo(f"{r.ecosystem}: not modified")
        else:
            extra = " (resumed)" if r.resumed else ""
            typer.echo(
                f"{r.ecosystem}: {r.records} records, {len(r.issues)} skipped, {r.downloaded_bytes} bytes{extra}"
            )
            for issue in r.issues:
                if not s.quiet:
                    typer.echo(f"skipped: {issue}", err=True)
    typer.echo(f"database {target} updated")


@app.command("export")
def export(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Registry reference to push the database to (repo:tag)."),
    db: Path | None = DB_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Push the built database as an OCI artifact (pull it elsewhere with `db import --oci REF`)."""
    from lockgate.oci.reference import Reference
    from lockgate.vulndb.feeds.oci_artifact import export_db

    options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    digest = export_db(_db_path(ctx, db), Reference.parse(ref), options)
    typer.echo(f"{Reference.parse(ref).name}@{digest}")


@app.command("status")
def status(ctx: typer.Context, db: Path | None = DB_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Show sources, record counts per ecosystem, build time and age (warns past 24 hours)."""
    check_format(fmt, {Format.TABLE, Format.JSON}, "db status")
    import datetime as dt

    from lockgate.vulndb.store import WARN_AGE, Store, database_age, format_age

    target = _db_path(ctx, db)
    with Store(target) as store:
        age = database_age(store)
        doc: dict[str, Any] = {
            "path": str(target),
            "schema_version": store.schema_version,
            "built_at": store.built_at.astimezone(dt.UTC).isoformat(),
            "age_seconds": int(age.total_seconds()),
            "stale": age > WARN_AGE,
            "advisories": store.advisory_count(),
            "nvd_records": store.nvd_count(),
            "ecosystems": store.counts_by_ecosystem(),
            "feeds": [
                {
                    "kind": f.kind,
                    "location": f.location,
                    "imported_at": f.imported_at,
                    "records": f.records,
                    "invalid": f.invalid,
                    **({"etag": f.etag} if f.etag else {}),
                    **({"last_modified": f.last_modified} if f.last_modified else {}),
                }
                for f in store.feeds()
            ],
        }
    if age > WARN_AGE:
        typer.echo(f"warning: advisory database is {format_age(age)} old; run `lockgate db update`", err=True)
    if fmt is Format.JSON:
        import json

        write_output(json.dumps(doc, indent=2), None)
        return
    lines = [
        f"path:        {doc['path']}",
        f"schema:      {doc['schema_version']}",
        f"built:       {doc['built_at']} ({format_age(age)} ago)",
        f"advisories:  {doc['advisories']}  (NVD records: {doc['nvd_records']})",
        "sources:",
        *(
            f"  {f['kind']:<22} {f['records']:>7} records  {f['invalid']:>4} invalid  {f['location']}"
            for f in doc["feeds"]
        ),
        "ecosystems:",
        *(f"  {eco:<22} {n:>7}" for eco, n in doc["ecosystems"].items()),
    ]
    write_output("\n".join(lines), None)
