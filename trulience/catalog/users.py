"""Users and their roles (login and permissions arrive with the review apps)."""

import psycopg

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import User

_COLUMNS = "id, username, display_name, email, role, disabled"


def create_user(
    conn: psycopg.Connection, username: str, display_name: str, role: str, email: str | None = None
) -> User:
    """Register a user with one of the roles admin, producer, reviewer or viewer."""
    values = {"username": username, "display_name": display_name, "role": role, "email": email}
    with writing(conn, values):
        return one(
            conn,
            User,
            f"INSERT INTO users (username, display_name, role, email) "
            f"VALUES (%s, %s, %s, %s) RETURNING {_COLUMNS}",
            (username, display_name, role, email),
            "user",
            username,
        )


def get_user(conn: psycopg.Connection, username: str) -> User:
    return one(
        conn,
        User,
        f"SELECT {_COLUMNS} FROM users WHERE username = %s",
        (username,),
        "user",
        username,
    )


def list_users(conn: psycopg.Connection) -> list[User]:
    return many(conn, User, f"SELECT {_COLUMNS} FROM users ORDER BY username")


def get_user_by_id(conn: psycopg.Connection, user_id: int, username: str) -> User:
    """The user as the database has it now (NotFound names `username`)."""
    return one(
        conn, User, f"SELECT {_COLUMNS} FROM users WHERE id = %s", (user_id,), "user", username
    )


def password_hash_of(conn: psycopg.Connection, username: str) -> str | None:
    """The stored password hash (None for a user without a password); NotFound when there
    is no such user."""
    row = conn.execute(
        "SELECT password_hash FROM users WHERE username = %s", (username,)
    ).fetchone()
    if row is None:
        raise NotFound("user", username)
    return row[0]


def set_password_hash(conn: psycopg.Connection, user_id: int, password_hash: str) -> None:
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))


def set_disabled(conn: psycopg.Connection, user_id: int) -> None:
    conn.execute("UPDATE users SET disabled = true WHERE id = %s", (user_id,))


def enabled_usernames_in_roles(conn: psycopg.Connection, roles: list[str]) -> list[str]:
    """Usernames of the enabled users holding any of `roles`, by username."""
    rows = conn.execute(
        "SELECT username FROM users WHERE role = ANY(%s) AND NOT disabled ORDER BY username",
        (roles,),
    ).fetchall()
    return [r[0] for r in rows]


def users_named(conn: psycopg.Connection, usernames: list[str]) -> list[User]:
    """The users (enabled or not) among `usernames`, by username; unknown names are left out."""
    return many(
        conn,
        User,
        f"SELECT {_COLUMNS} FROM users WHERE username = ANY(%s) ORDER BY username",
        (usernames,),
    )
