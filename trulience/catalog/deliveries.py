"""What assembly and delivery record in the catalog: a take's assembled file (the catalog
makes it the take's next revision, trigger of 0014), the project's delivery settings, and
the deliverable a package became."""

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import one


@dataclass(frozen=True, slots=True)
class _Id:
    id: int


def record_assembly(
    conn: psycopg.Connection, scene_id: int, uri: str, sha256: str, frames: int
) -> None:
    """Store the take's assembled video and mark the take assembled."""
    with writing(conn):
        conn.execute(
            "UPDATE scenes SET uri = %s, sha256 = %s, frames = %s, status = 'assembled' "
            "WHERE id = %s",
            (uri, sha256, frames, scene_id),
        )


def project_settings(conn: psycopg.Connection, project_id: int) -> dict[str, Any]:
    """The settings of the take's project (its `delivery_spec`, when it has one)."""
    row = conn.execute("SELECT settings FROM projects WHERE id = %s", (project_id,)).fetchone()
    return row[0]


def record_deliverable(
    conn: psycopg.Connection,
    scene_id: int,
    revision: int,
    status: str,
    uri: str,
    sha256: str,
    manifest: dict[str, Any],
) -> int:
    """Record a packaged (or failed) delivery of a take's revision; its id."""
    with writing(conn):
        return one(
            conn,
            _Id,
            """INSERT INTO deliverables (scene_id, revision, status, uri, sha256, manifest)
                                VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
            (scene_id, revision, status, uri, sha256, Jsonb(manifest)),
            "deliverable",
            scene_id,
        ).id
