"""Image variants of a character's source images (PRD-21): the sizes scene types ask for,
and the stored crops and padded frames."""

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing


def scene_type_sizes(conn: psycopg.Connection) -> list[tuple[int, int]]:
    """Every width x height a scene type's newest version asks for."""
    rows = conn.execute(
        """SELECT DISTINCT v.width, v.height FROM scene_type_versions v
            WHERE v.width IS NOT NULL AND v.height IS NOT NULL
              AND v.version = (SELECT max(version) FROM scene_type_versions w
                                WHERE w.scene_type_id = v.scene_type_id)"""
    ).fetchall()
    return [(w, h) for w, h in rows]


def record_variant(
    conn: psycopg.Connection,
    source_image_id: int,
    kind: str,
    width: int,
    height: int,
    params: dict[str, Any],
    uri: str,
    sha256: str,
) -> None:
    """Record (or replace) one stored variant of a source image."""
    with writing(conn, {"width": width, "height": height}):
        conn.execute(
            """INSERT INTO image_variants (source_image_id, kind, width, height, params, uri,
                                           sha256)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (source_image_id, kind, width, height) DO UPDATE
                  SET params = EXCLUDED.params, uri = EXCLUDED.uri,
                      sha256 = EXCLUDED.sha256""",
            (source_image_id, kind, width, height, Jsonb(params), uri, sha256),
        )
