"""Reading the append-only audit log (PRD-45); the database writes it by trigger."""

import psycopg

from trulience.catalog.fetch import many
from trulience.catalog.records import AuditEntry


def audit_trail(
    conn: psycopg.Connection,
    table: str | None = None,
    row_key: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest audit entries, optionally for one table, one row or one actor."""
    return many(
        conn,
        AuditEntry,
        """SELECT id, at, actor, table_name, row_key, action, before, after FROM audit_log
            WHERE (%(table)s::text IS NULL OR table_name = %(table)s)
              AND (%(row)s::text IS NULL OR row_key = %(row)s)
              AND (%(actor)s::text IS NULL OR actor = %(actor)s)
            ORDER BY id DESC LIMIT %(limit)s""",
        {"table": table, "row": row_key, "actor": actor, "limit": limit},
    )
