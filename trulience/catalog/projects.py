"""Projects: the productions a studio runs; characters join them from the library."""

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import Project

_COLUMNS = "id, slug, name, description, status, settings, created_at, updated_at"


def create_project(
    conn: psycopg.Connection,
    slug: str,
    name: str,
    description: str = "",
    settings: dict | None = None,
) -> Project:
    """Register a new project; its slug must be unused."""
    values = {"slug": slug, "name": name, "description": description}
    with writing(conn, values):
        return one(
            conn,
            Project,
            f"INSERT INTO projects (slug, name, description, settings) VALUES (%s, %s, %s, %s) "
            f"RETURNING {_COLUMNS}",
            (slug, name, description, Jsonb(settings or {})),
            "project",
            slug,
        )


def ensure_project(
    conn: psycopg.Connection, slug: str, name: str, description: str = ""
) -> Project:
    """The project with this slug, created if absent (idempotent set-up and demos)."""
    with writing(conn, {"slug": slug, "name": name}):
        conn.execute(
            "INSERT INTO projects (slug, name, description) VALUES (%s, %s, %s) "
            "ON CONFLICT (slug) DO NOTHING",
            (slug, name, description),
        )
    return get_project(conn, slug)


def get_project(conn: psycopg.Connection, slug: str) -> Project:
    return one(
        conn, Project, f"SELECT {_COLUMNS} FROM projects WHERE slug = %s", (slug,), "project", slug
    )


def list_projects(conn: psycopg.Connection, status: str | None = None) -> list[Project]:
    return many(
        conn,
        Project,
        f"SELECT {_COLUMNS} FROM projects WHERE %(status)s::text IS NULL OR status = %(status)s "
        "ORDER BY slug",
        {"status": status},
    )


def set_project_status(conn: psycopg.Connection, slug: str, status: str) -> Project:
    """Move a project to another status (active, archived); unknown statuses are refused."""
    with writing(conn, {"status": status}):
        return one(
            conn,
            Project,
            f"UPDATE projects SET status = %s WHERE slug = %s RETURNING {_COLUMNS}",
            (status, slug),
            "project",
            slug,
        )


def update_settings(conn: psycopg.Connection, slug: str, settings: dict) -> Project:
    """Replace a project's settings (QA thresholds, metadata schema, ...)."""
    with writing(conn, {"settings": settings}):
        return one(
            conn,
            Project,
            f"UPDATE projects SET settings = %s WHERE slug = %s RETURNING {_COLUMNS}",
            (Jsonb(settings), slug),
            "project",
            slug,
        )
