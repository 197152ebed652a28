"""The names the catalog knows for each kind of thing a command names (project, character,
scene type ...), so "not found" can say what would have been found."""

import psycopg
from psycopg import sql

# entity (as NotFound names it) -> (table, the column people type)
NAMED = {
    "project": ("projects", "slug"),
    "character": ("characters", "slug"),
    "scene type": ("scene_types", "slug"),
    "user": ("users", "username"),
    "worker": ("workers", "name"),
    "workflow": ("workflows", "name"),
    "batch": ("batches", "id"),
    "tag": ("tags", "name"),
}
SHOWN = 10  # more than this many names are cut short with "..."


def known_names(conn: psycopg.Connection, entity: str) -> list[str] | None:
    """Up to SHOWN + 1 names of `entity` in the catalog, in order (None: not a named kind)."""
    if entity not in NAMED:
        return None
    table, column = NAMED[entity]
    # ordered by the column's own type (batch 9 before batch 10), shown as text
    query = sql.SQL(
        "SELECT k::text FROM (SELECT DISTINCT {c} AS k FROM {t}) AS n ORDER BY k LIMIT %s"
    ).format(c=sql.Identifier(column), t=sql.Identifier(table))
    return [row[0] for row in conn.execute(query, (SHOWN + 1,))]


def not_found_message(entity: str, key: object, known: list[str] | None) -> str:
    """`project 'nope' not found (known: a, b, ...)`, or `(no project yet)` when there are
    none: NotFound's own words first, so what matched them before still does."""
    text = f"{entity} {key!r} not found"
    if known is None:
        return text
    if not known:
        return f"{text} (no {entity} yet)"
    shown = ", ".join(known[:SHOWN]) + (", ..." if len(known) > SHOWN else "")
    return f"{text} (known: {shown})"
