"""``lockgate db``: import offline advisory feeds, update from OSV, export/pull, show the database status.

Results (summaries, digests, status) go to stdout or ``-o FILE`` as a table or JSON; skipped
records and warnings go to stderr, and ``-q`` silences only those.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lockgate.cli._common import (
    FORMAT_OPTION,
    OUTPUT_OPTION,
    Format,
    check_format,
    check_output,
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
    from lockgate.config import Limits
    from lockgate.vulndb.feeds.importer import ImportSummary
    from lockgate.vulndb.osv.ingest import ImportIssue

app = typer.Typer(help="Manage the local advisory database.", no_args_is_help=True)

DB_OPTION = typer.Option(
    None, "--db", envvar="LOCKGATE_DB", help="Advisory database file (default: <cache-dir>/db/lockgate.db)."
)
_FORMATS = {Format.TABLE, Format.JSON}


def _db_path(ctx: typer.Context, db: Path | None) -> Path:
    return db if db is not None else settings(ctx).db_path


def _issues_json(issues: tuple[ImportIssue, ...]) -> list[dict[str, str]]:
    return [{"where": i.where, "reason": i.reason} for i in issues]


def _unusable(path: Path, issues: list[ImportIssue]) -> str:
    """The one-line reason why ``path`` held no advisory feed at all."""
    if not issues:
        return f"{path}: no advisory documents found"
    first = issues[0].reason.strip().splitlines()[0] if issues[0].reason.strip() else "unreadable"
    if len(issues) == 1 and Path(issues[0].where) == path:
        return f"{path}: not an advisory feed ({first})"
    return f"{path}: no advisory feed found ({len(issues)} documents skipped; first: {issues[0].where}: {first})"


def _import(target: Path, paths: list[Path], replace: bool, limits: Limits) -> ImportSummary:
    """``importer.import_paths``, except that a path holding no recognisable feed aborts the import.

    The check must happen inside the builder so that the database is left untouched; the
    importer has no such option, hence this loop over its public parts.
    """
    from lockgate.errors import InputError
    from lockgate.vulndb.feeds.importer import FeedSummary, ImportSummary, iter_records
    from lockgate.vulndb.store import StoreBuilder

    feeds = []
    with StoreBuilder(target, replace=replace) as builder:
        for p in paths:
            issues: list[ImportIssue] = []
            kinds: set[str] = set()
            location = str(Path(p).resolve())
            n = builder.add_feed(location, iter_records(Path(p), limits, issues, kinds))
            if not kinds:
                raise InputError(_unusable(Path(p), issues))
            builder.update_feed(location, kind=",".join(sorted(kinds)), invalid=len(issues))
            feeds.append(FeedSummary(location, tuple(sorted(kinds)), n, tuple(issues)))
    return ImportSummary(Path(target), tuple(feeds))


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
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Import advisory feeds (format detected per path); invalid records are listed and skipped.

    A PATH that holds no recognisable feed at all is an error and leaves the database unchanged.
    """
    check_format(fmt, _FORMATS, "db import")
    check_output(output)
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
        if fmt is Format.JSON:
            write_json({"db": str(target), "source": oci, "digest": digest}, output)
        else:
            write_output(f"database {target} replaced from {oci}@{digest}\n", output)
        return
    if not paths:
        raise ConfigError("db import needs at least one PATH (or --oci REF)")

    summary = _import(target, list(paths), replace, s.limits)
    if not s.quiet:
        for issue in summary.issues:
            typer.echo(f"skipped: {issue}", err=True)
    if fmt is Format.JSON:
        doc = {
            "db": str(target),
            "records": summary.records,
            "feeds": [
                {
                    "location": f.location,
                    "kinds": list(f.kinds),
                    "records": f.records,
                    "invalid": _issues_json(f.issues),
                }
                for f in summary.feeds
            ],
        }
        write_json(doc, output)
        return
    lines = [f"{f.location}: {f.records} records ({','.join(f.kinds)}), {len(f.issues)} skipped" for f in summary.feeds]
    lines.append(f"database {target}: {summary.records} records imported")
    write_output("\n".join(lines) + "\n", output)


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
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Download OSV archives (conditional, resumable) and swap in the rebuilt database."""
    check_format(fmt, _FORMATS, "db update")
    check_output(output)
    from lockgate.vulndb.feeds.osv_update import update as do_update

    s = settings(ctx)
    target = _db_path(ctx, db)
    results = do_update(target, source=source, ecosystems=ecosystems or None, limits=s.limits, timeout=timeout)
    if not s.quiet:
        for r in results:
            for issue in r.issues:
                typer.echo(f"skipped: {issue}", err=True)
    if fmt is Format.JSON:
        doc = {
            "db": str(target),
            "source": source,
            "ecosystems": [
                {
                    "ecosystem": r.ecosystem,
                    "url": r.url,
                    "status": r.status,
                    "records": r.records,
                    "downloaded_bytes": r.downloaded_bytes,
                    "resumed": r.resumed,
                    "invalid": _issues_json(r.issues),
                }
                for r in results
            ],
        }
        write_json(doc, output)
        return
    lines = []
    for r in results:
        if r.status == "not-modified":
            lines.append(f"{r.ecosystem}: not modified")
        else:
            extra = " (resumed)" if r.resumed else ""
            lines.append(
                f"{r.ecosystem}: {r.records} records, {len(r.issues)} skipped, {r.downloaded_bytes} bytes{extra}"
            )
    lines.append(f"database {target} updated")
    write_output("\n".join(lines) + "\n", output)


@app.command("export")
def export(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Registry reference to push the database to (repo:tag)."),
    db: Path | None = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    username: Username = None,
    password_stdin: PasswordStdin = False,
    ca_cert: CACert = None,
    client_cert: ClientCert = None,
    client_key: ClientKey = None,
    insecure: Insecure = False,
) -> None:
    """Push the built database as an OCI artifact (pull it elsewhere with `db import --oci REF`).

    Prints the pushed manifest as NAME@DIGEST (JSON: reference, digest, database path).
    """
    check_format(fmt, _FORMATS, "db export")
    check_output(output)
    from lockgate.oci.reference import Reference
    from lockgate.vulndb.feeds.oci_artifact import export_db

    parsed = Reference.parse(ref)
    target = _db_path(ctx, db)
    options = registry_options(username, password_stdin, ca_cert, client_cert, client_key, insecure)
    digest = export_db(target, parsed, options)
    if fmt is Format.JSON:
        write_json({"db": str(target), "reference": ref, "digest": digest}, output)
    else:
        write_output(f"{parsed.name}@{digest}\n", output)
    if not settings(ctx).quiet:
        typer.echo(f"exported {target} -> {ref}", err=True)


@app.command("status")
def status(
    ctx: typer.Context, db: Path | None = DB_OPTION, fmt: Format = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION
) -> None:
    """Show sources, record counts per ecosystem, build time and age (warns past 24 hours)."""
    check_format(fmt, _FORMATS, "db status")
    check_output(output)
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
            "cvss_scores_stored": store.has_cvss_scores,
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
        write_json(doc, output)
        return
    lines = [
        f"path:        {doc['path']}",
        f"schema:      {doc['schema_version']}",
        f"built:       {doc['built_at']} ({format_age(age)} ago)",
        f"advisories:  {doc['advisories']}  (NVD records: {doc['nvd_records']})",
        "cvss:        "
        + (
            "scores computed at import"
            if doc["cvss_scores_stored"]
            else "scored while matching (an older database: `lockgate db import`/`update` stores the scores)"
        ),
        "sources:",
        *(
            f"  {f['kind']:<22} {f['records']:>7} records  {f['invalid']:>4} invalid  {f['location']}"
            for f in doc["feeds"]
        ),
        "ecosystems:",
        *(f"  {eco:<22} {n:>7}" for eco, n in doc["ecosystems"].items()),
    ]
    write_output("\n".join(lines) + "\n", output)
