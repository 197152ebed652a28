"""The inbox's record of each folder it judged (table `inbox_drops`): what was imported or
refused, and the fingerprint that tells an unchanged folder from a new drop."""

from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def last_import(conn: psycopg.Connection, project: str, folder: str) -> tuple[str, dict] | None:
    """The fingerprint and report of the folder's newest drop that was not refused."""
    row = conn.execute(
        """SELECT fingerprint, report FROM inbox_drops
            WHERE project_slug = %s AND folder = %s AND outcome <> 'rejected'
            ORDER BY created_at DESC, id DESC LIMIT 1""",
        (project, folder),
    ).fetchone()
    return (row[0], row[1]) if row else None


def record_drop(
    conn: psycopg.Connection,
    project: str,
    folder: str,
    fingerprint: str,
    outcome: str,
    character: str | None,
    report: dict[str, Any],
) -> None:
    """Record what became of one drop (the character, by slug, when there is one)."""
    conn.execute(
        """INSERT INTO inbox_drops (project_slug, folder, fingerprint, outcome, character_id,
                                    report)
           VALUES (%s, %s, %s, %s, (SELECT id FROM characters WHERE slug = %s), %s)""",
        (project, folder, fingerprint, outcome, character, Jsonb(report)),
    )
