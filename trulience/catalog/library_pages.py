"""The library as pages (issue 17): characters filtered by tag, readiness, project and text,
sorted and read one page at a time, so 10,000 characters cost what one page costs; and
what a character page shows beside its record (takes per scene type, identity bands)."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.errors import NotFound
from trulience.catalog.fetch import id_of, many

# sort name → ORDER BY (each ends on the slug, so a page's order is total)
SORTS = {
    "slug": "c.slug",
    "name": "c.name, c.slug",
    "updated": "c.updated_at DESC, c.slug",
    "ready": "r.ready DESC, c.slug",
}
READINESS = ("any", "ready", "not ready")


@dataclass(frozen=True, slots=True)
class LibraryFilter:
    """What the library shows: tag, readiness ('any', 'ready', 'not ready'), project and
    text (in slug or name), sorted by one of SORTS."""

    tag: str | None = None
    readiness: str = "any"
    project: str | None = None
    text: str = ""
    sort: str = "slug"


@dataclass(frozen=True, slots=True)
class LibraryRow:
    slug: str
    name: str
    ready: bool
    images: int
    images_passed: int
    projects: list[str]
    tags: list[str]
    updated_at: datetime


def _where(conn: psycopg.Connection, wanted: LibraryFilter) -> tuple[str, dict]:
    if wanted.project is not None:
        id_of(conn, "projects", wanted.project, "project")  # an unknown project is NotFound
    if wanted.readiness not in READINESS:
        raise ValueError(f"readiness must be one of {', '.join(READINESS)}")
    text = wanted.text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    where = """(%(project)s::text IS NULL OR EXISTS (
                   SELECT 1 FROM project_characters pc JOIN projects p ON p.id = pc.project_id
                    WHERE pc.character_id = c.id AND p.slug = %(project)s))
           AND (%(tag)s::text IS NULL OR EXISTS (
                   SELECT 1 FROM entity_tags et JOIN tags t ON t.id = et.tag_id
                    WHERE et.character_id = c.id AND t.name = %(tag)s))
           AND (%(text)s = '' OR c.slug ILIKE '%%' || %(text)s || '%%'
                OR c.name ILIKE '%%' || %(text)s || '%%')
           AND (%(readiness)s = 'any' OR r.ready = (%(readiness)s = 'ready'))"""
    return where, {
        "project": wanted.project,
        "tag": wanted.tag,
        "text": text,
        "readiness": wanted.readiness,
    }


_FROM = "characters c JOIN character_readiness r ON r.character_id = c.id"


def count_characters(conn: psycopg.Connection, wanted: LibraryFilter) -> int:
    """How many characters `wanted` matches."""
    where, args = _where(conn, wanted)
    return conn.execute(f"SELECT count(*) FROM {_FROM} WHERE {where}", args).fetchone()[0]


def library_page(
    conn: psycopg.Connection, wanted: LibraryFilter, offset: int, limit: int
) -> list[LibraryRow]:
    """One page of the characters `wanted` matches, in its sort order."""
    if wanted.sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    where, args = _where(conn, wanted)
    return many(
        conn,
        LibraryRow,
        f"""SELECT c.slug, c.name, r.ready, r.images::int AS images,
                   r.images_passed::int AS images_passed,
                   ARRAY(SELECT p.slug FROM project_characters pc
                           JOIN projects p ON p.id = pc.project_id
                          WHERE pc.character_id = c.id ORDER BY p.slug) AS projects,
                   ARRAY(SELECT t.name FROM entity_tags et JOIN tags t ON t.id = et.tag_id
                          WHERE et.character_id = c.id ORDER BY t.name) AS tags,
                   c.updated_at
              FROM {_FROM} WHERE {where}
             ORDER BY {SORTS[wanted.sort]} LIMIT %(limit)s OFFSET %(offset)s""",
        {**args, "limit": limit, "offset": max(0, offset)},
    )


def matching_slugs(conn: psycopg.Connection, wanted: LibraryFilter) -> list[str]:
    """Every slug `wanted` matches (what "select all matching" selects), in slug order."""
    where, args = _where(conn, wanted)
    rows = conn.execute(f"SELECT c.slug FROM {_FROM} WHERE {where} ORDER BY c.slug", args)
    return [slug for (slug,) in rows.fetchall()]


@dataclass(frozen=True, slots=True)
class CharacterTake:
    scene_id: int
    scene_type: str
    project: str
    take: int
    branch: str
    status: str
    decision: str | None
    created_at: datetime


def takes_of(conn: psycopg.Connection, character: str, limit: int = 200) -> list[CharacterTake]:
    """A character's takes, by scene type then newest first, with their current review
    decision (None while undecided)."""
    character_id = id_of(conn, "characters", character, "character")
    return many(
        conn,
        CharacterTake,
        """SELECT s.id AS scene_id, st.slug AS scene_type, p.slug AS project, s.take,
                  s.branch, s.status, td.decision, s.created_at
             FROM scenes s JOIN scene_types st ON st.id = s.scene_type_id
             JOIN projects p ON p.id = s.project_id
             LEFT JOIN take_decisions td ON td.scene_id = s.id
            WHERE s.character_id = %s
            ORDER BY st.slug, s.created_at DESC, s.id DESC LIMIT %s""",
        (character_id, limit),
    )


@dataclass(frozen=True, slots=True)
class IdentityBand:
    """A character's identity under one face model: how alike its own images are (minimum,
    5th percentile, median) and the threshold a take's frames must clear."""

    model: str
    samples: int
    same_min: float
    same_p05: float
    same_median: float
    threshold: float


