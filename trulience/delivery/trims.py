"""Trims at seams (PRD-78): a reviewer or producer cuts frames from a segment's head or tail
and the take is assembled again around that segment's seams only (every other GOP is
copied); the trim is recorded in the catalog and in the take's assembly manifest."""

import tempfile
from pathlib import Path

import psycopg

from trulience.auth.acting import Acting, actor_name
from trulience.auth.permissions import Permission
from trulience.catalog import scenes
from trulience.catalog import trims as repo
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue
from trulience.delivery.scene import AssembledScene, assemble_take
from trulience.storage import Storage

TRIMMABLE = ("generated", "assembled")


def trim_segment(
    conn: psycopg.Connection,
    actor: Acting,
    storage: Storage,
    scene_id: int,
    index: int,
    head: int = 0,
    tail: int = 0,
    *,
    reason: str | None = None,
    work_dir: Path | None = None,
) -> AssembledScene:
    """Cut `head` frames from the start and `tail` from the end of segment `index` of a
    take (replacing its earlier trim; 0 and 0 undo it) and assemble the take again. A trim
    that leaves no frame is refused, naming the values; nothing is recorded unless the take
    was assembled with it."""
    who = actor_name(conn, actor, Permission.REVIEW)
    take = scenes.get_take(conn, scene_id)
    if take.status not in TRIMMABLE:
        raise InvalidValue(
            "trim", "take", take.take, f"is {take.status}; only an assembled take can be trimmed"
        )
    segment = scenes.current_segments(conn, scene_id).get(index)
    if segment is None:
        raise InvalidValue("trim", "segment", index, f"take {take.take} has no segment {index}")
    _check(head, tail, segment.frames or 0, index)
    standing = repo.current_trims(conn, scene_id).get(index)
    if not head and not tail and standing is None:
        raise InvalidValue("trim", "head/tail", "0/0", "nothing to trim (and no trim to undo)")
    with conn.transaction(), acting_as(conn, who):
        repo.record_trim(conn, segment.id, head, tail, who, reason)
        with tempfile.TemporaryDirectory(prefix="trulience-trim-") as scratch:
            return assemble_take(conn, storage, scene_id, work_dir or Path(scratch))


def _check(head: int, tail: int, frames: int, index: int) -> None:
    """Refuse a trim that is not whole frames, is negative or leaves less than one frame."""
    for name, value in (("head", head), ("tail", tail)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue("trim", name, value, "must be a whole number of frames")
        if value < 0:
            raise InvalidValue("trim", name, value, "must not be negative")
    if head + tail >= frames:
        raise InvalidValue(
            "trim",
            "head+tail",
            f"{head}+{tail}",
            f"segment {index} has {frames} frames; a trim must leave at least 1 frame",
        )
