"""The version history of a scene type: when each version was stored."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.fetch import many


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