def identity_bands(conn: psycopg.Connection, character: str) -> list[IdentityBand]:
    """The identity band of a character under each face model it has one for."""
    character_id = id_of(conn, "characters", character, "character")
    return many(
        conn,
        IdentityBand,
        """SELECT model, samples, same_min::float AS same_min, same_p05::float AS same_p05,
                  same_median::float AS same_median, threshold::float AS threshold
             FROM character_identities WHERE character_id = %s ORDER BY model""",
        (character_id,),
    )


def scene_type_slugs(conn: psycopg.Connection) -> list[str]:
    """Every scene type, by slug (what a character may override)."""
    return [s for (s,) in conn.execute("SELECT slug FROM scene_types ORDER BY slug").fetchall()]


@dataclass(frozen=True, slots=True)
class EditableCharacter:
    """What a metadata edit needs of a character: its metadata, version, and the settings
    of its first project (whose schema applies; None for a character in no project)."""

    slug: str
    metadata: dict
    metadata_version: int
    project_settings: dict | None


def editable_characters(conn: psycopg.Connection, slugs: list[str]) -> list[EditableCharacter]:
    """The characters named, in the order given; NotFound naming the first unknown slug."""
    found = many(
        conn,
        EditableCharacter,
        """SELECT c.slug, c.metadata, c.metadata_version,
                  (SELECT p.settings FROM project_characters pc
                     JOIN projects p ON p.id = pc.project_id
                    WHERE pc.character_id = c.id ORDER BY p.slug LIMIT 1) AS project_settings
             FROM characters c WHERE c.slug = ANY(%s)""",
        (list(slugs),),
    )
    by_slug = {c.slug: c for c in found}
    for slug in slugs:
        if slug not in by_slug:
            raise NotFound("character", slug)
    return [by_slug[s] for s in slugs]


def characters_tagged(conn: psycopg.Connection, slugs: list[str], name: str) -> set[str]:
    """Which of the characters named carry tag `name`."""
    rows = conn.execute(
        """SELECT c.slug FROM characters c JOIN entity_tags et ON et.character_id = c.id
             JOIN tags t ON t.id = et.tag_id WHERE c.slug = ANY(%s) AND t.name = %s""",
        (slugs, name),
    ).fetchall()
    return {slug for (slug,) in rows}
