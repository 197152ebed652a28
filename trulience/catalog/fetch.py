"""Reading typed rows: one record or NotFound, or a list of records."""

from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from trulience.catalog.errors import NotFound

T = TypeVar("T")


def one(
    conn: psycopg.Connection, record: type[T], query: str, params: Any, entity: str, key: Any
) -> T:
    """The single row `query` finds, as `record`; NotFound(entity, key) when there is none."""
    with conn.cursor(row_factory=class_row(record)) as cur:
        row = cur.execute(query, params).fetchone()
    if row is None:
        raise NotFound(entity, key)
    return row


def many(conn: psycopg.Connection, record: type[T], query: str, params: Any = None) -> list[T]:
    """Every row `query` finds, as `record`."""
    with conn.cursor(row_factory=class_row(record)) as cur:
        return cur.execute(query, params).fetchall()


def id_of(conn: psycopg.Connection, table: str, key: str, entity: str, column: str = "slug") -> int:
    """The id of the row of `table` whose `column` equals `key`; NotFound otherwise."""
    query = sql.SQL("SELECT id FROM {} WHERE {} = %s").format(
        sql.Identifier(table), sql.Identifier(column)
    )
    row = conn.execute(query, (key,)).fetchone()
    if row is None:
        raise NotFound(entity, key)
    return row[0]
