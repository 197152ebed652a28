"""Face embeddings in pgvector (PRD-76, PRD-79): the face models and their partial HNSW
indexes, each source image's embedding, each character's identity band, and the search for
the characters whose faces are nearest to an embedding.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from trulience.catalog.errors import writing

NEIGHBOURS = 20


@dataclass(frozen=True)
class Neighbour:
    """A library character and its best face score against the embedding searched."""

    character: str
    score: float


class Band(Protocol):
    """A character's identity band as stored (trulience.faces.identity.IdentityBand)."""

    samples: int
    same_min: float
    same_p05: float
    same_median: float
    threshold: float


def vector_text(values: np.ndarray) -> str:
    """pgvector's text form of a vector."""
    return "[" + ",".join(f"{v:.7g}" for v in values.tolist()) + "]"


def ensure_face_model(
    conn: psycopg.Connection, code: str, dimension: int, description: str = ""
) -> None:
    """Make sure the catalog knows this model and has its partial HNSW index (the database
    function refuses a known model under another dimension)."""
    with writing(conn):
        conn.execute("SELECT ensure_face_model(%s, %s, %s)", (code, dimension, description))


def store_embedding(
    conn: psycopg.Connection,
    source_image_id: int,
    model: str,
    embedding: np.ndarray,
    score: float,
    box: tuple[float, ...],
) -> None:
    """Record (or replace) the embedding of a source image's face for one model."""
    with writing(conn):
        conn.execute(
            """INSERT INTO face_embeddings (source_image_id, model, embedding, det_score, face_box)
               VALUES (%s, %s, %s::vector, %s, %s)
               ON CONFLICT (source_image_id, model) DO UPDATE
                  SET embedding = EXCLUDED.embedding, det_score = EXCLUDED.det_score,
                      face_box = EXCLUDED.face_box""",
            (
                source_image_id,
                model,
                vector_text(embedding),
                min(max(score, 0.0), 1.0),
                [round(v) for v in box],
            ),
        )


def store_identity(
    conn: psycopg.Connection,
    character_id: int,
    model: str,
    centroid: np.ndarray,
    band: Band,
) -> None:
    """Record (or replace) a character's centroid and identity band for one model."""
    with writing(conn):
        conn.execute(
            """INSERT INTO character_identities (character_id, model, centroid, samples,
                                                 same_min, same_p05, same_median, threshold)
               VALUES (%s, %s, %s::vector, %s, %s, %s, %s, %s)
               ON CONFLICT (character_id, model) DO UPDATE
                  SET centroid = EXCLUDED.centroid, samples = EXCLUDED.samples,
                      same_min = EXCLUDED.same_min, same_p05 = EXCLUDED.same_p05,
                      same_median = EXCLUDED.same_median, threshold = EXCLUDED.threshold""",
            (
                character_id,
                model,
                vector_text(centroid),
                band.samples,
                band.same_min,
                band.same_p05,
                band.same_median,
                band.threshold,
            ),
        )


def set_local(conn: psycopg.Connection, settings: Mapping[str, str]) -> None:
    """Planner settings for the current transaction only (`set_config(..., true)`, as
    SET LOCAL): they end with it."""
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def nearest_characters(
    conn: psycopg.Connection,
    model: str,
    dimension: int,
    embedding: np.ndarray,
    exclude_character_id: int | None = None,
    k: int = NEIGHBOURS,
    exact: bool = False,
    ef_search: int | None = None,
) -> list[Neighbour]:
    """Library characters whose faces are nearest to `embedding`, best score first.

    Uses the model's partial HNSW index (same cast, same model filter); `exact` scans
    instead, for measuring the index's recall.
    """
    cast = f"vector({int(dimension)})"
    query = f"""
        SELECT c.slug, max(1 - (e.embedding::{cast} <=> %(q)s::{cast}))::float AS score
          FROM (SELECT fe.source_image_id, fe.embedding FROM face_embeddings fe
                 WHERE fe.model = %(model)s
                 ORDER BY fe.embedding::{cast} <=> %(q)s::{cast}
                 LIMIT %(k)s) AS e
          JOIN source_images s ON s.id = e.source_image_id
          JOIN characters c ON c.id = s.character_id
         WHERE %(exclude)s::bigint IS NULL OR c.id <> %(exclude)s
         GROUP BY c.slug ORDER BY score DESC"""
    settings = {
        "enable_seqscan": "on" if exact else "off",
        "enable_indexscan": "off" if exact else "on",
    }
    if ef_search is not None:
        settings["hnsw.ef_search"] = str(ef_search)
    with conn.transaction():
        set_local(conn, settings)
        rows = conn.execute(
            query,
            {
                "q": vector_text(embedding),
                "model": model,
                "k": k,
                "exclude": exclude_character_id,
            },
        ).fetchall()
    return [Neighbour(slug, score) for slug, score in rows]


# --- measuring the index: bulk loads, plans and raw searches (benchmarks/ingest.py) -------


