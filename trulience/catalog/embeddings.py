"""Face embeddings in pgvector (PRD-76, PRD-79): the face models and their partial HNSW
indexes, each source image's embedding, each character's identity band, and the search for
the characters whose faces are nearest to an embedding.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import psycopg

from trulience.catalog.errors import writing
from trulience.faces.identity import IdentityBand

NEIGHBOURS = 20


@dataclass(frozen=True)
class Neighbour:
    """A library character and its best face score against the embedding searched."""

    character: str
    score: float


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
    band: IdentityBand,
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
