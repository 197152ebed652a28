"""Per-user notifications: who is told about which event, and what they have read."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many
from trulience.catalog.records import User

# Who hears about each kind when the caller names nobody: the people who act on it.
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "run_failed": ("producer", "admin"),
    "gate_failed": ("producer", "admin"),
    "ready_for_review": ("reviewer", "producer"),
    "approved": ("producer",),
    "delivered": ("producer", "admin"),
    "note_added": ("reviewer", "producer"),
}

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


def default_recipients(conn: psycopg.Connection, kind: str) -> list[str]:
    """Usernames of the enabled users whose role hears about `kind` by default."""
    rows = conn.execute(
        "SELECT username FROM users WHERE role = ANY(%s) AND NOT disabled ORDER BY username",
        (list(DEFAULT_ROLES.get(kind, ())),),
    ).fetchall()
    return [r[0] for r in rows]


def notify(
    conn: psycopg.Connection,
    kind: str,
    subject: Mapping[str, Any],
    body: str,
    users: Iterable[str | User] | None = None,
) -> list[Notification]:
    """Tell each of `users` (default: the roles in DEFAULT_ROLES for `kind`) about an event."""
    names = (
        default_recipients(conn, kind)
        if users is None
        else [u.username if isinstance(u, User) else u for u in users]
    )
    if not names:
        return []
    with writing(conn, {"kind": kind, "body": body}):
        return many(
            conn,
            Notification,
            f"""INSERT INTO notifications (user_id, kind, subject, body)
                SELECT id, %s, %s, %s FROM users WHERE username = ANY(%s) ORDER BY username
                RETURNING {_COLUMNS}""",
            (kind, Jsonb(dict(subject)), body, names),
        )


def unread(conn: psycopg.Connection, user: User) -> list[Notification]:
    """A user's unread notifications, oldest first."""
    return many(
        conn,
        Notification,
        f"SELECT {_COLUMNS} FROM notifications WHERE user_id = %s AND read_at IS NULL "
        f"ORDER BY created_at, id",
        (user.id,),
    )


def mark_read(
    conn: psycopg.Connection, user: User, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark some (default: all) of the user's own notifications read; how many changed."""
    ids = None if notification_ids is None else list(notification_ids)
    with conn.transaction():
        cur = conn.execute(
            """UPDATE notifications SET read_at = now()
                WHERE user_id = %s AND read_at IS NULL
                  AND (%s::bigint[] IS NULL OR id = ANY(%s::bigint[]))""",
            (user.id, ids, ids),
        )
    return cur.rowcount


def close_for_decision(conn: psycopg.Connection, kind: str, scene_id: int, review_id: int) -> int:
    """Close, for everyone, the unread `kind` notifications about a take that a review has
    decided (marked read, remembering the review); how many were closed."""
    with writing(conn):
        cur = conn.execute(
            """UPDATE notifications SET read_at = now(), closed_by_review_id = %s
                WHERE kind = %s AND subject @> %s AND read_at IS NULL""",
            (review_id, kind, Jsonb({"scene_id": scene_id})),
        )
    return cur.rowcount


def withdraw_for_review(conn: psycopg.Connection, review_id: int) -> None:
    """Undo what a review did to notifications: reopen those it closed, remove those it
    raised (their subject names it), as if it had never been made."""
    with writing(conn):
        conn.execute(
            "UPDATE notifications SET read_at = NULL, closed_by_review_id = NULL "
            "WHERE closed_by_review_id = %s",
            (review_id,),
        )
        conn.execute(
            "DELETE FROM notifications WHERE subject @> %s", (Jsonb({"review_id": review_id}),)
        )
