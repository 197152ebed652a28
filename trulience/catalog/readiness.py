"""Per-character readiness (PRD-107) and duplicate candidates (PRD-79), read from the
catalog's views and tables."""

from dataclasses import dataclass

import psycopg

from trulience.catalog.errors import InvalidValue, NotFound, writing
from trulience.catalog.fetch import id_of, many, one


@dataclass(frozen=True, slots=True)
class Readiness:
    slug: str
    name: str
    images: int
    images_passed: int
    images_failed: int
    has_primary: bool
    identity_models: list[str]
    variants: int
    open_duplicates: int
    scenes_by_status: dict
    scenes_approved: int
    scenes_delivered: int
    # ready for generation: a passing primary image, an identity, variants, and no
    # unresolved duplicate question (the view's one rule, which the lake reads too)
    ready: bool


_COLUMNS = (
    "slug, name, images, images_passed, images_failed, has_primary, identity_models, "
    "variants, open_duplicates, scenes_by_status, scenes_approved, scenes_delivered, ready"
)


def readiness(conn: psycopg.Connection, slug: str) -> Readiness:
    return one(
        conn,
        Readiness,
        f"SELECT {_COLUMNS} FROM character_readiness WHERE slug = %s",
        (slug,),
        "character",
        slug,
    )


def all_readiness(conn: psycopg.Connection, project: str | None = None) -> list[Readiness]:
    """Every character's readiness (only `project`'s cast when given; NotFound for a
    project the catalog does not hold, rather than an empty list that looks like one)."""
    if project is not None:
        id_of(conn, "projects", project, "project")
    return many(
        conn,
        Readiness,
        f"""SELECT {_COLUMNS} FROM character_readiness r
             WHERE %(p)s::text IS NULL OR EXISTS (
                   SELECT 1 FROM project_characters pc JOIN projects p ON p.id = pc.project_id
                    WHERE pc.character_id = r.character_id AND p.slug = %(p)s)
             ORDER BY slug""",
        {"p": project},
    )


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    id: int
    character: str
    other: str
    model: str
    score: float
    resolution: str


def duplicate_candidates(
    conn: psycopg.Connection, include_resolved: bool = False
) -> list[DuplicateCandidate]:
    """Possible duplicates, highest score first; only open ones unless asked."""
    return many(
        conn,
        DuplicateCandidate,
        """SELECT d.id, a.slug AS character, b.slug AS other, d.model, d.score::float AS score,
                  d.resolution
             FROM duplicate_candidates d
             JOIN characters a ON a.id = d.character_id
             JOIN characters b ON b.id = d.other_character_id
            WHERE %(all)s OR d.resolution = 'open'
            ORDER BY d.score DESC, d.id""",
        {"all": include_resolved},
    )


def resolve_duplicate(
    conn: psycopg.Connection, candidate_id: int, resolution: str, producer: str
) -> None:
    """Settle a duplicate question: 'keep_both' (different people) or 'merged' (the newer
    character folded into the older: its images, projects, tags and notes move over)."""
    if resolution not in ("keep_both", "merged"):
        raise InvalidValue(
            "duplicate candidate", "resolution", resolution, "must be keep_both or merged"
        )
    with writing(conn, {"resolution": resolution}):
        row = conn.execute(
            "SELECT character_id, other_character_id, resolution FROM duplicate_candidates "
            "WHERE id = %s FOR UPDATE",
            (candidate_id,),
        ).fetchone()
        if row is None:
            raise NotFound("duplicate candidate", candidate_id)
        newer, older, current = row
        if current != "open":
            raise InvalidValue("duplicate candidate", "resolution", current, "is already resolved")
        conn.execute(
            "UPDATE duplicate_candidates SET resolution = %s, resolved_by = %s, "
            "resolved_at = now() WHERE id = %s",
            (resolution, producer, candidate_id),
        )
        if resolution == "merged":
            _merge(conn, newer, older)


def _merge(conn: psycopg.Connection, newer: int, older: int) -> None:
    if conn.execute("SELECT 1 FROM scenes WHERE character_id = %s LIMIT 1", (newer,)).fetchone():
        raise InvalidValue(
            "character",
            "scenes",
            None,
            "the character to merge already has scenes; keep both instead",
        )
    # images the older character already has (same bytes) are dropped, the rest move over
    same_bytes = """SELECT s.id FROM source_images s WHERE s.character_id = %(n)s AND EXISTS (
                        SELECT 1 FROM source_images o WHERE o.character_id = %(o)s
                           AND o.sha256 = s.sha256)"""
    conn.execute(
        f"DELETE FROM image_variants WHERE source_image_id IN ({same_bytes})",
        {"n": newer, "o": older},
    )
    conn.execute(
        """DELETE FROM source_images s WHERE s.character_id = %(n)s AND EXISTS (
               SELECT 1 FROM source_images o WHERE o.character_id = %(o)s
                  AND o.sha256 = s.sha256)""",
        {"n": newer, "o": older},
    )
    conn.execute(
        """UPDATE source_images s SET is_primary = false, primary_by = NULL,
                  version = s.version + coalesce((SELECT max(o.version) FROM source_images o
                                                   WHERE o.character_id = %(o)s
                                                     AND o.original_name = s.original_name), 0),
                  character_id = %(o)s
            WHERE s.character_id = %(n)s""",
        {"n": newer, "o": older},
    )
    conn.execute(
        """INSERT INTO project_characters (project_id, character_id)
           SELECT project_id, %(o)s FROM project_characters WHERE character_id = %(n)s
           ON CONFLICT DO NOTHING""",
        {"n": newer, "o": older},
    )
    conn.execute(
        """INSERT INTO entity_tags (tag_id, character_id)
           SELECT tag_id, %(o)s FROM entity_tags WHERE character_id = %(n)s
           ON CONFLICT ON CONSTRAINT entity_tags_once DO NOTHING""",
        {"n": newer, "o": older},
    )
    conn.execute(
        "UPDATE notes SET character_id = %(o)s WHERE character_id = %(n)s", {"n": newer, "o": older}
    )
    conn.execute("DELETE FROM characters WHERE id = %s", (newer,))
