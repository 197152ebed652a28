"""Drawn notes (PRD-70): a note's drawing as vector data and the URI of its flattened PNG."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one

_COLUMNS = "id, note_id, frame, vector, png_uri, png_sha256, created_at"


@dataclass(frozen=True, slots=True)
class NoteDrawing:
    """What was drawn with a note: the Drawing JSON and its flattened PNG."""

    id: int
    note_id: int
    frame: int
    vector: dict[str, Any]
    png_uri: str
    png_sha256: str
    created_at: datetime


def add_drawing(
    conn: psycopg.Connection,
    note_id: int,
    frame: int,
    vector: dict[str, Any],
    png_uri: str,
    png_sha256: str,
) -> NoteDrawing:
    """Record a note's drawing (checked Drawing JSON) and where its PNG is stored."""
    with writing(conn, {"frame": frame, "png_uri": png_uri}):
        return one(
            conn,
            NoteDrawing,
            f"""INSERT INTO note_drawings (note_id, frame, vector, png_uri, png_sha256)
                VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
            (note_id, frame, Jsonb(vector), png_uri, png_sha256),
            "note",
            note_id,
        )


def drawings_on_take(conn: psycopg.Connection, scene_id: int) -> list[NoteDrawing]:
    """The drawings of a take's notes, in the order the notes were written."""
    return many(
        conn,
        NoteDrawing,
        f"""SELECT {", ".join("d." + c.strip() for c in _COLUMNS.split(","))}
              FROM note_drawings d JOIN notes n ON n.id = d.note_id
             WHERE n.scene_id = %s ORDER BY n.created_at, n.id""",
        (scene_id,),
    )
