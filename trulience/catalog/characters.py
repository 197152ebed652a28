"""Characters: the studio-wide library (PRD-60), joined to any number of projects."""

from collections.abc import Iterable

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import ConflictingEdit, NotFound, writing
from trulience.catalog.fetch import id_of, many, one
from trulience.catalog.records import Character, Project

_COLUMNS = "id, slug, name, metadata, metadata_version, created_at, updated_at"
_C_COLUMNS = ", ".join(f"c.{c.strip()}" for c in _COLUMNS.split(","))


def create_character(
    conn: psycopg.Connection,
    slug: str,
    name: str,
    metadata: dict | None = None,
    projects: Iterable[str] = (),
) -> Character:
    """Add a character to the library and to the named projects, all or nothing."""
    with writing(conn, {"slug": slug, "name": name}):
        character = one(
            conn,
            Character,
            f"INSERT INTO characters (slug, name, metadata) VALUES (%s, %s, %s) "
            f"RETURNING {_COLUMNS}",
            (slug, name, Jsonb(metadata or {})),
            "character",
            slug,
        )
        for project in projects:
            add_to_project(conn, project, slug)
    return character


def get_character(conn: psycopg.Connection, slug: str) -> Character:
    return one(
        conn,
        Character,
        f"SELECT {_COLUMNS} FROM characters WHERE slug = %s",
        (slug,),
        "character",
        slug,
    )


def list_characters(
    conn: psycopg.Connection, project: str | None = None, tag: str | None = None
) -> list[Character]:
    """Library characters, optionally only those in a project and/or carrying a tag
    (NotFound for an unknown project: an empty list would read as an empty cast)."""
    if project is not None:
        id_of(conn, "projects", project, "project")
    return many(
        conn,
        Character,
        f"""SELECT {_C_COLUMNS} FROM characters c
             WHERE (%(project)s::text IS NULL OR EXISTS (
                     SELECT 1 FROM project_characters pc JOIN projects p ON p.id = pc.project_id
                      WHERE pc.character_id = c.id AND p.slug = %(project)s))
               AND (%(tag)s::text IS NULL OR EXISTS (
                     SELECT 1 FROM entity_tags et JOIN tags t ON t.id = et.tag_id
                      WHERE et.character_id = c.id AND t.name = %(tag)s))
             ORDER BY c.slug""",
        {"project": project, "tag": tag},
    )


def add_to_project(conn: psycopg.Connection, project: str, character: str) -> None:
    """Make a library character part of a project; already a member is fine."""
    with writing(conn):
        conn.execute(
            "INSERT INTO project_characters (project_id, character_id) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            (
                id_of(conn, "projects", project, "project"),
                id_of(conn, "characters", character, "character"),
            ),
        )


def remove_from_project(conn: psycopg.Connection, project: str, character: str) -> None:
    """Take a character out of a project; refused while the project has scenes of it."""
    with writing(conn):
        conn.execute(
            "DELETE FROM project_characters WHERE project_id = %s AND character_id = %s",
            (
                id_of(conn, "projects", project, "project"),
                id_of(conn, "characters", character, "character"),
            ),
        )


def projects_of(conn: psycopg.Connection, character: str) -> list[Project]:
    """The projects a character belongs to."""
    return many(
        conn,
        Project,
        """SELECT p.id, p.slug, p.name, p.description, p.status, p.settings, p.created_at,
                  p.updated_at
             FROM projects p JOIN project_characters pc ON pc.project_id = p.id
             JOIN characters c ON c.id = pc.character_id
            WHERE c.slug = %s ORDER BY p.slug""",
        (character,),
    )


def update_metadata(
    conn: psycopg.Connection, slug: str, metadata: dict, expected_version: int | None = None
) -> Character:
    """Replace a character's metadata and bump its version.

    With `expected_version`, refuse (ConflictingEdit) if someone changed it since that
    version was read, instead of silently overwriting their edit.
    """
    with writing(conn, {"metadata": metadata}):
        current = one(
            conn,
            Character,
            f"SELECT {_COLUMNS} FROM characters WHERE slug = %s FOR UPDATE",
            (slug,),
            "character",
            slug,
        )
        if expected_version is not None and current.metadata_version != expected_version:
            raise ConflictingEdit(
                f"character {slug!r} metadata is at version {current.metadata_version}, "
                f"not {expected_version}: it was edited meanwhile; reload and reapply"
            )
        if current.metadata == metadata:
            return current
        return one(
            conn,
            Character,
            f"UPDATE characters SET metadata = %s, metadata_version = metadata_version + 1 "
            f"WHERE id = %s RETURNING {_COLUMNS}",
            (Jsonb(metadata), current.id),
            "character",
            slug,
        )


def rename_character(conn: psycopg.Connection, slug: str, name: str) -> Character:
    with writing(conn, {"name": name}):
        return one(
            conn,
            Character,
            f"UPDATE characters SET name = %s WHERE slug = %s RETURNING {_COLUMNS}",
            (name, slug),
            "character",
            slug,
        )


def delete_character(conn: psycopg.Connection, slug: str) -> None:
    """Remove a character from the library; refused while images or scenes refer to it."""
    with writing(conn, {"slug": slug}):
        deleted = conn.execute("DELETE FROM characters WHERE slug = %s", (slug,)).rowcount
    if not deleted:
        raise NotFound("character", slug)
