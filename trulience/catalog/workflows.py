"""ComfyUI workflows (API format), content-addressed and versioned (PRD-17 starts here)."""

import hashlib
import json

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import Workflow

_COLUMNS = "id, name, version, sha256, graph, description, created_at"


def graph_sha256(graph: dict) -> str:
    """The content hash of a workflow graph (key order does not matter)."""
    return hashlib.sha256(
        json.dumps(graph, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def add_workflow(
    conn: psycopg.Connection, name: str, graph: dict, description: str = ""
) -> Workflow:
    """Register a workflow graph; the same graph under the same name is the same version,
    a changed graph becomes the next version."""
    sha = graph_sha256(graph)
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
            f"""INSERT INTO workflows (name, version, sha256, graph, description)
                SELECT %(name)s, coalesce(max(version), 0) + 1, %(sha)s, %(graph)s, %(desc)s
                  FROM workflows WHERE name = %(name)s
                RETURNING {_COLUMNS}""",
            {"name": name, "sha": sha, "graph": Jsonb(graph), "desc": description},
            "workflow",
            name,
        )


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
