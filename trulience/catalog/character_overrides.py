"""Per-character overrides of scene-type settings (PRD-108, migration 0040)."""

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import id_of


def overrides_of(conn: psycopg.Connection, character: str) -> dict[str, dict[str, Any]]:
    """A character's overrides by scene type slug (NotFound for an unknown character)."""
    character_id = id_of(conn, "characters", character, "character")
    rows = conn.execute(
        """SELECT st.slug, o.settings FROM character_scene_overrides o
             JOIN scene_types st ON st.id = o.scene_type_id
            WHERE o.character_id = %s ORDER BY st.slug""",
        (character_id,),
    ).fetchall()
    return {slug: settings for slug, settings in rows}


def override_for(conn: psycopg.Connection, character: str, scene_type: str) -> dict[str, Any]:
    """The settings `character` overrides in `scene_type` (empty when none)."""
    row = conn.execute(
        """SELECT o.settings FROM character_scene_overrides o
             JOIN characters c ON c.id = o.character_id
             JOIN scene_types st ON st.id = o.scene_type_id
            WHERE c.slug = %s AND st.slug = %s""",
        (character, scene_type),
    ).fetchone()
    return row[0] if row else {}


def set_override(
    conn: psycopg.Connection, character: str, scene_type: str, settings: dict[str, Any]
) -> None:
    """Store `character`'s overrides of `scene_type` (already checked); empty removes them."""
    with writing(conn, {"settings": settings}):
        character_id = id_of(conn, "characters", character, "character")
        scene_type_id = id_of(conn, "scene_types", scene_type, "scene type")
        if not settings:
            conn.execute(
                "DELETE FROM character_scene_overrides WHERE character_id = %s "
                "AND scene_type_id = %s",
                (character_id, scene_type_id),
            )
            return
        conn.execute(
            """INSERT INTO character_scene_overrides (character_id, scene_type_id, settings)
               VALUES (%s, %s, %s)
               ON CONFLICT ON CONSTRAINT character_scene_overrides_once
               DO UPDATE SET settings = EXCLUDED.settings""",
            (character_id, scene_type_id, Jsonb(settings)),
        )
