"""Delivery of an approved take (PRD-39, 40, 96, 102, 70): a package (final video, poster,
sidecar JSON and CSV, the review report with its drawn notes, the edit decision lists,
manifest with sha256)
checked against the project's delivery spec, stored on storage and recorded as a
deliverable."""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from trulience.catalog import deliveries
from trulience.catalog import scenes as scene_repo
from trulience.catalog import trims as trim_repo
from trulience.catalog.notes import threads_on_take
from trulience.catalog.records import Segment, Take
from trulience.catalog.reviews import TakeDecision, take_decisions
from trulience.delivery.compliance import DeliverySpec, check_compliance
from trulience.delivery.edl import TakeLayout, take_layout
from trulience.delivery.package import build_package
from trulience.delivery.review_report import ReportedNote
from trulience.errors import TrulienceError
from trulience.storage import Storage, StoredObject, storage_key


class NotApproved(TrulienceError):
    """The take's newest revision has no approval, or its stored file is not that revision."""


@dataclass(frozen=True)
class Delivery:
    deliverable_id: int
    status: str  # packaged | failed
    uri: str
    violations: list[dict[str, Any]]
    poster_frame: int


def spec_for(project_settings: dict[str, Any], config: dict[str, Any], frames: int) -> DeliverySpec:
    """The project's `delivery_spec` if it has one, else what the scene type promises:
    H.264 yuv420p at its size and fps, duration exact to one frame."""
    if project_settings.get("delivery_spec"):
        return DeliverySpec.from_dict(project_settings["delivery_spec"])
    fps = Fraction(config["fps"])
    return DeliverySpec(
        codec="h264",
        width=config["width"],
        height=config["height"],
        fps=fps,
        duration_s=float(frames / fps),
        duration_tolerance_s=float(1 / fps),
        pix_fmt="yuv420p",
        audio="any",
    )


def deliver_take(
    conn: psycopg.Connection,
    storage: Storage,
    scene_id: int,
    work_dir: Path,
    poster_frame: int | None = None,
    face_score: Callable[[np.ndarray], float] | None = None,
) -> Delivery:
    """Package an approved, assembled take; a spec violation is recorded as a failed
    deliverable listing every violation (the files are kept for inspection)."""
    scene, decided = _approved_take(conn, scene_id)
    work_dir.mkdir(parents=True, exist_ok=True)
    video = _approved_video(storage, scene, decided, work_dir)
    segments = scene_repo.current_segments(conn, scene_id)
    layout = take_layout(storage, scene, segments, trim_repo.current_trims(conn, scene_id))
    info, frames = _segments_info(segments, layout)
    package = build_package(
        video,
        work_dir / "package",
        segments_info=info,
        provenance={
            "scene_id": scene_id,
            "take": scene.take,
            "folder": _folder(scene.uri),
            "effective_config": scene.effective_config,
        },
        poster_frame=poster_frame,
        face_score=face_score,
        review_notes=_review_notes(conn, storage, scene_id),
        layout=layout,
    )
    spec = spec_for(
        deliveries.project_settings(conn, scene.project_id),
        scene.effective_config,
        scene.frames or frames,
    )
    violations = [asdict(v) for v in check_compliance(package.video, spec)]
    uploaded = _upload(storage, scene.uri, package.directory)
    manifest = uploaded[package.manifest.name]
    status = "failed" if violations else "packaged"
    deliverable_id = deliveries.record_deliverable(
        conn,
        scene_id,
        decided.revision,
        status,
        manifest.uri,
        manifest.sha256,
        {
            "files": {
                n: {"uri": o.uri, "sha256": o.sha256, "size": o.size} for n, o in uploaded.items()
            },
            "violations": violations,
            "poster_frame": package.poster_frame,
        },
    )
    return Delivery(deliverable_id, status, manifest.uri, violations, package.poster_frame)


def check_deliverable(conn: psycopg.Connection, scene_id: int) -> Take:
    """The take when delivery would package it (approved and assembled); NotApproved,
    saying why, before anything else (the stage hooks) runs for a take it would refuse."""
    return _approved_take(conn, scene_id)[0]


def _approved_take(conn: psycopg.Connection, scene_id: int) -> tuple[Take, TakeDecision]:
    """The take and the decision in force on its newest revision; NotApproved unless that
    is an approval of an assembled take."""
    scene = scene_repo.get_take(conn, scene_id)
    decided = take_decisions(conn, [scene_id])[scene_id]
    if decided.decision != "approved":
        raise NotApproved(
            f"take {scene.take} (scene {scene_id}) is not approved: its revision "
            f"{decided.revision} has no approval; a reviewer must approve it before delivery"
        )
    if scene.status != "assembled" or scene.uri is None:
        raise NotApproved(
            f"take {scene.take} (scene {scene_id}) is {scene.status}, not "
            "assembled; run its scene_video asset first"
        )
    return scene, decided


def _approved_video(storage: Storage, scene: Take, decided: TakeDecision, work_dir: Path) -> Path:
    """The take's stored video as a local file; NotApproved when it is not the revision
    approved (one was assembled over it since)."""
    key = storage.key_of(scene.uri)
    video = storage.local_file(key, work_dir)
    if decided.revision_sha256 is not None and storage.sha256(key) != decided.revision_sha256:
        raise NotApproved(
            f"take {scene.take} (scene {scene.id}): the stored video is not revision "
            f"{decided.revision}, the one approved; assemble and review it again"
        )
    return video


def _segments_info(
    segments: dict[int, Segment], layout: TakeLayout
) -> tuple[list[dict[str, Any]], int]:
    """Each current segment's place in the take (its frames there, trims taken off) and
    provenance, and the frames in all."""
    info, start = [], 0
    for clip in layout.clips:
        index, s = clip.index, segments[clip.index]
        info.append(
            {
                "index": index,
                "start_frame": start,
                "frames": clip.frames,
                "trim_head": clip.head,
                "trim_tail": clip.tail,
                "attempt": s.attempt,
                "sha256": s.sha256,
                "seed": s.provenance.get("seed"),
                "prompt": s.provenance.get("prompt"),
                "backend": s.provenance.get("backend"),
                "workflow_sha256": s.provenance.get("workflow_sha256"),
            }
        )
        start += clip.frames
    return info, start


def _upload(storage: Storage, scene_uri: str, directory: Path) -> dict[str, StoredObject]:
    """Store each file of the package under deliveries/, beside where the take's files
    are; what was stored, by its path in the package (`notes/12.png`)."""
    base = ["deliveries", *_folder(scene_uri).split("/")]
    files = sorted(p.relative_to(directory) for p in directory.rglob("*") if p.is_file())
    return {
        path.as_posix(): storage.put_file(storage_key(*base, *path.parts), directory / path)
        for path in files
    }


def _folder(scene_uri: str) -> str:
    """The take's folder under scenes/ ("demo/ada/walk/take1")."""
    return scene_uri.rsplit("/", 1)[0].split("/scenes/", 1)[-1]


def _review_notes(conn: psycopg.Connection, storage: Storage, scene_id: int) -> list[ReportedNote]:
    """The take's notes in reading order for the review report, each drawn one with its
    flattened PNG read from storage."""
    return [
        ReportedNote(
            n.id,
            n.author,
            n.body,
            n.frame,
            n.status,
            n.depth,
            n.created_at,
            n.drawing,
            None if n.drawing_uri is None else storage.read_bytes(storage.key_of(n.drawing_uri)),
        )
        for n in threads_on_take(conn, scene_id)
    ]
