"""Trims of segments (PRD-78, table `segment_trims`): frames cut from a segment attempt's
head or tail; the newest trim of an attempt stands."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one


@dataclass(frozen=True, slots=True)
class Trim:
    """The trim standing on one segment attempt."""

    id: int
    segment_id: int
    index: int
    head: int
    tail: int
    by_user: str
    at: datetime
    reason: str | None


_COLUMNS = "t.id, t.segment_id, g.index, t.head, t.tail, t.by_user, t.at, t.reason"


def record_trim(
    conn: psycopg.Connection,
    segment_id: int,
    head: int,
    tail: int,
    by: str,
    reason: str | None = None,
) -> Trim:
    """Record a trim of a segment attempt (it replaces the attempt's earlier trim)."""
    with writing(conn, {"head": head, "tail": tail}):
        return one(
            conn,
            Trim,
            f"""WITH t AS (INSERT INTO segment_trims (segment_id, head, tail, by_user, reason)
                           VALUES (%s, %s, %s, %s, %s) RETURNING *)
                SELECT {_COLUMNS} FROM t JOIN segments g ON g.id = t.segment_id""",
            (segment_id, head, tail, by, reason),
            "segment",
            segment_id,
        )


def current_trims(conn: psycopg.Connection, scene_id: int) -> dict[int, Trim]:
    """The standing trim of each current segment of a take that has one, by index."""
    rows = many(
        conn,
        Trim,
        f"""SELECT DISTINCT ON (g.index) {_COLUMNS}
              FROM segments g JOIN segment_trims t ON t.segment_id = g.id
             WHERE g.scene_id = %s AND g.current
             ORDER BY g.index, t.at DESC, t.id DESC""",
        (scene_id,),
    )
    return {row.index: row for row in rows}


def shown_frames(conn: psycopg.Connection, scene_id: int) -> dict[int, int]:
    """The frames each current segment of a take contributes to it (less its trim), by index."""
    rows = conn.execute(
        "SELECT index, frames FROM current_segment_frames WHERE scene_id = %s ORDER BY index",
        (scene_id,),
    ).fetchall()
    return dict(rows)
