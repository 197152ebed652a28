"""A user's stored keyboard shortcuts: their preset and the actions they rebound
(table `user_preferences`; what a valid table is stays with trulience/review/shortcuts.py)."""

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing


def stored_shortcuts(conn: psycopg.Connection, user_id: int) -> tuple[str, dict] | None:
    """The user's stored preset and overrides (None: they never chose any)."""
    row = conn.execute(
        "SELECT shortcut_preset, shortcut_overrides FROM user_preferences WHERE user_id = %s",
        (user_id,),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def store_shortcuts(
    conn: psycopg.Connection, user_id: int, preset: str, overrides: dict[str, str]
) -> None:
    """Write the user's preset and overrides, replacing what was stored."""
    with writing(conn, {"shortcut_preset": preset}):
        conn.execute(
            """INSERT INTO user_preferences (user_id, shortcut_preset, shortcut_overrides)
               VALUES (%s, %s, %s)
               ON CONFLICT (user_id) DO UPDATE
                  SET shortcut_preset = EXCLUDED.shortcut_preset,
                      shortcut_overrides = EXCLUDED.shortcut_overrides""",
            (user_id, preset, Jsonb(overrides)),
        )
