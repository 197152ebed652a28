"""Accounts with passwords, and login sessions whose bearer tokens are stored only hashed.

These are trusted operations (the CLI, an admin service); the review apps reach users
through `user_for_session`, which refuses unknown, revoked and expired tokens.
"""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from trulience.auth.errors import AccountDisabled, LoginRefused, SessionRefused
from trulience.auth.passwords import hash_password, verify_password
from trulience.catalog import users as catalog_users
from trulience.catalog.database import acting_as
from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import User

DEFAULT_TTL = timedelta(hours=12)
# last_seen_at is written at most this often: a write per request would cost a round trip
# (the audit log ignores it: a liveness stamp in sql/migrations/0012_audit_policy.sql).
SEEN_RESOLUTION = timedelta(minutes=5)
_USER_COLUMNS = "u.id, u.username, u.display_name, u.email, u.role, u.disabled"
_SESSION_COLUMNS = "id, user_id, created_at, last_seen_at, expires_at, revoked_at, user_agent"


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
class Login:
    """A new session; `token` is shown here once and never stored."""

    token: str
    session: Session
    user: User


@functools.cache
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so a wrong name costs as long as a
    # wrong password and response time does not reveal which accounts exist.
    return hash_password("not-a-real-password")


def user_actor(username: str) -> str:
    """How the audit log names a user acting for themselves: `user:<username>`."""
    return f"user:{username}"


def token_digest(token: str) -> str:
    """The sha256 hex of a session token: what the sessions table stores."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    conn: psycopg.Connection,
    username: str,
    display_name: str,
    role: str,
    password: str,
    email: str | None = None,
) -> User:
    """Register a user who can log in with `password` (refused if empty or short)."""
    encoded = hash_password(password)  # before writing: a weak password leaves no user behind
    with conn.transaction():
        user = catalog_users.create_user(conn, username, display_name, role, email)
        conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (encoded, user.id))
    return user


def set_password(conn: psycopg.Connection, username: str, password: str) -> None:
    """Replace a user's password and end every session they have open."""
    encoded = hash_password(password)
    with writing(conn):
        user = catalog_users.get_user(conn, username)
        conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (encoded, user.id))
        _revoke_all(conn, user.id)


def disable_user(conn: psycopg.Connection, username: str) -> User:
    """Stop a user from logging in or acting; their open sessions end now."""
    with writing(conn):
        user = catalog_users.get_user(conn, username)
        conn.execute("UPDATE users SET disabled = true WHERE id = %s", (user.id,))
        _revoke_all(conn, user.id)
    return catalog_users.get_user(conn, username)


def authenticate(
    conn: psycopg.Connection,
    username: str,
    password: str,
    *,
    ttl: timedelta = DEFAULT_TTL,
    user_agent: str = "",
) -> Login:
    """Check the password and open a session; LoginRefused for any wrong credential."""
    row = conn.execute(
        "SELECT password_hash FROM users WHERE username = %s", (username,)
    ).fetchone()
    if row is None:
        verify_password(password, _dummy_hash())
        raise LoginRefused("wrong username or password")
    if not verify_password(password, row[0]):
        raise LoginRefused("wrong username or password")
    user = catalog_users.get_user(conn, username)
    if user.disabled:
        raise AccountDisabled(username)
    token = secrets.token_urlsafe(32)
    # the login is the user's own act, whoever's connection carries it (an app, the API)
    with acting_as(conn, user_actor(username)), writing(conn, {"user_agent": user_agent}):
        session = one(
            conn,
            Session,
            f"INSERT INTO sessions (user_id, token_sha256, expires_at, user_agent) "
            f"VALUES (%s, %s, now() + %s, %s) RETURNING {_SESSION_COLUMNS}",
            (user.id, token_digest(token), ttl, user_agent),
            "session",
            username,
        )
    return Login(token=token, session=session, user=user)


def user_for_session(conn: psycopg.Connection, token: str) -> User:
    """The user a session token belongs to; SessionRefused or AccountDisabled otherwise."""
    row = conn.execute(
        f"""SELECT s.id, s.revoked_at IS NOT NULL, s.expires_at <= now(),
                   s.last_seen_at < now() - %s, {_USER_COLUMNS}
              FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_sha256 = %s""",
        (SEEN_RESOLUTION, token_digest(token)),
    ).fetchone()
    if row is None:
        raise SessionRefused("unknown session: log in again")
    session_id, revoked, expired, stale = row[:4]
    user = User(*row[4:])
    if revoked:
        raise SessionRefused(f"session {session_id} of {user.username!r} was revoked")
    if expired:
        raise SessionRefused(f"session {session_id} of {user.username!r} has expired")
    if user.disabled:
        raise AccountDisabled(user.username)
    if stale:
        with acting_as(conn, user_actor(user.username)):
            conn.execute("UPDATE sessions SET last_seen_at = now() WHERE id = %s", (session_id,))
    return user


def sessions_of(
    conn: psycopg.Connection, username: str, active_only: bool = False
) -> list[Session]:
    """A user's sessions, newest first (only those still usable with `active_only`)."""
    user = catalog_users.get_user(conn, username)
    condition = "AND revoked_at IS NULL AND expires_at > now()" if active_only else ""
    return many(
        conn,
        Session,
        f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE user_id = %s {condition} "
        f"ORDER BY created_at DESC, id DESC",
        (user.id,),
    )


def revoke_session(conn: psycopg.Connection, session_id: int) -> None:
    """End one session (revoking twice is harmless)."""
    with conn.transaction():
        conn.execute(
            "UPDATE sessions SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
            (session_id,),
        )


def logout(conn: psycopg.Connection, token: str) -> None:
    """End the session this token opened (attributed to its user; unknown tokens: no-op)."""
    digest = token_digest(token)
    row = conn.execute(
        """SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_sha256 = %s""",
        (digest,),
    ).fetchone()
    if row is None:
        return
    with acting_as(conn, user_actor(row[0])):
        conn.execute(
            "UPDATE sessions SET revoked_at = now() WHERE token_sha256 = %s AND revoked_at IS NULL",
            (digest,),
        )


def _revoke_all(conn: psycopg.Connection, user_id: int) -> None:
    conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )


def acting_user(conn: psycopg.Connection, actor: "User | str") -> User:
    """The user behind a session token or a User, as the database has them now.

    A User is re-read by id so that a stale or forged record (a role or `disabled` flag
    edited by a caller) counts for nothing; a disabled account is refused.
    """
    if isinstance(actor, str):
        return user_for_session(conn, actor)
    user = one(
        conn,
        User,
        f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = %s",
        (actor.id,),
        "user",
        actor.username,
    )
    if user.disabled:
        raise AccountDisabled(user.username)
    return user
