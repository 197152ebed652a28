"""Models and LoRAs (PRD-104) as the catalog holds them: registered files with their kind
(a ComfyUI model folder), sha256, size, source and stored object; which workers have which
(the `worker_models` view over their health checks); the workflow versions that load one.
trulience/workers/models.py decides."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many, one


@dataclass(frozen=True, slots=True)
class Model:
    id: int
    kind: str
    name: str
    sha256: str
    size: int
    source: str
    uri: str
    created_at: datetime

    @property
    def ref(self) -> str:
        """kind/name, as a workflow's model list and GET /models/<kind> name it."""
        return f"{self.kind}/{self.name}"


_COLUMNS = "id, kind, name, sha256, size, source, uri, created_at"


def model_kinds(conn: psycopg.Connection) -> list[str]:
    """The kinds a model may have (ComfyUI model folders), in order."""
    return [r[0] for r in conn.execute("SELECT code FROM model_kinds ORDER BY position")]


def insert_model(
    conn: psycopg.Connection, kind: str, name: str, sha256: str, size: int, source: str, uri: str
) -> Model:
    with writing(conn, {"kind": kind, "name": name, "sha256": sha256, "source": source}):
        return one(
            conn,
            Model,
            f"""INSERT INTO models (kind, name, sha256, size, source, uri)
                VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
            (kind, name, sha256, size, source, uri),
            "model",
            f"{kind}/{name}",
        )


def find_model(conn: psycopg.Connection, kind: str, name: str) -> Model | None:
    found = many(
        conn, Model, f"SELECT {_COLUMNS} FROM models WHERE kind = %s AND name = %s", (kind, name)
    )
    return found[0] if found else None


def get_model(conn: psycopg.Connection, kind: str, name: str) -> Model:
    model = find_model(conn, kind, name)
    if model is None:
        raise NotFound("model", f"{kind}/{name}")
    return model


def model_with_sha256(conn: psycopg.Connection, sha256: str) -> Model | None:
    found = many(conn, Model, f"SELECT {_COLUMNS} FROM models WHERE sha256 = %s", (sha256,))
    return found[0] if found else None


def list_models(conn: psycopg.Connection, kind: str | None = None) -> list[Model]:
    return many(
        conn,
        Model,
        f"""SELECT {_COLUMNS} FROM models WHERE %(kind)s::text IS NULL OR kind = %(kind)s
             ORDER BY kind, name""",
        {"kind": kind},
    )


def delete_model(conn: psycopg.Connection, model_id: int) -> None:
    with writing(conn):
        conn.execute("DELETE FROM models WHERE id = %s", (model_id,))


def workflows_loading(conn: psycopg.Connection, kind: str, name: str) -> list[str]:
    """'name vN' of every workflow version whose graph loads this model file."""
    rows = conn.execute(
        """SELECT DISTINCT w.name, w.version FROM workflow_models m
             JOIN workflows w ON w.id = m.workflow_id
            WHERE m.folder = %s AND m.filename = %s ORDER BY 1, 2""",
        (kind, name),
    ).fetchall()
    return [f"{n} v{v}" for n, v in rows]


def workers_having(conn: psycopg.Connection) -> dict[tuple[str, str], list[str]]:
    """(kind, name) -> the workers whose last health check listed that file, by name."""
    found: dict[tuple[str, str], list[str]] = {}
    for kind, name, worker in conn.execute(
        "SELECT kind, name, worker FROM worker_models ORDER BY kind, name, worker"
    ):
        found.setdefault((kind, name), []).append(worker)
    return found
