"""Content ratings (PRD-82): the rating of characters and scene types, whether a take is
sensitive (the view `take_sensitivity`, migration 0021) and each user's choice to blur
sensitive media or show it (`user_preferences.show_sensitive`)."""

import psycopg
from psycopg import sql

from trulience.catalog.errors import NotFound, writing

RATED = {"characters": "character", "scene_types": "scene type"}


def set_rating(conn: psycopg.Connection, table: str, slug: str, rating: str) -> None:
    """Rate a character or scene type (`table`: characters or scene_types)."""
    entity = RATED[table]
    with writing(conn, {"rating": rating, "slug": slug}):
        found = conn.execute(
            sql.SQL("UPDATE {} SET rating = %s WHERE slug = %s RETURNING id").format(
                sql.Identifier(table)
            ),
            (rating, slug),
        ).fetchone()
    if found is None:
        raise NotFound(entity, slug)


def rating_of(conn: psycopg.Connection, table: str, slug: str) -> str:
    """The rating of a character or scene type."""
    row = conn.execute(
        sql.SQL("SELECT rating FROM {} WHERE slug = %s").format(sql.Identifier(table)), (slug,)
    ).fetchone()
    if row is None:
        raise NotFound(RATED[table], slug)
    return row[0]


def take_is_sensitive(conn: psycopg.Connection, scene_id: int) -> bool:
    """Whether a take's character or scene type is rated sensitive or restricted."""
    row = conn.execute(
        "SELECT sensitive FROM take_sensitivity WHERE scene_id = %s", (scene_id,)
    ).fetchone()
    if row is None:
        raise NotFound("take", scene_id)
    return row[0]


def show_sensitive(conn: psycopg.Connection, user_id: int) -> str:
    """The user's choice for sensitive media: 'blur' (the default) or 'show'."""
    row = conn.execute(
        "SELECT show_sensitive FROM user_preferences WHERE user_id = %s", (user_id,)
    ).fetchone()
    return "blur" if row is None else row[0]


def set_show_sensitive(conn: psycopg.Connection, user_id: int, choice: str) -> None:
    """Store the user's choice for sensitive media ('blur' or 'show')."""
    with writing(conn, {"show_sensitive": choice}):
        conn.execute(
            """INSERT INTO user_preferences (user_id, show_sensitive) VALUES (%s, %s)
               ON CONFLICT (user_id) DO UPDATE SET show_sensitive = EXCLUDED.show_sensitive""",
            (user_id, choice),
        )
