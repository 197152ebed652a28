"""Scene types: an identity with a parent, and immutable numbered versions of settings."""

from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import id_of, many, one
from trulience.catalog.records import SceneType, SceneTypeVersion

SETTINGS = (
    "workflow_id",
    "prompt_template",
    "negative_prompt",
    "target_duration_s",
    "segment_duration_s",
    "fps",
    "width",
    "height",
    "seed_policy",
    "seed",
    "qa_rules",
    "presets",
    "preset",
    "params",
    "preview",
)
_TYPE_COLUMNS = "id, slug, name, parent_id, created_at"
_VERSION_COLUMNS = "id, scene_type_id, version, " + ", ".join(SETTINGS) + ", created_at"

Setting = str | int | float | Decimal | dict | None


def _check_settings(settings: dict[str, Setting]) -> None:
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise TypeError(f"unknown scene type settings: {', '.join(unknown)}")


def create_scene_type(
    conn: psycopg.Connection, slug: str, name: str, parent: str | None = None, **settings: Setting
) -> SceneTypeVersion:
    """Register a scene type and its version 1; unset settings inherit from `parent`."""
    _check_settings(settings)
    with writing(conn, {"slug": slug, "name": name, **settings}):
        parent_id = id_of(conn, "scene_types", parent, "scene type") if parent else None
        conn.execute(
            "INSERT INTO scene_types (slug, name, parent_id) VALUES (%s, %s, %s)",
            (slug, name, parent_id),
        )
        return add_version(conn, slug, **settings)


def add_version(conn: psycopg.Connection, slug: str, **settings: Setting) -> SceneTypeVersion:
    """Store a new version of a scene type's settings (versions are never edited)."""
    _check_settings(settings)
    row = {name: settings.get(name) for name in SETTINGS}
    for name in ("qa_rules", "presets", "params", "preview"):
        if row[name] is not None:
            row[name] = Jsonb(row[name])
    if row["presets"] is None:
        row["presets"] = Jsonb({})
    with writing(conn, settings):
        type_id = id_of(conn, "scene_types", slug, "scene type")
        conn.execute("SELECT 1 FROM scene_types WHERE id = %s FOR UPDATE", (type_id,))
        placeholders = ", ".join(f"%({name})s" for name in SETTINGS)
        return one(
            conn,
            SceneTypeVersion,
            f"""INSERT INTO scene_type_versions (scene_type_id, version, {", ".join(SETTINGS)})
                SELECT %(type_id)s, coalesce(max(version), 0) + 1, {placeholders}
                  FROM scene_type_versions WHERE scene_type_id = %(type_id)s
                RETURNING {_VERSION_COLUMNS}""",
            row | {"type_id": type_id},
            "scene type",
            slug,
        )


def set_parent(conn: psycopg.Connection, slug: str, parent: str | None) -> SceneType:
    """Change what a scene type inherits from; a cycle is refused by the database."""
    with writing(conn, {"parent_id": parent}):
        parent_id = id_of(conn, "scene_types", parent, "scene type") if parent else None
        return one(
            conn,
            SceneType,
            f"UPDATE scene_types SET parent_id = %s WHERE slug = %s RETURNING {_TYPE_COLUMNS}",
            (parent_id, slug),
            "scene type",
            slug,
        )


def get_scene_type(conn: psycopg.Connection, slug: str) -> SceneType:
    return one(
        conn,
        SceneType,
        f"SELECT {_TYPE_COLUMNS} FROM scene_types WHERE slug = %s",
        (slug,),
        "scene type",
        slug,
    )


def list_scene_types(conn: psycopg.Connection) -> list[SceneType]:
    return many(conn, SceneType, f"SELECT {_TYPE_COLUMNS} FROM scene_types ORDER BY slug")


def latest_version(conn: psycopg.Connection, slug: str) -> SceneTypeVersion:
    """The newest settings version of a scene type."""
    return one(
        conn,
        SceneTypeVersion,
        f"""SELECT {", ".join("v." + c.strip() for c in _VERSION_COLUMNS.split(","))}
              FROM scene_type_versions v JOIN scene_types t ON t.id = v.scene_type_id
             WHERE t.slug = %s ORDER BY v.version DESC LIMIT 1""",
        (slug,),
        "scene type",
        slug,
    )


def scene_type_slug(conn: psycopg.Connection, scene_type_id: int) -> str:
    """The slug of the scene type with this id (a parent is stored by its id)."""
    row = conn.execute("SELECT slug FROM scene_types WHERE id = %s", (scene_type_id,)).fetchone()
    if row is None:
        raise NotFound("scene type", scene_type_id)
    return row[0]


def project_metadata_schemas(conn: psycopg.Connection) -> list[dict | None]:
    """The metadata schema of every project that declares one (a prompt may use its fields)."""
    return [
        schema
        for (schema,) in conn.execute(
            "SELECT settings -> 'metadata_schema' FROM projects WHERE settings ? 'metadata_schema'"
        )
    ]
