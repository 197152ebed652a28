"""Plain SQL migrations: numbered files applied in order, each in its own transaction."""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from trulience.errors import TrulienceError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "sql" / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any constant works; it only keeps two migrating processes from interleaving.
_ADVISORY_LOCK = 0x7472756C


class MigrationError(TrulienceError):
    """The migration files or the database's record of them cannot be reconciled."""


@dataclass(frozen=True)
class Migration:
    name: str
    sha256: str
    sql: str


@dataclass(frozen=True)
class MigrationState:
    name: str
    state: str  # applied | pending | changed | unknown
    applied_at: datetime | None


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in order; a misnamed file or a reused number is an error."""
    migrations: list[Migration] = []
    numbers: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_lowercase_words.sql")
        if match.group(1) in numbers:
            raise MigrationError(
                f"{path.name} reuses number {match.group(1)} of {numbers[match.group(1)]}"
            )
        numbers[match.group(1)] = path.name
        data = path.read_bytes()
        migrations.append(Migration(path.name, hashlib.sha256(data).hexdigest(), data.decode()))
    return migrations


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               name       text PRIMARY KEY,
               sha256     text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


def _applied(conn: psycopg.Connection) -> dict[str, tuple[str, datetime]]:
    rows = conn.execute("SELECT name, sha256, applied_at FROM schema_migrations").fetchall()
    return {name: (sha, at) for name, sha, at in rows}


def status(
    conn: psycopg.Connection, migrations: list[Migration] | None = None
) -> list[MigrationState]:
    """Each migration's state: applied, pending, changed since applied, or unknown to us."""
    migrations = discover() if migrations is None else migrations
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    applied = _applied(conn) if exists else {}
    states = []
    for m in migrations:
        if m.name not in applied:
            states.append(MigrationState(m.name, "pending", None))
        else:
            sha, at = applied[m.name]
            states.append(MigrationState(m.name, "applied" if sha == m.sha256 else "changed", at))
    known = {m.name for m in migrations}
    states += [
        MigrationState(name, "unknown", at)
        for name, (_, at) in sorted(applied.items())
        if name not in known
    ]
    return states


def migrate(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations in order and return their names; a no-op when up to date.

    Refuses to do anything when an applied file changed or the database holds a migration
    these files do not know: either means code and database disagree.
    """
    migrations = discover() if migrations is None else migrations
    if not conn.autocommit:
        conn.commit()
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK,))
    try:
        _ensure_table(conn)
        states = status(conn, migrations)
        changed = [s.name for s in states if s.state == "changed"]
        if changed:
            raise MigrationError(
                "applied migration files were edited afterwards: "
                + ", ".join(changed)
                + ". Restore them and add a new migration instead."
            )
        unknown = [s.name for s in states if s.state == "unknown"]
        if unknown:
            raise MigrationError(
                "the database has migrations these files do not know: "
                + ", ".join(unknown)
                + ". Is this an older checkout than the one that migrated it?"
            )
        pending = {s.name for s in states if s.state == "pending"}
        done = []
        for m in migrations:
            if m.name not in pending:
                continue
            try:
                with conn.transaction():
                    conn.execute(m.sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (name, sha256) VALUES (%s, %s)",
                        (m.name, m.sha256),
                    )
            except psycopg.Error as exc:
                raise MigrationError(f"{m.name} failed and was rolled back: {exc}") from exc
            done.append(m.name)
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK,))


def require_current(conn: psycopg.Connection) -> None:
    """Raise MigrationError unless every migration file is applied unchanged."""
    behind = [s for s in status(conn) if s.state != "applied"]
    if behind:
        listed = ", ".join(f"{s.name} ({s.state})" for s in behind)
        raise MigrationError(
            f"the catalog schema is not current: {listed}. Run `trulience db migrate`."
        )
