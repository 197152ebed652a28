"""Source image QA over a character's images (PRD-22), and the choice of its primary."""

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import psycopg

from trulience.catalog.characters import projects_of
from trulience.catalog.records import SourceImage
from trulience.catalog.source_images import (
    list_source_images,
    primary_chosen_by,
    record_qa,
    set_primary,
)
from trulience.ingest.pipeline import analyse_images
from trulience.media.image_decode import DecodedImage, load_image
from trulience.qa.image_checks import ImageQAResult, QAThresholds
from trulience.storage import Storage

if TYPE_CHECKING:  # annotations only: loading the face models' code costs ~0.5 s
    from trulience.faces.detector import DetectedFace
    from trulience.faces.model_set import FaceModelSet


@dataclass(frozen=True)
class Assessment:
    image: SourceImage
    passed: bool
    score: float
    failures: tuple[str, ...]


def current_versions(images: list[SourceImage]) -> list[SourceImage]:
    """The newest version of each source image name (older versions are superseded)."""
    newest: dict[str, SourceImage] = {}
    for image in images:
        if image.original_name not in newest or image.version > newest[image.original_name].version:
            newest[image.original_name] = image
    return sorted(newest.values(), key=lambda i: i.id)


def assess_images(
    conn: psycopg.Connection,
    storage: Storage,
    faces: "FaceModelSet",
    character: str,
    thresholds: QAThresholds,
    force: bool = False,
) -> list[Assessment]:
    """Run QA on each current image not yet assessed (all with `force`), store the verdicts,
    and make the best passing image primary unless a producer chose one. Images are decoded
    and searched on worker threads a few ahead of the verdicts being stored."""
    assessments = []
    pending = []
    for image in current_versions(list_source_images(conn, character)):
        if image.qa_status != "pending" and not force:
            assessments.append(
                Assessment(
                    image,
                    image.qa_status == "passed",
                    float(image.qa.get("score", 0.0)),
                    tuple(image.qa.get("failures", [])),
                )
            )
        else:
            pending.append(image)
    analysed = analyse_images(
        pending, faces, thresholds, load=lambda image: load_image(storage, image), embed=False
    )
    for item in analysed:
        image = item.source
        if item.problem is not None or item.decoded is None or item.result is None:
            reason = str(item.problem)
            record_qa(
                conn,
                image.id,
                False,
                {"passed": False, "score": 0.0, "failures": [reason], "checks": []},
            )
            assessments.append(Assessment(image, False, 0.0, (reason,)))
            continue
        result = item.result
        record_qa(
            conn,
            image.id,
            result.passed,
            qa_record(result, item.detected, item.decoded, faces.code),
        )
        failures = tuple(c.message for c in result.failures)
        assessments.append(Assessment(image, result.passed, result.score, failures))
    _choose_primary(conn, character, assessments)
    return assessments


def qa_record(
    result: ImageQAResult,
    detected: "list[DetectedFace]",
    decoded: DecodedImage,
    face_model: str,
) -> dict:
    """The QA verdict and measurements a source image's `qa` holds: the checks, their
    failures' messages, the faces found, the decoding notes and the face model used."""
    return result.to_dict() | {
        "failures": [c.message for c in result.failures],
        "faces": [
            {
                "box": [round(v, 1) for v in f.box],
                "score": round(f.score, 4),
                "landmarks": f.landmarks.round(1).tolist(),
            }
            for f in detected
        ],
        "decode_notes": list(decoded.notes),
        "face_model": face_model,
    }


def _choose_primary(
    conn: psycopg.Connection, character: str, assessments: list[Assessment]
) -> None:
    passing = [a for a in assessments if a.passed]
    if not passing:
        return
    chosen_by = primary_chosen_by(conn, character)
    current = {a.image.id for a in assessments if a.image.is_primary}
    if chosen_by == "producer" and current & {a.image.id for a in passing}:
        return  # a producer's choice stands while it passes QA
    best = max(passing, key=lambda a: (a.score, a.image.id))
    if best.image.id not in current or chosen_by != "qa":
        set_primary(conn, character, best.image.id, by="qa")


def thresholds_for(conn: psycopg.Connection, character: str) -> QAThresholds:
    """The strictest of the QA thresholds of every project the character belongs to (a
    character must be usable in all of them); the defaults when it is in none."""
    per_project = [QAThresholds.from_settings(p.settings) for p in projects_of(conn, character)]
    if not per_project:
        return QAThresholds()
    strictest = {}
    for field in fields(QAThresholds):
        values = [getattr(t, field.name) for t in per_project]
        strictest[field.name] = max(values) if field.name.startswith("min_") else min(values)
    return QAThresholds(**strictest)
