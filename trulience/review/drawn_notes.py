"""Keeping a note's drawing (PRD-70): the take's frame decoded at the drawing's frame, the
drawing flattened over it and stored beside the take (`.../notes/<note id>.png`), the
vector data recorded in the catalog. The review service calls these inside the note's
transaction, so a drawing that cannot be kept leaves no note behind."""

import posixpath
import tempfile
from dataclasses import dataclass
from typing import Any

import psycopg

from trulience.catalog import drawings as catalog_drawings
from trulience.catalog import scenes as scene_repo
from trulience.catalog.errors import InvalidValue
from trulience.media.frames import FrameOutOfRange, frame_at
from trulience.review.drawings import Drawing, flatten, parse_drawing
from trulience.storage import Storage, StoredObject

# How far a drawing's frame shape may differ from the take's (proxies round to even sizes).
ASPECT_TOLERANCE = 0.02


@dataclass(frozen=True)
class Flattened:
    """A checked drawing, the frame it is on, and its PNG over the take's frame."""

    drawing: Drawing
    frame: int
    png: bytes


def flatten_on_take(
    conn: psycopg.Connection,
    storage: Storage | None,
    scene_id: int,
    drawing: dict[str, Any] | str,
    frame: int | None,
) -> Flattened:
    """Check `drawing` against the note's `frame` (None: the drawing's own) and flatten it
    over that frame of the take's video; InvalidDrawing / InvalidValue say what is wrong."""
    checked = parse_drawing(drawing)
    if frame is not None and frame != checked.frame:
        raise InvalidValue(
            "note", "drawing", None, f"is of frame {checked.frame}, but the note is at {frame}"
        )
    if storage is None:
        raise InvalidValue("note", "drawing", None, "needs the storage to keep its picture in")
    take = scene_repo.get_take(conn, scene_id)
    if take.uri is None:
        raise InvalidValue("note", "drawing", None, f"take {take.take} has no video to draw on")
    with tempfile.TemporaryDirectory(prefix="trulience-drawing-") as scratch:
        video = storage.local_file(storage.key_of(take.uri), scratch)
        try:
            picture = frame_at(video, checked.frame)
        except FrameOutOfRange as error:
            raise InvalidValue("note", "frame", checked.frame, error.reason) from error
    height, width = picture.shape[:2]
    # Normalised coordinates fit any size of the same picture (proxy or full size), but a
    # drawing made on another shape of frame would land distorted.
    if abs(checked.width / checked.height - width / height) > ASPECT_TOLERANCE * width / height:
        raise InvalidValue(
            "note",
            "drawing",
            None,
            f"was drawn on a {checked.width}×{checked.height} frame, "
            f"but take {take.take} is {width}×{height}",
        )
    return Flattened(checked, checked.frame, flatten(picture, checked))


def png_key(storage: Storage, take_uri: str, note_id: int) -> str:
    """Where a note's flattened drawing is stored: beside the take's video."""
    folder = posixpath.dirname(storage.key_of(take_uri))
    return posixpath.join(folder, "notes", f"{note_id}.png") if folder else f"notes/{note_id}.png"


def keep_drawing(
    conn: psycopg.Connection, storage: Storage, scene_id: int, note_id: int, made: Flattened
) -> catalog_drawings.NoteDrawing:
    """Store the PNG, then record the drawing; the PNG is removed again if the catalog
    refuses, so storage holds no picture of a note that does not exist."""
    take = scene_repo.get_take(conn, scene_id)
    stored: StoredObject = storage.put_bytes(png_key(storage, take.uri, note_id), made.png)
    try:
        return catalog_drawings.add_drawing(
            conn, note_id, made.frame, made.drawing.to_json(), stored.uri, stored.sha256
        )
    except BaseException:
        storage.delete(stored.key)
        raise
