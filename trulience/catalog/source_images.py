"""Source images of a character: versioned, never overwritten, one primary."""

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import id_of, many, one
from trulience.catalog.records import SourceImage

_COLUMNS = (
    "id, character_id, original_name, version, uri, sha256, width, height, format, "
    "qa_status, qa, is_primary, created_at"
)


def add_source_image(
    conn: psycopg.Connection,
    character: str,
    original_name: str,
    uri: str,
    sha256: str,
    width: int,
    height: int,
    format: str,
) -> SourceImage:
    """Record a stored image; a new file under a known name becomes its next version.

    The same bytes twice for one character are refused (AlreadyExists on sha256).
    """
    values = {
        "original_name": original_name,
        "uri": uri,
        "sha256": sha256,
        "width": width,
        "height": height,
        "format": format,
    }
    with writing(conn, values):
        character_id = id_of(conn, "characters", character, "character")
        # Serialise version numbering per character.
        conn.execute("SELECT 1 FROM characters WHERE id = %s FOR UPDATE", (character_id,))
        return one(
            conn,
            SourceImage,
            f"""INSERT INTO source_images
                    (character_id, original_name, version, uri, sha256, width, height, format)
                SELECT %(character_id)s, %(original_name)s,
                       coalesce(max(version), 0) + 1, %(uri)s, %(sha256)s, %(width)s,
                       %(height)s, %(format)s
                  FROM source_images
                 WHERE character_id = %(character_id)s AND original_name = %(original_name)s
                RETURNING {_COLUMNS}""",
            values | {"character_id": character_id},
            "source image",
            original_name,
        )


def list_source_images(conn: psycopg.Connection, character: str) -> list[SourceImage]:
    """Every image version of a character, oldest first (NotFound for an unknown one)."""
    id_of(conn, "characters", character, "character")
    return many(
        conn,
        SourceImage,
        f"SELECT {', '.join('s.' + c.strip() for c in _COLUMNS.split(','))} "
        "FROM source_images s JOIN characters c ON c.id = s.character_id "
        "WHERE c.slug = %s ORDER BY s.original_name, s.version",
        (character,),
    )


def set_primary(
    conn: psycopg.Connection, character: str, image_id: int, by: str = "producer"
) -> SourceImage:
    """Make one image the character's primary (the seed of its scenes); `by` is 'producer'
    (a choice QA will keep) or 'qa' (the automatic best-score choice)."""
    with writing(conn, {"primary_by": by}):
        character_id = id_of(conn, "characters", character, "character")
        image = one(
            conn,
            SourceImage,
            f"SELECT {_COLUMNS} FROM source_images WHERE id = %s AND character_id = %s",
            (image_id, character_id),
            "source image",
            image_id,
        )
        conn.execute(
            "UPDATE source_images SET is_primary = false, primary_by = NULL "
            "WHERE character_id = %s AND is_primary",
            (character_id,),
        )
        conn.execute(
            "UPDATE source_images SET is_primary = true, primary_by = %s WHERE id = %s",
            (by, image.id),
        )
    return one(
        conn,
        SourceImage,
        f"SELECT {_COLUMNS} FROM source_images WHERE id = %s",
        (image_id,),
        "source image",
        image_id,
    )


def primary_chosen_by(conn: psycopg.Connection, character: str) -> str | None:
    """'producer', 'qa', or None when the character has no primary image yet."""
    row = conn.execute(
        "SELECT s.primary_by FROM source_images s JOIN characters c ON c.id = s.character_id "
        "WHERE c.slug = %s AND s.is_primary",
        (character,),
    ).fetchone()
    return row[0] if row else None


def record_qa(conn: psycopg.Connection, image_id: int, passed: bool, qa: dict) -> None:
    """Store an image's QA verdict and measurements."""
    with writing(conn):
        conn.execute(
            "UPDATE source_images SET qa_status = %s, qa = %s WHERE id = %s",
            ("passed" if passed else "failed", Jsonb(qa), image_id),
        )


def current_segment_uris(conn: psycopg.Connection, character: str) -> list[str]:
    """The URI of every current segment of every take of a character, oldest take first and
    in segment order (what its face contact sheet samples); NotFound for an unknown one."""
    id_of(conn, "characters", character, "character")
    rows = conn.execute(
        """SELECT g.uri FROM segments g JOIN scenes s ON s.id = g.scene_id
             JOIN characters c ON c.id = s.character_id
            WHERE c.slug = %s AND g.current ORDER BY s.id, g.index""",
        (character,),
    ).fetchall()
    return [uri for (uri,) in rows]
