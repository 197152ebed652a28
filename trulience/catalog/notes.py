"""Production notes on any entity, threaded, searchable (PRD-95; review notes build on it)."""

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import id_of, many, one
from trulience.catalog.records import Note
from trulience.catalog.tags import Subject

_COLUMNS = "id, author_id, parent_id, body, status, frame, created_at"


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
