"""How far a new install has come: whether it holds a character yet, and a take."""

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True, slots=True)
class Progress:
    """The catalog's first things: how many characters and how many takes it holds."""

    characters: int
    takes: int


def install_progress(conn: psycopg.Connection) -> Progress:
    """The counts of characters and takes (scenes) in the catalog, in one query."""
    characters, takes = conn.execute(
        "SELECT (SELECT count(*) FROM characters), (SELECT count(*) FROM scenes)"
    ).fetchone()
    return Progress(characters, takes)
