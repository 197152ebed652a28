"""A user's Studio theme, light or dark (table `user_preferences`, column `theme`)."""

import psycopg

from trulience.catalog.errors import writing

THEMES = ("light", "dark")
DEFAULT_THEME = "light"


def theme_of(conn: psycopg.Connection, user_id: int) -> str:
    """The user's Studio theme: 'light' (the default) or 'dark'."""
    row = conn.execute(
        "SELECT theme FROM user_preferences WHERE user_id = %s", (user_id,)
    ).fetchone()
    return DEFAULT_THEME if row is None else row[0]


def set_theme(conn: psycopg.Connection, user_id: int, theme: str) -> None:
    """Store the user's Studio theme; the catalog refuses any but 'light' and 'dark'."""
    with writing(conn, {"theme": theme}):
        conn.execute(
            """INSERT INTO user_preferences (user_id, theme) VALUES (%s, %s)
               ON CONFLICT (user_id) DO UPDATE SET theme = EXCLUDED.theme""",
            (user_id, theme),
        )
