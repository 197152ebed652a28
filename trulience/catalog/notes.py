"""Production notes on any entity, threaded, searchable (PRD-95; review notes build on it)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import id_of, many, one
from trulience.catalog.records import Note
from trulience.catalog.tags import Subject

_COLUMNS = "id, author_id, parent_id, body, status, frame, created_at"


@dataclass(frozen=True, slots=True)
class ThreadedNote:
    """A note in reading order: `depth` is 0 for a thread's first note, 1 for a reply...
    `drawing`/`drawing_uri`: what was drawn with it (PRD-70), or None."""

    id: int
    parent_id: int | None
    author: str
    body: str
    frame: int | None
    status: str
    depth: int
    created_at: datetime
    # What was drawn with the note (Drawing JSON) and its flattened PNG; None: not drawn.
    drawing: dict[str, Any] | None = None
    drawing_uri: str | None = None


def add_note(
    conn: psycopg.Connection,
    author: str,
    body: str,
    subject: Subject,
    frame: int | None = None,
    reply_to: int | None = None,
) -> Note:
    """Write a note on a subject (optionally at a frame, or as a reply in a thread)."""
    with writing(conn, {"body": body, "frame": frame}):
        author_id = id_of(conn, "users", author, "user", column="username")
        return one(
            conn,
            Note,
            f"""INSERT INTO notes (author_id, parent_id, body, frame, project_id, character_id,
                                   scene_id, segment_id)
                VALUES (%(author_id)s, %(parent_id)s, %(body)s, %(frame)s, %(project_id)s,
                        %(character_id)s, %(scene_id)s, %(segment_id)s)
                RETURNING {_COLUMNS}""",
            subject.columns(conn)
            | {"author_id": author_id, "parent_id": reply_to, "body": body, "frame": frame},
            "note",
            body[:40],
        )


def notes_on(conn: psycopg.Connection, subject: Subject) -> list[Note]:
    """The notes on one subject, oldest first."""
    return many(
        conn,
        Note,
        f"""SELECT {_COLUMNS} FROM notes
             WHERE project_id IS NOT DISTINCT FROM %(project_id)s
               AND character_id IS NOT DISTINCT FROM %(character_id)s
               AND scene_id IS NOT DISTINCT FROM %(scene_id)s
               AND segment_id IS NOT DISTINCT FROM %(segment_id)s
             ORDER BY created_at, id""",
        subject.columns(conn),
    )


def open_notes_on_takes(conn: psycopg.Connection, scene_ids: list[int]) -> dict[int, list[Note]]:
    """The open notes on each of the takes that has any, oldest first, by scene id."""
    rows = conn.execute(
        f"""SELECT scene_id, {_COLUMNS} FROM notes
             WHERE scene_id = ANY(%s) AND status = 'open' ORDER BY created_at, id""",
        (scene_ids,),
    ).fetchall()
    found: dict[int, list[Note]] = {}
    for scene_id, *values in rows:
        found.setdefault(scene_id, []).append(Note(*values))
    return found


def scene_of_note(conn: psycopg.Connection, note_id: int) -> int | None:
    """The take a note is on (None: no such note, or it is not on a take)."""
    row = conn.execute("SELECT scene_id FROM notes WHERE id = %s", (note_id,)).fetchone()
    return None if row is None else row[0]


def threads_on_take(conn: psycopg.Connection, scene_id: int) -> list[ThreadedNote]:
    """A take's notes in reading order: each thread oldest first, replies under their note."""
    return many(
        conn,
        ThreadedNote,
        """WITH RECURSIVE thread AS (
               SELECT id, parent_id, author_id, body, frame, status, created_at,
                      0 AS depth, ARRAY[id] AS path
                 FROM notes WHERE scene_id = %s AND parent_id IS NULL
               UNION ALL
               SELECT n.id, n.parent_id, n.author_id, n.body, n.frame, n.status, n.created_at,
                      t.depth + 1, t.path || n.id
                 FROM notes n JOIN thread t ON n.parent_id = t.id
           )
           SELECT t.id, t.parent_id, u.username AS author, t.body, t.frame, t.status,
                  t.depth, t.created_at, d.vector AS drawing, d.png_uri AS drawing_uri
             FROM thread t JOIN users u ON u.id = t.author_id
             LEFT JOIN note_drawings d ON d.note_id = t.id
            ORDER BY t.path""",
        (scene_id,),
    )


def set_note_status(conn: psycopg.Connection, note_id: int, status: str) -> Note:
    """Mark a note open or resolved; NotFound when there is no such note."""
    with writing(conn, {"status": status}):
        return one(
            conn,
            Note,
            f"UPDATE notes SET status = %s WHERE id = %s RETURNING {_COLUMNS}",
            (status, note_id),
            "note",
            note_id,
        )
