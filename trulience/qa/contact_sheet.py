"""A character's face contact sheet (PRD-103): faces sampled across all its takes, side by
side, so a producer sees identity drift at a glance."""

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import psycopg
from PIL import Image

from trulience.catalog.fetch import id_of
from trulience.media.frames import frame_at
from trulience.media.probe import probe
from trulience.storage import Storage

if TYPE_CHECKING:
    from trulience.faces.model_set import FaceModelSet

TILE = 112
COLUMNS = 8


def face_tile(
    frame: np.ndarray, box: tuple[float, float, float, float], size: int = TILE
) -> Image.Image:
    """A square crop around a face box (with a margin), resized to `size`."""
    x, y, w, h = box
    side = max(w, h) * 1.4
    cx, cy = x + w / 2, y + h / 2
    region = (
        round(cx - side / 2),
        round(cy - side / 2),
        round(cx + side / 2),
        round(cy + side / 2),
    )
    return Image.fromarray(frame).crop(region).resize((size, size))


def contact_sheet(
    conn: psycopg.Connection,
    storage: Storage,
    faces: "FaceModelSet",
    character: str,
    work_dir: Path,
    per_segment: int = 2,
) -> tuple[bytes, int]:
    """PNG of faces from every current segment of every take of `character` (oldest take
    first), and how many faces it holds. NotFound for a character the catalog lacks."""
    id_of(conn, "characters", character, "character")
    rows = conn.execute(
        """SELECT g.uri FROM segments g JOIN scenes s ON s.id = g.scene_id
             JOIN characters c ON c.id = s.character_id
            WHERE c.slug = %s AND g.current ORDER BY s.id, g.index""",
        (character,),
    ).fetchall()
    tiles = []
    work_dir.mkdir(parents=True, exist_ok=True)
    for (uri,) in rows:
        local = storage.local_file(storage.key_of(uri), work_dir)
        count = probe(local).frames
        for k in range(per_segment):
            frame = frame_at(local, min(count - 1, k * count // per_segment))
            found = faces.detector.detect(frame)
            if found:
                tiles.append(face_tile(frame, found[0].box))
    columns = max(1, min(COLUMNS, len(tiles)))
    rows_needed = max(1, -(-len(tiles) // columns))
    sheet = Image.new("RGB", (columns * TILE, rows_needed * TILE), (24, 24, 24))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % columns) * TILE, (i // columns) * TILE))
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue(), len(tiles)
