"""Assembled takes with real media, and branches of them, for the review app's trim and
branch tests: each segment's frames are flat greys (no two segments alike), encoded and
committed, then the take assembled as the pipeline does."""

from pathlib import Path

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from tests.review_takes import make_project, make_take
from trulience.catalog.scenes import commit_segment
from trulience.delivery.scene import assemble_take
from trulience.media.encode import encode_frames
from trulience.storage import Storage

SEGMENTS, FRAMES, FPS = 3, 12, 12


def assembled_take(
    conn: psycopg.Connection,
    storage: Storage,
    work: Path,
    take: int,
    branch: str = "main",
    overrides: dict | None = None,
) -> int:
    """Take `take` of ada in 'walk' on `branch` (with its `overrides`), assembled from
    three real segments of twelve frames; returns its scene id."""
    scene = make_take(conn, take=take, status="generated")
    conn.execute(
        "UPDATE scenes SET planned_segments = %s, branch = %s, branch_overrides = %s WHERE id = %s",
        (SEGMENTS, branch, Jsonb(overrides or {}), scene),
    )
    folder = f"scenes/demo/ada/walk/take{take}"
    for index in range(SEGMENTS):
        clip = work / f"take{take}-{index}.mp4"
        base = 20 + 60 * index + 7 * take
        frames = (np.full((48, 64, 3), base + i, np.uint8) for i in range(FRAMES))
        encode_frames(frames, clip, FPS, gop=6)
        stored = storage.put_file(f"{folder}/{index}-1.mp4", clip)
        commit_segment(
            conn,
            scene,
            index,
            1,
            uri=stored.uri,
            sha256=stored.sha256,
            frames=FRAMES,
            provenance={"backend": "test"},
        )
    assemble_take(conn, storage, scene, work / f"assembly{take}")
    return scene


def branch_cell(conn: psycopg.Connection, storage: Storage, work: Path) -> tuple[int, int]:
    """Project demo's cell ada × walk, its scene type configured as tests/test_branches.py
    does (so a new branch can be made from it), with take 1 on main and take 2 on the
    branch seed-42, both assembled; their scene ids."""
    from tests.test_branches import SETTINGS
    from trulience.catalog.workflows import add_workflow
    from trulience.generation.scene_config import Definition, define

    make_project(conn)
    add_workflow(conn, "animatic", {"1": {"class_type": "LoadImage", "inputs": {}}})
    define(conn, Definition("walk", "Walk", settings=SETTINGS))
    main = assembled_take(conn, storage, work, 1)
    return main, assembled_take(conn, storage, work, 2, "seed-42", {"seed": 42})