def search_statement(model: str, dimension: int, k: int) -> sql.Composed:
    """The k nearest face embeddings of one model to a vector (the statement's one
    parameter), through the model's partial HNSW index unless the planner is told not to."""
    return sql.SQL(
        """SELECT id FROM face_embeddings WHERE model = {model}
                  ORDER BY embedding::vector({dim}) <=> %s::vector({dim})
                  LIMIT {k}"""
    ).format(model=sql.Literal(model), dim=sql.Literal(int(dimension)), k=sql.Literal(int(k)))


def search_embeddings(
    conn: psycopg.Connection, statement: sql.Composed, vector: np.ndarray
) -> list[int]:
    """Ids of the embeddings `statement` (a search_statement) finds for `vector`, planned
    afresh under the transaction's settings (never a cached generic plan)."""
    rows = conn.execute(statement, (vector_text(vector),), prepare=False).fetchall()
    return [r[0] for r in rows]


def explain_search(
    conn: psycopg.Connection, statement: sql.Composed, vector: np.ndarray
) -> list[str]:
    """The plan's lines (COSTS OFF) for `statement` on `vector`."""
    rows = conn.execute(
        sql.SQL("EXPLAIN (COSTS OFF) {}").format(statement), (vector_text(vector),)
    ).fetchall()
    return [r[0] for r in rows]


def load_synthetic_faces(
    conn: psycopg.Connection, model: str, dimension: int, vectors: np.ndarray, per_identity: int
) -> None:
    """Bulk-load synthetic identities for measuring the index, in one transaction: the model
    row (its index is left to ensure_face_model, after the load), characters
    'identity-<i>', `per_identity` source images each, and `vectors` as their embeddings
    (vector i is image i % per_identity of identity i // per_identity), over binary COPY.
    The catalog's triggers stay on (audit log, dimension check)."""
    identities = len(vectors) // per_identity
    with conn.transaction():
        conn.execute(
            "INSERT INTO face_models (code, dimension) VALUES (%s, %s)", (model, dimension)
        )
        conn.execute(
            """INSERT INTO characters (slug, name)
               SELECT 'identity-' || i, 'Identity ' || i FROM generate_series(0, %s - 1) AS i""",
            (identities,),
        )
        conn.execute(
            """INSERT INTO source_images
                   (character_id, original_name, uri, sha256, width, height, format)
               SELECT c.id, 'face-' || n || '.png',
                      'file:///bench/' || c.slug || '/face-' || n || '.png',
                      encode(sha256(convert_to(c.slug || '/' || n, 'UTF8')), 'hex'),
                      1024, 1024, 'PNG'
                 FROM characters c CROSS JOIN generate_series(0, %s - 1) AS n
                WHERE c.slug LIKE 'identity-%%'""",
            (per_identity,),
        )
        image_ids = np.empty(len(vectors), dtype=np.int64)
        for image_id, identity, image in conn.execute(
            """SELECT s.id, substr(c.slug, 10)::int, substr(s.original_name, 6,
                      length(s.original_name) - 9)::int
                 FROM source_images s JOIN characters c ON c.id = s.character_id
                WHERE c.slug LIKE 'identity-%%'"""
        ):
            image_ids[identity * per_identity + image] = image_id
        register_vector(conn)  # numpy arrays go over COPY in pgvector's binary form
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY face_embeddings (source_image_id, model, embedding) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["int8", "text", "vector"])
            for image_id, vector in zip(image_ids.tolist(), vectors, strict=True):
                copy.write_row((image_id, model, vector))


def analyze_faces(conn: psycopg.Connection) -> None:
    """Fresh planner statistics for the tables a face search reads."""
    conn.execute("ANALYZE characters, source_images, face_embeddings")


def synthetic_identity_of_embeddings(conn: psycopg.Connection) -> dict[int, int]:
    """The identity index <i> of every embedding of a character 'identity-<i>', by embedding
    id (see load_synthetic_faces)."""
    rows = conn.execute(
        """SELECT e.id, substr(c.slug, 10)::int FROM face_embeddings e
             JOIN source_images s ON s.id = e.source_image_id
             JOIN characters c ON c.id = s.character_id"""
    )
    return dict(rows.fetchall())


def set_session(conn: psycopg.Connection, name: str, value: str) -> None:
    """A server setting for the rest of the session (`set_config(..., false)`)."""
    conn.execute("SELECT set_config(%s, %s, false)", (name, value))


def show_settings(conn: psycopg.Connection, names: tuple[str, ...]) -> dict[str, str]:
    """The current value of each named server setting."""
    return {
        name: conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0] for name in names
    }


def index_size(conn: psycopg.Connection, index: str) -> str:
    """An index's size on disk, as Postgres prints it (e.g. '62 MB')."""
    return conn.execute(
        "SELECT pg_size_pretty(pg_relation_size(%s::regclass))", (index,)
    ).fetchone()[0]


def pgvector_version(conn: psycopg.Connection) -> str:
    """The installed pgvector extension's version."""
    return conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[
        0
    ]
