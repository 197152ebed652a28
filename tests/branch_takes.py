"""Assembled takes with real media, and branches of them, for the review app's trim and
branch tests: each segment's frames are flat greys (no two segments alike), encoded and
committed, then the take assembled as the pipeline does."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ServedCell:
    """The review app served over branch_cell's two takes."""

    base_url: str
    db_url: str
    main: int  # take 1's scene id, on main
    branch: int  # take 2's, on the branch seed-42


@contextmanager
def served_branch_cell(
    server_url: str, home: Path, users: dict[str, str], password: str
) -> Iterator[ServedCell]:
    """A database of its own with `users` (name: role, each with `password`) and
    branch_cell's takes, and the review app served over it (for one test module)."""
    from tests.conftest import drop_database, new_database
    from tests.panel_apps import served
    from trulience.auth import users as accounts
    from trulience.catalog.database import connect

    storage = Storage((home / "storage").as_uri())
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        for name, role in users.items():
            accounts.create_user(conn, name, name.title(), role, password)
        main, branch = branch_cell(conn, storage, home)
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home), "STORAGE_URL": storage.url}
    try:
        with served("review", env, home / "panel.log") as url:
            yield ServedCell(url, db_url, main, branch)
    finally:
        drop_database(server_url, db_url)
