"""Users and their roles (login and permissions arrive with the review apps)."""

import psycopg

from trulience.catalog.errors import writing
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
