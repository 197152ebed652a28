"""Character identity at onboarding (PRD-76, PRD-79): embed the face of each source image,
calibrate the character's own same-identity band, and flag possible duplicates in the
library. The band's maths is trulience.faces.identity's; the statements are
trulience.catalog.embeddings' and trulience.catalog.duplicates'.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import psycopg

from trulience.catalog.characters import get_character
from trulience.catalog.duplicates import flag_duplicates as record_duplicates
from trulience.catalog.embeddings import (
    Neighbour,
    ensure_face_model,
    nearest_characters,
    store_embedding,
    store_identity,
)
from trulience.catalog.records import SourceImage
from trulience.catalog.source_images import list_source_images
from trulience.faces.identity import IdentityBand, augmentations, identity_band
from trulience.ingest.assess import current_versions
from trulience.ingest.pipeline import ordered_map
from trulience.media.image_decode import load_image
from trulience.storage import Storage

if TYPE_CHECKING:  # annotations only: loading the face models' code costs ~0.5 s
    from trulience.faces.detector import DetectedFace
    from trulience.faces.model_set import FaceModelSet


def register_model(conn: psycopg.Connection, model_set: "FaceModelSet") -> None:
    """Make sure the catalog knows this model and has its partial HNSW index."""
    ensure_face_model(
        conn,
        model_set.code,
        model_set.embedding_dim,
        f"same-identity threshold {model_set.same_identity_threshold}",
    )


def flag_duplicates(
    conn: psycopg.Connection, character: str, model_set: "FaceModelSet", embeddings: np.ndarray
) -> list[Neighbour]:
    """Flag library characters whose faces match this one's above the model threshold."""
    character_id = get_character(conn, character).id
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
    record_duplicates(conn, character_id, model_set.code, [(m.character, m.score) for m in matches])
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

    def crops(image: SourceImage) -> tuple["DetectedFace | None", list[np.ndarray]]:
        # On a worker thread: the face and its augmentations' faces found and aligned.
        pixels = load_image(storage, image).pixels
        detected = faces.detector.detect(pixels)
        if not detected:
            return None, []
        aligned = [faces.recognizer.align_rgb(pixels, detected[0].landmarks)]
        for variant in augmentations(pixels):
            found = faces.detector.detect(variant)
            if found:
                aligned.append(faces.recognizer.align_rgb(variant, found[0].landmarks))
        return detected[0], aligned

    for image, (face, aligned) in zip(images, ordered_map(crops, images), strict=True):
        if face is None:
            continue
        # The photo's face and its augmentations' in one run of the recogniser.
        embeddings = faces.recognizer.embed_aligned(aligned)
        store_embedding(conn, image.id, faces.code, embeddings[0], face.score, face.box)
        originals.append(embeddings[0])
        calibration.extend(embeddings[1:])
    if not originals:
        return IdentityResult(faces.code, 0, None, [])
    centroid, band = identity_band(np.stack(originals + calibration), faces.same_identity_threshold)
    character_id = get_character(conn, character).id
    store_identity(conn, character_id, faces.code, centroid, band)
    duplicates = flag_duplicates(conn, character, faces, np.stack(originals))
    return IdentityResult(faces.code, len(originals), band, duplicates)
