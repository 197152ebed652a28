"""The catalog's storage URIs by prefix: counted, listed and rewritten (PRD-18 repath).

URI_COLUMNS names every column that holds a storage URI, with the column holding its
sha256 (None when the table keeps none); tests/test_data_maintenance.py fails when the
schema gains a uri column this map does not know.
"""

from dataclasses import dataclass

import psycopg
from psycopg import sql

# (table, uri column) -> its sha256 column (or None)
URI_COLUMNS: dict[tuple[str, str], str | None] = {
    ("source_images", "uri"): "sha256",
    ("image_variants", "uri"): "sha256",
    ("segments", "uri"): "sha256",
    ("scenes", "uri"): "sha256",
    ("scene_revisions", "uri"): "sha256",
    ("deliverables", "uri"): "sha256",
    ("models", "uri"): "sha256",
    ("metadata_sync", "sidecar_uri"): "sidecar_sha256",
    ("note_drawings", "png_uri"): "png_sha256",
    ("regression_runs", "report_uri"): None,
    ("regression_runs", "report_json_uri"): None,
}


@dataclass(frozen=True)
class StoredUri:
    """One distinct URI under a prefix, with the sha256 the catalog expects of it."""

    table: str
    column: str
    uri: str
    sha256: str | None


def schema_uri_columns(conn: psycopg.Connection) -> set[tuple[str, str]]:
    """Every (table, column) of a base table whose name says it holds a URI."""
    rows = conn.execute(
        """SELECT c.table_name, c.column_name FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
              AND (c.column_name = 'uri' OR c.column_name LIKE '%\\_uri')"""
    ).fetchall()
    return {(table, column) for table, column in rows}


def uris_under(conn: psycopg.Connection, prefix: str) -> list[StoredUri]:
    """Every distinct URI starting with `prefix`, per table and column, sorted."""
    found: list[StoredUri] = []
    for (table, column), sha in URI_COLUMNS.items():
        query = sql.SQL(
            "SELECT DISTINCT {col}, {sha} FROM {table} WHERE starts_with({col}, %s) ORDER BY 1"
        ).format(
            col=sql.Identifier(column),
            sha=sql.Identifier(sha) if sha else sql.SQL("NULL::text"),
            table=sql.Identifier(table),
        )
        for uri, digest in conn.execute(query, (prefix,)).fetchall():
            found.append(StoredUri(table, column, uri, digest))
    return found


def count_under(conn: psycopg.Connection, prefix: str) -> dict[tuple[str, str], int]:
    """How many rows of each uri column start with `prefix` (every column, zeros too)."""
    counts = {}
    for table, column in URI_COLUMNS:
        query = sql.SQL("SELECT count(*) FROM {table} WHERE starts_with({col}, %s)").format(
            col=sql.Identifier(column), table=sql.Identifier(table)
        )
        counts[(table, column)] = conn.execute(query, (prefix,)).fetchone()[0]
    return counts


def rewrite_prefix(conn: psycopg.Connection, old: str, new: str) -> dict[tuple[str, str], int]:
    """Replace the prefix `old` by `new` in every uri column, in one transaction; the rows
    rewritten per column."""
    rewritten = {}
    with conn.transaction():
        for table, column in URI_COLUMNS:
            query = sql.SQL(
                "UPDATE {table} SET {col} = %(new)s || substr({col}, length(%(old)s) + 1) "
                "WHERE starts_with({col}, %(old)s)"
            ).format(col=sql.Identifier(column), table=sql.Identifier(table))
            rewritten[(table, column)] = conn.execute(query, {"old": old, "new": new}).rowcount
    return rewritten
