"""Where the catalog lives: the embedded pgserver by default, `DATABASE_URL` otherwise."""

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from trulience.config import Settings, mask_url
from trulience.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5


def embedded_server(pg_dir: Path, cleanup_mode: str | None = None):
    """Start (or reuse, if already running) the embedded Postgres in `pg_dir`.

    `cleanup_mode=None` leaves it running for other processes (the Dagster daemon, the
    apps); tests pass 'delete'.
    """
    pg_dir.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (CI, cron); /tmp is fine
            warnings.simplefilter("ignore")
            import pgserver  # imported here: only the embedded default needs it

            return pgserver.get_server(pg_dir, cleanup_mode=cleanup_mode)
    except Exception as exc:  # pgserver raises plain exceptions with its log inside
        raise DatabaseUnavailable(
            f"could not start the embedded Postgres in {pg_dir}: {exc}"
        ) from exc


def stop_embedded(pg_dir: Path) -> bool:
    """Stop the embedded Postgres in `pg_dir` if it runs; True if it was running."""
    if not (pg_dir / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs postgres so as root
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pg_dir, user=user)
    return True


def database_url(settings: Settings) -> str:
    """The catalog's connection URL, starting the embedded server when none is configured."""
    if settings.database_url:
        return settings.database_url
    return embedded_server(settings.pg_dir).get_uri()


def connect(url: str, actor: str | None = None, autocommit: bool = True) -> psycopg.Connection:
    """Open a catalog connection; `actor` is recorded in the audit log for its changes.

    Autocommit by default: each repository call then commits its own transaction.
    """
    try:
        conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot reach Postgres at {mask_url(url)}: {reason}") from exc
    if actor:
        set_actor(conn, actor)
    return conn


def set_actor(conn: psycopg.Connection, actor: str, local: bool = False) -> None:
    """Name who acts on this connection (or, with `local`, in the current transaction)."""
    conn.execute("SELECT set_config('trulience.actor', %s, %s)", (actor, local))
    if not local and not conn.autocommit:
        conn.commit()


@contextlib.contextmanager
def acting_as(conn: psycopg.Connection, actor: str) -> Iterator[psycopg.Connection]:
    """One transaction whose changes the audit log attributes to `actor` (SET LOCAL).

    Inside a caller's longer transaction this is a savepoint, and a SET LOCAL would outlive
    it to the end of the outer transaction: the actor from before is put back on the way out.
    """
    with conn.transaction():
        previous = conn.execute("SELECT current_setting('trulience.actor', true)").fetchone()[0]
        set_actor(conn, actor, local=True)
        yield conn
        # not in a finally: after an error the savepoint's rollback restores it already
        set_actor(conn, previous or "", local=True)


def check_server(url: str) -> str:
    """Verify the server answers and offers pgvector; return its version string."""
    with connect(url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        major = int(version.split(".")[0])
        if major < 15:
            raise DatabaseUnavailable(
                f"Postgres at {mask_url(url)} is version {version}; 15 or newer is required"
            )
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
        if available is None:
            raise DatabaseUnavailable(
                f"Postgres at {mask_url(url)} has no pgvector extension: install pgvector "
                "(https://github.com/pgvector/pgvector) on that server, or unset DATABASE_URL "
                "to use the embedded database"
            )
        return version


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database `name` on the server (a copy of `template` when given) and return its
    URL. For tests, benchmarks and the schema snapshot: the catalog itself is made by migrating."""
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(statement)
    return with_database(server_url, name)
