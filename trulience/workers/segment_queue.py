"""The segment queue (PRD-07, 08, 87): a segment asks its pool for a slot by a request in the
catalog's queue and waits for the grant's notification (trulience.catalog.events.POOL);
slots are handed out in the queue's order (the view segment_queue: priority, then age)
whenever one may have come free: a request made, a lease released, a worker back online, a
waiter's periodic look. The pool (pool.py) calls `dispatch` when it frees a slot."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from trulience.catalog import segment_queue as queue
from trulience.catalog import workers as catalog
from trulience.catalog.errors import InvalidValue, NotFound, writing
from trulience.catalog.workers import Lease, list_workers
from trulience.workers.requirements import Requirements

LEASE_TTL_S = 60.0  # a lease not renewed for this long expires (the pool's heartbeat)
# A waiter renews its queued request while it waits; one whose waiter died lapses after this.
ALIVE_S = 30.0


def request_slot(
    conn: psycopg.Connection,
    pool: str,
    holder: str,
    *,
    purpose: str = "",
    requires: Requirements | None = None,
    ttl_s: float = LEASE_TTL_S,
    exclude: Iterable[int] = (),
    take_id: int | None = None,
    segment: int | None = None,
    priority: int = 0,
    alive_s: float = ALIVE_S,
) -> int:
    """Queue a segment for a slot of `pool` and hand out what is free (in one transaction:
    one commit); the request's id."""
    with writing(conn):
        request_id = queue.insert_request(
            conn,
            pool,
            holder,
            purpose,
            ttl_s=ttl_s,
            requires=(requires or Requirements()).to_data(),
            excluded=sorted(exclude),
            scene_id=take_id,
            segment=segment,
            priority=priority,
            alive_s=alive_s,
        )
        dispatch(conn, pool)
    return request_id


def dispatch(conn: psycopg.Connection, pool: str) -> list[int]:
    """Give each free slot of `pool` (or place in a worker's own queue, `queue_depth` beyond
    its slots) to the first waiting request a free worker can run, on the least loaded such
    worker; a request no free worker can run lets the next go ahead. The ids granted."""
    granted: list[int] = []
    with writing(conn):
        queue.lock_pool(conn, pool)
        waiting = queue.waiting(conn, pool)
        if not waiting:
            return granted
        free = [w for w in queue.free_workers_for_update(conn, pool) if w.active < w.capacity]
        for request in waiting:
            if not free:
                break
            needs = Requirements.from_data(request.requires)
            able = [
                w for w in free if w.id not in request.excluded and not needs.met_by(w.capabilities)
            ]
            if not able:
                continue
            worker = min(able, key=lambda w: (w.active / w.slots, w.id))
            lease = catalog.insert_lease(
                conn, worker.id, request.holder, request.purpose, request.ttl_s
            )
            queue.grant(conn, request.id, lease.id)
            granted.append(request.id)
            worker.active += 1
            if worker.active >= worker.capacity:
                free.remove(worker)
    return granted


def granted(conn: psycopg.Connection, request_id: int) -> Lease | None:
    """The lease a request was given, or None while it waits."""
    return queue.request_state(conn, request_id).lease


def give_up(conn: psycopg.Connection, request_id: int) -> None:
    """Leave the queue (cancelled, timed out); a slot granted meanwhile is given back."""
    if not queue.give_up(conn, request_id):
        lease = granted(conn, request_id)
        freed = None if lease is None else catalog.release_lease(conn, lease.id, "failed")
        if freed is not None:
            dispatch(conn, freed)


def note_wait(
    conn: psycopg.Connection, request_id: int, reason: str | None = None, alive_s: float = ALIVE_S
) -> None:
    """The waiter of a request is still there, and (given) why no worker has taken it yet:
    `trulience workers list` and `trulience queue` show it."""
    queue.renew(conn, request_id, alive_s, reason)


def exclude_workers(conn: psycopg.Connection, request_id: int, workers: Iterable[int]) -> None:
    """The workers a waiting request must not be given (they lost its segment)."""
    queue.set_excluded(conn, request_id, sorted(workers))


def waiting(conn: psycopg.Connection, pool: str | None = None) -> list[queue.Waiting]:
    """The segments waiting for a slot, each pool's first in line first."""
    return queue.waiting(conn, pool)


@dataclass(frozen=True)
class Queued:
    """A waiting segment, with when it may start: its turn at the pace the pool's last
    segments went (None until one has finished)."""

    request: queue.Waiting
    estimate_s: float | None


@dataclass(frozen=True)
class QueueStatus:
    pool: str
    running: list[queue.Running]
    waiting: list[Queued]


def queue_status(conn: psycopg.Connection, pool: str) -> QueueStatus:
    """What runs on each worker of `pool`, and what waits, in order, with estimates."""
    pace = queue.recent_segment_seconds(conn, pool)
    slots = sum(w.slots for w in list_workers(conn, pool) if w.state == "online")
    waiting = [
        Queued(w, None if pace is None or not slots else math.ceil(w.position / slots) * pace)
        for w in queue.waiting(conn, pool)
    ]
    return QueueStatus(pool, queue.running(conn, pool), waiting)


def set_take_priority(conn: psycopg.Connection, take_id: int, priority: int) -> None:
    """Reorder: a take's waiting segments (and those it will ask for) go by `priority`."""
    if not -100 <= priority <= 100:
        raise InvalidValue("take", "priority", priority, "must be between -100 and 100")
    if not queue.set_take_priority(conn, take_id, priority):
        raise NotFound("take", take_id)
