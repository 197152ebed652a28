"""What the queue page shows, as plain values read from the catalog: each worker with the
take segments it runs, the segments waiting in line, the batches Dagster runs, and an open
take. Rows are frozen and compared by value, so a view can keep the rows that did not change.
"""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog import scenes
from trulience.catalog.segments import next_attempt
from trulience.production.batch import list_batches
from trulience.progress import duration
from trulience.workers import pool, segment_queue

DEFAULT_POOL = "default"


@dataclass(frozen=True, slots=True)
class RunningSegment:
    """A take's segment running on a worker now: which take, segment and attempt, since when."""

    scene_id: int
    label: str
    segment: int
    attempt: int
    started_at: datetime  # the view counts the elapsed time from it


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """One worker as the page lists it (everything but the ticking elapsed time)."""

    name: str
    state: str
    gpu: str
    slots: int
    busy: int
    problem: str | None
    running: tuple[RunningSegment, ...]
    leases: tuple[tuple[int, str], ...]  # (lease id, what holds it)


@dataclass(frozen=True, slots=True)
class WaitingRow:
    """One segment waiting for a slot: its place in line, priority and when it may start."""

    request_id: int
    position: int
    scene_id: int | None
    segment: int | None
    label: str
    priority: int
    estimate: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class BatchRow:
    """A batch Dagster runs (its backfill) or will run once launched."""

    id: int
    project: str
    priority: int
    status: str
    backfill: str | None
    items: int


@dataclass(frozen=True, slots=True)
class CommittedSegment:
    """A committed segment of the open take: index, attempt, frames, its first frame."""

    index: int
    attempt: int
    frames: int | None
    picture: str | None  # a data: URL, None when the file could not be read


@dataclass(frozen=True, slots=True)
class Drawer:
    """The open take: what it is, its state and control, priority, committed segments."""

    scene_id: int
    label: str
    status: str
    control: str
    priority: int | None
    planned: int | None
    segments: tuple[CommittedSegment, ...]


def estimate_text(seconds: float | None) -> str:
    """When a waiting segment may start, as the page says it."""
    return "unknown" if seconds is None else f"~{duration(seconds)}"


def read_pool(
    conn: psycopg.Connection, pool_name: str
) -> tuple[list[str], list[WorkerRow], list[WaitingRow], list[BatchRow]]:
    """Every pool's name, and of pool `pool_name`: its workers with what each runs, the
    segments waiting in order with their estimates; the batches running, then queued."""
    every = pool.list_workers(conn)
    pools = sorted({w.pool for w in every} | {DEFAULT_POOL, pool_name})
    status = segment_queue.queue_status(conn, pool_name)
    prompts = scenes.running_prompts(conn)
    rows = []
    for w in (w for w in every if w.pool == pool_name):
        mine = [p for p in prompts if p.worker == w.url.rstrip("/")]
        running = tuple(
            RunningSegment(
                p.scene_id,
                f"{p.project}/{p.character}/{p.scene_type} take {p.take}",
                p.segment,
                next_attempt(conn, p.scene_id, p.segment),
                p.submitted_at,
            )
            for p in mine
        )
        leases = tuple(
            (r.lease_id, r.purpose or r.holder) for r in status.running if r.worker == w.name
        )
        devices = ", ".join(d for d in w.capabilities.get("devices", []) if d)
        rows.append(
            WorkerRow(
                w.name,
                w.state,
                devices or "no GPU reported",
                w.slots,
                w.active_leases,
                w.last_error,
                running,
                leases,
            )
        )
    waiting = [
        WaitingRow(
            q.request.id,
            q.request.position,
            q.request.scene_id,
            q.request.segment,
            q.request.purpose or q.request.holder,
            q.request.priority,
            estimate_text(q.estimate_s),
            q.request.reason,
        )
        for q in status.waiting
    ]
    batches = [
        BatchRow(b.id, b.project, b.priority, b.status, b.dagster_backfill_id, b.items)
        for status_ in ("running", "queued")
        for b in list_batches(conn, status=status_)
    ]
    batches.sort(key=lambda b: (b.status != "running", -b.priority, b.id))
    return pools, rows, waiting, batches
