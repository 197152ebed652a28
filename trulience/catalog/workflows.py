"""ComfyUI workflows (API format), content-addressed and versioned, with the slots that
bind a segment request into them and the model files they load (PRD-17)."""

import hashlib
import json

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import Workflow

_COLUMNS = "id, name, version, sha256, graph, slots, description, created_at"


def graph_sha256(graph: dict) -> str:
    """The content hash of a workflow graph (key order does not matter)."""
    return hashlib.sha256(
        json.dumps(graph, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def add_workflow(
    conn: psycopg.Connection,
    name: str,
    graph: dict,
    description: str = "",
    slots: dict | None = None,
) -> Workflow:
    """Register a workflow graph (and its slots); the same graph and slots under the same
    name are the same version, a change becomes the next version."""
    sha = graph_sha256({"graph": graph, "slots": slots}) if slots else graph_sha256(graph)
    with writing(conn, {"name": name}):
        existing = many(
            conn,
            Workflow,
            f"SELECT {_COLUMNS} FROM workflows WHERE name = %s AND sha256 = %s",
            (name, sha),
        )
        if existing:
            return existing[0]
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"workflow:{name}",))
        return one(
            conn,
            Workflow,
            f"""INSERT INTO workflows (name, version, sha256, graph, slots, description)
                SELECT %(name)s, coalesce(max(version), 0) + 1, %(sha)s, %(graph)s, %(slots)s,
                       %(desc)s
                  FROM workflows WHERE name = %(name)s
                RETURNING {_COLUMNS}""",
            {
                "name": name,
                "sha": sha,
                "graph": Jsonb(graph),
                "slots": Jsonb(slots or {}),
                "desc": description,
            },
            "workflow",
            name,
        )


def record_models(
    conn: psycopg.Connection, workflow_id: int, models: list[tuple[str, str, str, str]]
) -> None:
    """The model files a workflow version loads: (folder, filename, node id, input name)."""
    with writing(conn):
        for folder, filename, node_id, input_name in models:
            conn.execute(
                """INSERT INTO workflow_models (workflow_id, folder, filename, node_id, input_name)
                   VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
                (workflow_id, folder, filename, node_id, input_name),
            )


def workflow_models(conn: psycopg.Connection, workflow_id: int) -> list[tuple[str, str]]:
    """(folder, filename) of every model a workflow version loads."""
    return conn.execute(
        "SELECT DISTINCT folder, filename FROM workflow_models WHERE workflow_id = %s "
        "ORDER BY 1, 2",
        (workflow_id,),
    ).fetchall()


def scene_types_using(conn: psycopg.Connection, name: str) -> list[tuple[str, int]]:
    """(scene type slug, scene type version) of every version that uses this workflow."""
    return conn.execute(
        """SELECT t.slug, v.version FROM scene_type_versions v
             JOIN scene_types t ON t.id = v.scene_type_id
             JOIN workflows w ON w.id = v.workflow_id
            WHERE w.name = %s ORDER BY 1, 2""",
        (name,),
    ).fetchall()


def get_workflow(conn: psycopg.Connection, name: str, version: int | None = None) -> Workflow:
    """A workflow by name: the given version, or the newest."""
    return one(
        conn,
        Workflow,
        f"""SELECT {_COLUMNS} FROM workflows
             WHERE name = %(name)s AND (%(v)s::int IS NULL OR version = %(v)s)
             ORDER BY version DESC LIMIT 1""",
        {"name": name, "v": version},
        "workflow",
        name if version is None else f"{name} v{version}",
    )


def workflow_by_id(conn: psycopg.Connection, workflow_id: int) -> Workflow:
    return one(
        conn,
        Workflow,
        f"SELECT {_COLUMNS} FROM workflows WHERE id = %s",
        (workflow_id,),
        "workflow",
        workflow_id,
    )


def list_workflows(conn: psycopg.Connection) -> list[Workflow]:
    return many(conn, Workflow, f"SELECT {_COLUMNS} FROM workflows ORDER BY name, version")


def set_workflow_warnings(conn: psycopg.Connection, workflow_id: int, warnings: list[str]) -> None:
    """Record what registering a workflow version warned about (replacing earlier warnings)."""
    with writing(conn):
        conn.execute(
            "UPDATE workflows SET warnings = %s WHERE id = %s", (Jsonb(warnings), workflow_id)
        )


def workflow_warnings(conn: psycopg.Connection, workflow_id: int) -> list[str]:
    """What registering this workflow version warned about."""
    row = conn.execute("SELECT warnings FROM workflows WHERE id = %s", (workflow_id,)).fetchone()
    return list(row[0]) if row else []
