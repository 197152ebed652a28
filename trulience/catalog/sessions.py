"""Login sessions as the catalog holds them: a bearer token's sha256 (never the token), its
expiry, revocation and last use. trulience/auth/users.py decides who may log in and when a
session is refused; these functions run its statements."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import User

_COLUMNS = "id, user_id, created_at, last_seen_at, expires_at, revoked_at, user_agent"
_USER_COLUMNS = "u.id, u.username, u.display_name, u.email, u.role, u.disabled"


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    user_agent: str


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """What a token's session says now, and whose it is."""

    session_id: int
    revoked: bool
    expired: bool
    stale: bool  # last seen longer ago than the resolution asked about
    user: User


def open_session(
    conn: psycopg.Connection,
    user_id: int,
    token_sha256: str,
    ttl: timedelta,
    user_agent: str,
    username: str,
) -> Session:
    """A new session for the token's digest, expiring `ttl` from now."""
    with writing(conn, {"user_agent": user_agent}):
        return one(
            conn,
            Session,
            f"INSERT INTO sessions (user_id, token_sha256, expires_at, user_agent) "
            f"VALUES (%s, %s, now() + %s, %s) RETURNING {_COLUMNS}",
            (user_id, token_sha256, ttl, user_agent),
            "session",
            username,
        )


def check_token(
    conn: psycopg.Connection, token_sha256: str, seen_resolution: timedelta
) -> TokenCheck | None:
    """The session of a token digest and its user; None when no session has it."""
    row = conn.execute(
        f"""SELECT s.id, s.revoked_at IS NOT NULL, s.expires_at <= now(),
                   s.last_seen_at < now() - %s, {_USER_COLUMNS}
              FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_sha256 = %s""",
        (seen_resolution, token_sha256),
    ).fetchone()
    if row is None:
        return None
    return TokenCheck(*row[:4], user=User(*row[4:]))


def touch_session(conn: psycopg.Connection, session_id: int) -> None:
    """Stamp the session as seen now."""
    conn.execute("UPDATE sessions SET last_seen_at = now() WHERE id = %s", (session_id,))


def sessions_of_user(
    conn: psycopg.Connection, user_id: int, active_only: bool = False
) -> list[Session]:
    """A user's sessions, newest first (only unrevoked, unexpired ones with `active_only`)."""
    condition = "AND revoked_at IS NULL AND expires_at > now()" if active_only else ""
    return many(
        conn,
        Session,
        f"SELECT {_COLUMNS} FROM sessions WHERE user_id = %s {condition} "
        f"ORDER BY created_at DESC, id DESC",
        (user_id,),
    )


def revoke_session(conn: psycopg.Connection, session_id: int) -> None:
    """Revoke one session unless it is revoked already."""
    conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (session_id,),
    )


def revoke_token(conn: psycopg.Connection, token_sha256: str) -> None:
    """Revoke the session of a token digest unless it is revoked already."""
    conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE token_sha256 = %s AND revoked_at IS NULL",
        (token_sha256,),
    )


def revoke_sessions_of_user(conn: psycopg.Connection, user_id: int) -> None:
    """Revoke every session of the user still open."""
    conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )


def username_of_token(conn: psycopg.Connection, token_sha256: str) -> str | None:
    """Whose session a token digest opened; None when none did."""
    row = conn.execute(
        """SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_sha256 = %s""",
        (token_sha256,),
    ).fetchone()
    return None if row is None else row[0]
