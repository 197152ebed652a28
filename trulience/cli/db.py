"""`trulience db`: the catalog database (embedded Postgres unless DATABASE_URL is set)."""

import os
import shutil
from pathlib import Path

import click

from trulience.catalog import migrations
from trulience.catalog.database import check_server, connect, database_url, stop_embedded
from trulience.cli.common import Commands, actor, settings
from trulience.config import Settings, mask_url


@click.group(cls=Commands)
def db() -> None:
    """The catalog database (embedded Postgres unless DATABASE_URL is set)."""


@db.command("url")
@click.option("--reveal", is_flag=True, help="Show the password instead of ****.")
def db_url(reveal: bool) -> None:
    """Print the catalog's connection URL (starting the embedded server if needed)."""
    url = database_url(settings())
    click.echo(url if reveal else mask_url(url))


def ensure_catalog(chosen: Settings) -> tuple[str, str, list[str]]:
    """Start (if embedded) and migrate the catalog: its URL, server version, what applied."""
    url = database_url(chosen)
    version = check_server(url)
    with connect(url, actor=actor()) as conn:
        applied = migrations.migrate(conn)
    return url, version, applied


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations from sql/migrations (a no-op when up to date)."""
    url, version, applied = ensure_catalog(settings())
    click.echo(f"Postgres {version} at {mask_url(url)}")
    click.echo("applied: " + ", ".join(applied) if applied else "schema is up to date")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded Postgres (it otherwise keeps running for the daemon and apps)."""
    chosen = settings()
    if not chosen.embedded_database:
        raise click.ClickException("DATABASE_URL is set: that server is not ours to stop")
    stopped = stop_embedded(chosen.pg_dir)
    click.echo("stopped" if stopped else "was not running")


@db.command("status")
def db_status() -> None:
    """Show each migration's state: applied, pending, changed or unknown."""
    url = database_url(settings())
    with connect(url) as conn:
        for state in migrations.status(conn):
            when = state.applied_at.isoformat(timespec="seconds") if state.applied_at else ""
            click.echo(f"{state.state:<8} {state.name:<40} {when}")


@db.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def db_psql(args: tuple[str, ...]) -> None:
    """Open psql on the catalog (extra arguments go to psql)."""
    chosen = settings()
    url = database_url(chosen)
    psql = shutil.which("psql")
    if chosen.embedded_database or psql is None:
        import pgserver

        psql = str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql")
    os.execv(psql, [psql, url, *args])


COMMANDS = {"db": db}
