"""Segments of a take: every attempt at each segment, the current one (the loop's checkpoint),
and what the quality gates refused."""

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import Segment

SEGMENT_COLUMNS = (
    "id, scene_id, index, attempt, status, uri, sha256, frames, qa, "
    "provenance, current, created_at, updated_at"
)


def add_segment(
    conn: psycopg.Connection,
    scene_id: int,
    index: int,
    *,
    status: str = "pending",
    uri: str | None = None,
    sha256: str | None = None,
    frames: int | None = None,
    provenance: dict | None = None,
) -> Segment:
    """Record the next attempt at segment `index` of a take (earlier attempts are kept)."""
    values = {
        "scene_id": scene_id,
        "index": index,
        "status": status,
        "uri": uri,
        "sha256": sha256,
        "frames": frames,
    }
    with writing(conn, values):
        conn.execute("SELECT 1 FROM scenes WHERE id = %s FOR UPDATE", (scene_id,))
        return one(
            conn,
            Segment,
            f"""INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                      provenance)
                SELECT %(scene_id)s, %(index)s, coalesce(max(attempt), 0) + 1, %(status)s,
                       %(uri)s, %(sha256)s, %(frames)s, %(provenance)s
                  FROM segments WHERE scene_id = %(scene_id)s AND index = %(index)s
                RETURNING {SEGMENT_COLUMNS}""",
            values | {"provenance": Jsonb(provenance or {})},
            "segment",
            (scene_id, index),
        )


def update_segment(
    conn: psycopg.Connection,
    segment_id: int,
    *,
    status: str,
    uri: str | None = None,
    sha256: str | None = None,
    frames: int | None = None,
    qa: dict | None = None,
) -> Segment:
    """Move a segment to `status`, recording its file and QA scores when given."""
    values = {"status": status, "uri": uri, "sha256": sha256, "frames": frames}
    with writing(conn, values):
        return one(
            conn,
            Segment,
            f"""UPDATE segments SET status = %(status)s,
                       uri = coalesce(%(uri)s, uri), sha256 = coalesce(%(sha256)s, sha256),
                       frames = coalesce(%(frames)s, frames),
                       qa = coalesce(%(qa)s, qa)
                 WHERE id = %(id)s RETURNING {SEGMENT_COLUMNS}""",
            values | {"qa": Jsonb(qa) if qa is not None else None, "id": segment_id},
            "segment",
            segment_id,
        )


def list_segments(conn: psycopg.Connection, scene_id: int) -> list[Segment]:
    """Every attempt at every segment of a take, in order."""
    return many(
        conn,
        Segment,
        f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE scene_id = %s ORDER BY index, attempt",
        (scene_id,),
    )


def current_segments(conn: psycopg.Connection, scene_id: int) -> dict[int, Segment]:
    """The current attempt at each committed segment of a take, by index."""
    rows = many(
        conn,
        Segment,
        f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE scene_id = %s AND current ORDER BY index",
        (scene_id,),
    )
    return {s.index: s for s in rows}


def next_attempt(conn: psycopg.Connection, scene_id: int, index: int) -> int:
    """The number the next attempt at segment `index` will get."""
    row = conn.execute(
        "SELECT coalesce(max(attempt), 0) + 1 FROM segments WHERE scene_id = %s AND index = %s",
        (scene_id, index),
    ).fetchone()
    return row[0]


def commit_segment(
    conn: psycopg.Connection,
    scene_id: int,
    index: int,
    attempt: int,
    *,
    uri: str,
    sha256: str,
    frames: int,
    provenance: dict,
    qa: dict | None = None,
    status: str = "generated",
    current: bool = True,
) -> Segment:
    """Record a generated attempt at segment `index` in one transaction. As the current
    attempt (the default) this row is the loop's checkpoint; an attempt that failed QA is
    kept with `status='qa_failed', current=False`."""
    values = {
        "scene_id": scene_id,
        "index": index,
        "attempt": attempt,
        "uri": uri,
        "sha256": sha256,
        "frames": frames,
        "status": status,
        "current": current,
    }
    with writing(conn, values):
        if current:
            conn.execute(
                "UPDATE segments SET current = false "
                "WHERE scene_id = %s AND index = %s AND current",
                (scene_id, index),
            )
        return one(
            conn,
            Segment,
            f"""INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames,
                                      provenance, qa, current)
                VALUES (%(scene_id)s, %(index)s, %(attempt)s, %(status)s, %(uri)s,
                        %(sha256)s, %(frames)s, %(provenance)s, %(qa)s, %(current)s)
                RETURNING {SEGMENT_COLUMNS}""",
            values | {"provenance": Jsonb(provenance), "qa": Jsonb(qa or {})},
            "segment",
            (scene_id, index),
        )


def qa_failure_counts(conn: psycopg.Connection) -> list[tuple[str, str, str, int]]:
    """Attempts refused by a QA gate, counted by gate, workflow and worker (PRD-64 data)."""
    return conn.execute(
        """SELECT gate, coalesce(provenance ->> 'workflow', '(none)') AS workflow,
                  coalesce(provenance ->> 'worker', provenance ->> 'backend') AS worker,
                  count(*)::int
             FROM segments, jsonb_array_elements_text(coalesce(qa -> 'failed', '[]')) AS gate
            WHERE status = 'qa_failed'
            GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3"""
    ).fetchall()
