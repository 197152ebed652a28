"""Character identity (PRD-76, PRD-79): face embeddings per source image in pgvector, the
character's own same-identity band, and possible duplicates in the library.
"""

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import psycopg
from PIL import Image, ImageEnhance

from trulience.catalog.characters import get_character
from trulience.catalog.errors import writing
from trulience.catalog.source_images import list_source_images
from trulience.ingest.assess import current_versions, load_image
from trulience.storage import Storage

if TYPE_CHECKING:  # annotations only: loading the face models' code costs ~0.5 s
    from trulience.faces.model_set import FaceModelSet

# The character's own threshold sits this far below the 5th percentile of its images'
# similarity to their centroid: tight for characters whose photos agree, looser for ones
# photographed in many conditions, and never below the model's own threshold.
BAND_MARGIN = 0.15
NEIGHBOURS = 20


@dataclass(frozen=True)
class IdentityBand:
    """How similar a character's own faces are to its centroid, and the gate derived."""

    samples: int
    same_min: float
    same_p05: float
    same_median: float
    threshold: float


def register_model(conn: psycopg.Connection, model_set: "FaceModelSet") -> None:
    """Make sure the catalog knows this model and has its partial HNSW index."""
    with writing(conn):
        conn.execute(
            "SELECT ensure_face_model(%s, %s, %s)",
            (
                model_set.code,
                model_set.embedding_dim,
                f"same-identity threshold {model_set.same_identity_threshold}",
            ),
        )


def augmentations(image_rgb: np.ndarray) -> list[np.ndarray]:
    """Mild variations a camera, grade or encoder would make: used to calibrate the band."""
    image = Image.fromarray(image_rgb)
    width, height = image.size
    out = [
        np.asarray(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        np.asarray(ImageEnhance.Brightness(image).enhance(1.25)),
        np.asarray(ImageEnhance.Brightness(image).enhance(0.75)),
        np.asarray(image.rotate(6, resample=Image.Resampling.BILINEAR)),
        np.asarray(image.resize((max(width // 2, 1), max(height // 2, 1)))),
    ]
    jpeg = io.BytesIO()
    image.save(jpeg, format="JPEG", quality=45)
    out.append(np.asarray(Image.open(io.BytesIO(jpeg.getvalue())).convert("RGB")))
    return out


def identity_band(
    embeddings: np.ndarray, model_threshold: float
) -> tuple[np.ndarray, IdentityBand]:
    """Centroid (unit length) of a character's embeddings and the band they span around it."""
    centroid = embeddings.mean(axis=0)
    centroid = centroid / np.linalg.norm(centroid)
    similarities = embeddings @ centroid
    p05 = float(np.percentile(similarities, 5))
    band = IdentityBand(
        samples=len(embeddings),
        same_min=float(similarities.min()),
        same_p05=p05,
        same_median=float(np.median(similarities)),
        threshold=float(min(max(model_threshold, p05 - BAND_MARGIN), 0.95)),
    )
    return centroid, band


def _vector(values: np.ndarray) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values.tolist()) + "]"


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
                _vector(embedding),
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
                _vector(centroid),
                band.samples,
                band.same_min,
                band.same_p05,
                band.same_median,
                band.threshold,
            ),
        )


@dataclass(frozen=True)
class Neighbour:
    character: str
    score: float


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
        for name, value in settings.items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        rows = conn.execute(
            query,
            {"q": _vector(embedding), "model": model, "k": k, "exclude": exclude_character_id},
        ).fetchall()
    return [Neighbour(slug, score) for slug, score in rows]


def flag_duplicates(
    conn: psycopg.Connection, character: str, model_set: "FaceModelSet", embeddings: np.ndarray
) -> list[Neighbour]:
    """Flag library characters whose faces match this one's above the model threshold."""
    character_id = conn.execute(
        "SELECT id FROM characters WHERE slug = %s", (character,)
    ).fetchone()[0]
    best: dict[str, float] = {}
    for embedding in embeddings:
        for neighbour in nearest_characters(
            conn,
            model_set.code,
            model_set.embedding_dim,
            embedding,
            exclude_character_id=character_id,
        ):
            best[neighbour.character] = max(best.get(neighbour.character, -1.0), neighbour.score)
    matches = sorted(
        (Neighbour(c, s) for c, s in best.items() if s >= model_set.same_identity_threshold),
        key=lambda n: -n.score,
    )
    with writing(conn):
        for match in matches:
            conn.execute(
                """INSERT INTO duplicate_candidates (character_id, other_character_id, model, score)
                   SELECT %(me)s, c.id, %(model)s, %(score)s FROM characters c
                    WHERE c.slug = %(other)s
                      AND NOT EXISTS (  -- already flagged the other way round
                          SELECT 1 FROM duplicate_candidates d
                           WHERE d.character_id = c.id AND d.other_character_id = %(me)s
                             AND d.model = %(model)s)
                   ON CONFLICT (character_id, other_character_id, model) DO UPDATE
                      SET score = EXCLUDED.score""",
                {
                    "me": character_id,
                    "model": model_set.code,
                    "score": min(match.score, 1.0),
                    "other": match.character,
                },
            )
    return matches


@dataclass(frozen=True)
class IdentityResult:
    model: str
    images: int
    band: IdentityBand | None
    duplicates: list[Neighbour]


def embed_character(
    conn: psycopg.Connection, storage: Storage, faces: "FaceModelSet", character: str
) -> IdentityResult:
    """Embed the face of every current image that passed QA, calibrate the character's
    identity band from them and their augmentations, and flag possible duplicates."""
    register_model(conn, faces)
    originals, calibration = [], []
    images = [
        i for i in current_versions(list_source_images(conn, character)) if i.qa_status == "passed"
    ]
    for image in images:
        pixels = load_image(storage, image).pixels
        detected = faces.detector.detect(pixels)
        if not detected:
            continue
        embedding = faces.recognizer.embed(pixels, detected[:1])[0]
        store_embedding(conn, image.id, faces.code, embedding, detected[0].score, detected[0].box)
        originals.append(embedding)
        for variant in augmentations(pixels):
            found = faces.detector.detect(variant)
            if found:
                calibration.append(faces.recognizer.embed(variant, found[:1])[0])
    if not originals:
        return IdentityResult(faces.code, 0, None, [])
    centroid, band = identity_band(np.stack(originals + calibration), faces.same_identity_threshold)
    character_id = get_character(conn, character).id
    store_identity(conn, character_id, faces.code, centroid, band)
    duplicates = flag_duplicates(conn, character, faces, np.stack(originals))
    return IdentityResult(faces.code, len(originals), band, duplicates)
