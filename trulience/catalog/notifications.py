"""Per-user notifications as the catalog holds them: written, read, closed by a review's
decision and withdrawn with it. trulience/notify/notifications.py decides who hears what."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many

_COLUMNS = "id, user_id, kind, subject, body, read_at, created_at"


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    user_id: int
    kind: str
    subject: dict[str, Any]
    body: str
    read_at: datetime | None
    created_at: datetime


def insert_notifications(
    conn: psycopg.Connection,
    kind: str,
    subject: Mapping[str, Any],
    body: str,
    usernames: list[str],
) -> list[Notification]:
    """One notification for each of the named users, in username order."""
    with writing(conn, {"kind": kind, "body": body}):
        return many(
            conn,
            Notification,
            f"""INSERT INTO notifications (user_id, kind, subject, body)
                SELECT id, %s, %s, %s FROM users WHERE username = ANY(%s) ORDER BY username
                RETURNING {_COLUMNS}""",
            (kind, Jsonb(dict(subject)), body, usernames),
        )


def unread_notifications(conn: psycopg.Connection, user_id: int) -> list[Notification]:
    """A user's unread notifications, oldest first."""
    return many(
        conn,
        Notification,
        f"SELECT {_COLUMNS} FROM notifications WHERE user_id = %s AND read_at IS NULL "
        f"ORDER BY created_at, id",
        (user_id,),
    )


def mark_notifications_read(conn: psycopg.Connection, user_id: int, ids: list[int] | None) -> int:
    """Mark the user's unread notifications among `ids` (all of them for None) read; how
    many changed."""
    with conn.transaction():
        cur = conn.execute(
            """UPDATE notifications SET read_at = now()
                WHERE user_id = %s AND read_at IS NULL
                  AND (%s::bigint[] IS NULL OR id = ANY(%s::bigint[]))""",
            (user_id, ids, ids),
        )
    return cur.rowcount


def close_unread_about_take(
    conn: psycopg.Connection, kind: str, scene_id: int, review_id: int
) -> int:
    """Mark read, for everyone, the unread `kind` notifications about a take, remembering the
    review that closed them; how many."""
    with writing(conn):
        cur = conn.execute(
            """UPDATE notifications SET read_at = now(), closed_by_review_id = %s
                WHERE kind = %s AND subject @> %s AND read_at IS NULL""",
            (review_id, kind, Jsonb({"scene_id": scene_id})),
        )
    return cur.rowcount


def reopen_closed_by_review(conn: psycopg.Connection, review_id: int) -> None:
    """Unread again the notifications a review closed."""
    conn.execute(
        "UPDATE notifications SET read_at = NULL, closed_by_review_id = NULL "
        "WHERE closed_by_review_id = %s",
        (review_id,),
    )


def delete_raised_by_review(conn: psycopg.Connection, review_id: int) -> None:
    """Remove the notifications whose subject names the review."""
    conn.execute(
        "DELETE FROM notifications WHERE subject @> %s", (Jsonb({"review_id": review_id}),)
    )
