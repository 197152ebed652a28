"""A character's face contact sheet (PRD-103): faces sampled across all its takes, side by
side, so a producer sees identity drift at a glance."""

import io
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from PIL import Image

from trulience.catalog.source_images import current_segment_uris
from trulience.faces.crops import face_tile
from trulience.media.frames import frame_at
from trulience.media.probe import probe
from trulience.storage import Storage

if TYPE_CHECKING:
    from trulience.faces.model_set import FaceModelSet

TILE = 112
COLUMNS = 8


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
    uris = current_segment_uris(conn, character)
    tiles = []
    work_dir.mkdir(parents=True, exist_ok=True)
    for uri in uris:
        local = storage.local_file(storage.key_of(uri), work_dir)
        count = probe(local).frames
        for k in range(per_segment):
            frame = frame_at(local, min(count - 1, k * count // per_segment))
            found = faces.detector.detect(frame)
            if found:
                tiles.append(face_tile(frame, found[0].box, TILE))
    columns = max(1, min(COLUMNS, len(tiles)))
    rows_needed = max(1, -(-len(tiles) // columns))
    sheet = Image.new("RGB", (columns * TILE, rows_needed * TILE), (24, 24, 24))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % columns) * TILE, (i // columns) * TILE))
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue(), len(tiles)
