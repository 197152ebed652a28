"""Accounts with passwords, and login sessions whose bearer tokens are stored only hashed.

These are trusted operations (the CLI, an admin service); the review apps reach users
through `user_for_session`, which refuses unknown, revoked and expired tokens.
"""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import psycopg

from trulience.auth.errors import AccountDisabled, LoginRefused, SessionRefused
from trulience.auth.passwords import hash_password, verify_password
from trulience.catalog import sessions as catalog_sessions
from trulience.catalog import users as catalog_users
from trulience.catalog.database import acting_as
from trulience.catalog.errors import NotFound, writing
from trulience.catalog.records import User
from trulience.catalog.sessions import Session

DEFAULT_TTL = timedelta(hours=12)
# last_seen_at is written at most this often: a write per request would cost a round trip
# (the audit log ignores it: a liveness stamp in sql/migrations/0012_audit_policy.sql).
SEEN_RESOLUTION = timedelta(minutes=5)


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
        catalog_users.set_password_hash(conn, user.id, encoded)
    return user


def set_password(conn: psycopg.Connection, username: str, password: str) -> None:
    """Replace a user's password and end every session they have open."""
    encoded = hash_password(password)
    with writing(conn):
        user = catalog_users.get_user(conn, username)
        catalog_users.set_password_hash(conn, user.id, encoded)
        catalog_sessions.revoke_sessions_of_user(conn, user.id)


def disable_user(conn: psycopg.Connection, username: str) -> User:
    """Stop a user from logging in or acting; their open sessions end now."""
    with writing(conn):
        user = catalog_users.get_user(conn, username)
        catalog_users.set_disabled(conn, user.id)
        catalog_sessions.revoke_sessions_of_user(conn, user.id)
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
    try:
        stored = catalog_users.password_hash_of(conn, username)
    except NotFound:
        verify_password(password, _dummy_hash())
        raise LoginRefused("wrong username or password") from None
    if not verify_password(password, stored):
        raise LoginRefused("wrong username or password")
    user = catalog_users.get_user(conn, username)
    if user.disabled:
        raise AccountDisabled(username)
    token = secrets.token_urlsafe(32)
    # the login is the user's own act, whoever's connection carries it (an app, the API)
    with acting_as(conn, user_actor(username)):
        session = catalog_sessions.open_session(
            conn, user.id, token_digest(token), ttl, user_agent, username
        )
    return Login(token=token, session=session, user=user)


def user_for_session(conn: psycopg.Connection, token: str) -> User:
    """The user a session token belongs to; SessionRefused or AccountDisabled otherwise."""
    check = catalog_sessions.check_token(conn, token_digest(token), SEEN_RESOLUTION)
    if check is None:
        raise SessionRefused("unknown session: log in again")
    user = check.user
    if check.revoked:
        raise SessionRefused(f"session {check.session_id} of {user.username!r} was revoked")
    if check.expired:
        raise SessionRefused(f"session {check.session_id} of {user.username!r} has expired")
    if user.disabled:
        raise AccountDisabled(user.username)
    if check.stale:
        with acting_as(conn, user_actor(user.username)):
            catalog_sessions.touch_session(conn, check.session_id)
    return user


def sessions_of(
    conn: psycopg.Connection, username: str, active_only: bool = False
) -> list[Session]:
    """A user's sessions, newest first (only those still usable with `active_only`)."""
    user = catalog_users.get_user(conn, username)
    return catalog_sessions.sessions_of_user(conn, user.id, active_only)


def revoke_session(conn: psycopg.Connection, session_id: int) -> None:
    """End one session (revoking twice is harmless)."""
    with conn.transaction():
        catalog_sessions.revoke_session(conn, session_id)


def logout(conn: psycopg.Connection, token: str) -> None:
    """End the session this token opened (attributed to its user; unknown tokens: no-op)."""
    digest = token_digest(token)
    username = catalog_sessions.username_of_token(conn, digest)
    if username is None:
        return
    with acting_as(conn, user_actor(username)):
        catalog_sessions.revoke_token(conn, digest)


def acting_user(conn: psycopg.Connection, actor: "User | str") -> User:
    """The user behind a session token or a User, as the database has them now.

    A User is re-read by id so that a stale or forged record (a role or `disabled` flag
    edited by a caller) counts for nothing; a disabled account is refused.
    """
    if isinstance(actor, str):
        return user_for_session(conn, actor)
    user = catalog_users.get_user_by_id(conn, actor.id, actor.username)
    if user.disabled:
        raise AccountDisabled(user.username)
    return user
