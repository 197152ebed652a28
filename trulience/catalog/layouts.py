"""A user's saved Studio layout (table `user_preferences`, column `studio_layout`): one JSON
object of key → value (the page open, each page's filters, widgets chosen, disclosures)."""

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing


def layout_of(conn: psycopg.Connection, user_id: int) -> dict[str, Any]:
    """The user's saved Studio layout ({} for a user who saved none)."""
    row = conn.execute(
        "SELECT studio_layout FROM user_preferences WHERE user_id = %s", (user_id,)
    ).fetchone()
    return {} if row is None else dict(row[0])


def save_layout(conn: psycopg.Connection, user_id: int, changes: Mapping[str, Any]) -> None:
    """Merge `changes` (key → JSON value) into the user's saved layout, in one statement."""
    with writing(conn, {"studio_layout": dict(changes)}):
        conn.execute(
            """INSERT INTO user_preferences (user_id, studio_layout) VALUES (%s, %s)
               ON CONFLICT (user_id) DO UPDATE
               SET studio_layout = user_preferences.studio_layout || EXCLUDED.studio_layout""",
            (user_id, Jsonb(dict(changes))),
        )
