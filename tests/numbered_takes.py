"""An assembled take of real segments whose frames carry their number in their pixels, with
the provenance and QA a generated segment records (workflow, version, seed, identity)."""

from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.review_takes import make_project, make_take
from tests.test_trims import picture
from trulience.catalog.scenes import commit_segment
from trulience.catalog.workflows import add_workflow, record_models
from trulience.delivery.scene import assemble_take
from trulience.media.encode import encode_frames
from trulience.storage import Storage

FOLDER = "scenes/demo/ada/walk/take1"
MODEL = ("checkpoints", "wan-2.2.safetensors")


@dataclass(frozen=True)
class NumberedTake:
    scene_id: int
    storage: Storage
    segment_frames: tuple[int, ...]  # frames in each segment's file
    fps: int
    folder: str  # the take's storage folder


def identity_of(index: int) -> float:
    """The identity score segment `index` was given."""
    return round(0.7 + 0.05 * index, 4)


def make_numbered_take(
    conn: psycopg.Connection,
    tmp_path: Path,
    segment_frames: tuple[int, ...] = (24, 24, 24),
    fps: int = 24,
    gop: int = 6,
    take: int = 1,
) -> NumberedTake:
    """Take `take` of segments of `segment_frames` frames (numbered on through the take),
    assembled; each segment made by workflow 'wan' version 1 (which loads MODEL)."""
    storage = Storage((tmp_path / "storage").as_uri())
    if take == 1:
        make_project(conn)
    scene = make_take(conn, take=take, status="generated")
    folder = FOLDER.replace("take1", f"take{take}")
    conn.execute(
        "UPDATE scenes SET planned_segments = %s, effective_config = %s WHERE id = %s",
        (len(segment_frames), f'{{"fps": {fps}, "width": 64, "height": 48}}', scene),
    )
    workflow = add_workflow(conn, "wan", {"1": {"class_type": "KSampler", "inputs": {}}})
    record_models(conn, workflow.id, [(*MODEL, "2", "ckpt_name")])
    first = 0
    for index, frames in enumerate(segment_frames):
        clip = tmp_path / f"{take}-{index}.mp4"
        encode_frames((picture(first + i) for i in range(frames)), clip, fps, gop=gop)
        first += frames
        stored = storage.put_file(f"{folder}/{index}-1.mp4", clip)
        identity = identity_of(index)
        commit_segment(
            conn,
            scene,
            index,
            1,
            uri=stored.uri,
            sha256=stored.sha256,
            frames=frames,
            provenance={
                "backend": "test",
                "worker": "gpu-1",
                "workflow": "wan",
                "workflow_version": workflow.version,
                "workflow_sha256": workflow.sha256,
                "seed": 1000 * take + index,
                "fps": str(fps),
            },
            qa={
                "passed": True,
                "failed": [],
                "gates": [
                    {"name": "identity", "passed": True, "value": identity, "threshold": 0.6},
                    {"name": "black_frames", "passed": True, "value": 0, "threshold": 0},
                ],
            },
        )
    assemble_take(conn, storage, scene, tmp_path / f"assembled-{take}")
    return NumberedTake(scene, storage, segment_frames, fps, folder)
