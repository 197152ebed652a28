"""Per-user notifications: who is told about which event, and what they have read."""

from collections.abc import Iterable, Mapping
from typing import Any

import psycopg

from trulience.catalog import notifications as catalog
from trulience.catalog.errors import writing
from trulience.catalog.notifications import Notification
from trulience.catalog.records import User
from trulience.catalog.users import enabled_usernames_in_roles

# Who hears about each kind when the caller names nobody: the people who act on it.
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "run_failed": ("producer", "admin"),
    "gate_failed": ("producer", "admin"),
    "ready_for_review": ("reviewer", "producer"),
    "approved": ("producer",),
    "delivered": ("producer", "admin"),
    "note_added": ("reviewer", "producer"),
    "hook_vetoed": ("producer", "admin"),  # stage hooks, trulience/production/hooks
}


def default_recipients(conn: psycopg.Connection, kind: str) -> list[str]:
    """Usernames of the enabled users whose role hears about `kind` by default."""
    return enabled_usernames_in_roles(conn, list(DEFAULT_ROLES.get(kind, ())))


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
    return catalog.insert_notifications(conn, kind, subject, body, names)


def unread(conn: psycopg.Connection, user: User) -> list[Notification]:
    """A user's unread notifications, oldest first."""
    return catalog.unread_notifications(conn, user.id)


def mark_read(
    conn: psycopg.Connection, user: User, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark some (default: all) of the user's own notifications read; how many changed."""
    ids = None if notification_ids is None else list(notification_ids)
    return catalog.mark_notifications_read(conn, user.id, ids)


def close_for_decision(conn: psycopg.Connection, kind: str, scene_id: int, review_id: int) -> int:
    """Close, for everyone, the unread `kind` notifications about a take that a review has
    decided (marked read, remembering the review); how many were closed."""
    return catalog.close_unread_about_take(conn, kind, scene_id, review_id)


def withdraw_for_review(conn: psycopg.Connection, review_id: int) -> None:
    """Undo what a review did to notifications: reopen those it closed, remove those it
    raised (their subject names it), as if it had never been made."""
    with writing(conn):
        catalog.reopen_closed_by_review(conn, review_id)
        catalog.delete_raised_by_review(conn, review_id)
