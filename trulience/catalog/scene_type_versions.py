"""The version history of a scene type: when each version was stored, and any version's
settings as stored (for a diff between two versions and a rollback)."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.fetch import many, one
from trulience.catalog.records import SceneTypeVersion
from trulience.catalog.scene_types import _VERSION_COLUMNS

_QUALIFIED = ", ".join("v." + c.strip() for c in _VERSION_COLUMNS.split(","))


@dataclass(frozen=True)
class VersionStamp:
    """One stored version of a scene type, by number, with when it was stored."""

    version: int
    created_at: datetime


def version_history(conn: psycopg.Connection, scene_type_id: int) -> list[VersionStamp]:
    """Every version of the scene type, oldest first."""
    return many(
        conn,
        VersionStamp,
        "SELECT version, created_at FROM scene_type_versions WHERE scene_type_id = %s "
        "ORDER BY version",
        (scene_type_id,),
    )


def scene_type_version(conn: psycopg.Connection, slug: str, version: int) -> SceneTypeVersion:
    """Version `version` of scene type `slug`, every setting as stored (NotFound otherwise)."""
    return one(
        conn,
        SceneTypeVersion,
        f"""SELECT {_QUALIFIED}
              FROM scene_type_versions v JOIN scene_types t ON t.id = v.scene_type_id
             WHERE t.slug = %s AND v.version = %s""",
        (slug, version),
        "scene type version",
        f"{slug} v{version}",
    )


def scene_type_versions(conn: psycopg.Connection, slug: str) -> list[SceneTypeVersion]:
    """Every version of scene type `slug`, oldest first, every setting as stored."""
    return many(
        conn,
        SceneTypeVersion,
        f"""SELECT {_QUALIFIED}
              FROM scene_type_versions v JOIN scene_types t ON t.id = v.scene_type_id
             WHERE t.slug = %s ORDER BY v.version""",
        (slug,),
    )
