"""The segment queue (migration 0026): segments waiting for a GPU slot of their pool, in
the order of the view `segment_queue` (priority, then age). The pool
(trulience/workers/pool.py) decides who gets a slot; these functions run its statements.

Handing out slots is serialised per pool by a transaction-scoped advisory lock, and the
workers' rows are locked while their free slots are counted, so a slot is never given twice
and never given while `pool.acquire` takes it directly.
"""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many
from trulience.catalog.workers import Lease


@dataclass(frozen=True, slots=True)
class Waiting:
    """A request in its pool's queue."""

    id: int
    pool: str
    scene_id: int | None
    segment: int | None
    holder: str
    purpose: str
    priority: int
    requires: dict
    excluded: list[int]
    ttl_s: float
    requested_at: datetime
    reason: str | None
    position: int


@dataclass(slots=True)
class FreeWorker:
    """An online worker of a pool, locked, with its slots, the segments it may queue beyond
    them, and its active leases."""

    id: int
    name: str
    url: str
    capabilities: dict
    slots: int
    queue_depth: int
    active: int

    @property
    def capacity(self) -> int:
        return self.slots + self.queue_depth


@dataclass(frozen=True, slots=True)
class Request:
    """A request as its waiter sees it: granted (with its lease), given up, or waiting."""

    id: int
    granted: bool
    given_up: bool
    lease: Lease | None


def insert_request(
    conn: psycopg.Connection,
    pool: str,
    holder: str,
    purpose: str,
    *,
    ttl_s: float,
    requires: dict,
    excluded: list[int],
    scene_id: int | None,
    segment: int | None,
    priority: int,
    alive_s: float,
) -> int:
    values = {"pool": pool, "holder": holder, "priority": priority, "segment": segment}
    with writing(conn, values):
        return conn.execute(
            """INSERT INTO segment_requests (pool, holder, purpose, ttl_s, requires, excluded,
                                             scene_id, segment, priority, alive_until)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,
                       clock_timestamp() + make_interval(secs => %s))
               RETURNING id""",
            (
                pool,
                holder,
                purpose,
                ttl_s,
                Jsonb(requires),
                excluded,
                scene_id,
                segment,
                priority,
                alive_s,
            ),
        ).fetchone()[0]


def renew(
    conn: psycopg.Connection, request_id: int, alive_s: float, reason: str | None = None
) -> None:
    """The waiter is still there (and, given a reason, why it still waits)."""
    with writing(conn):
        conn.execute(
            """UPDATE segment_requests
                  SET alive_until = clock_timestamp() + make_interval(secs => %s),
                      reason = coalesce(%s, reason)
                WHERE id = %s AND granted_at IS NULL AND given_up_at IS NULL""",
            (alive_s, reason, request_id),
        )


def lock_pool(conn: psycopg.Connection, pool: str) -> None:
    """Hold the pool's hand-out lock to the end of the current transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('segment_queue'), hashtext(%s))", (pool,))


def waiting(conn: psycopg.Connection, pool: str | None = None) -> list[Waiting]:
    """The waiting requests of `pool` (of every pool for None), first in line first."""
    return many(
        conn,
        Waiting,
        """SELECT id, pool, scene_id, segment, holder, purpose, priority, requires, excluded,
                  ttl_s, requested_at, reason, position::int
             FROM segment_queue
            WHERE %(pool)s::text IS NULL OR pool = %(pool)s
            ORDER BY pool, position""",
        {"pool": pool},
    )


def free_workers_for_update(conn: psycopg.Connection, pool: str) -> list[FreeWorker]:
    """The online workers of `pool`, locked (FOR UPDATE), with their active leases counted
    in a statement of its own (its snapshot sees leases committed before the lock)."""
    locked = conn.execute(
        "SELECT id FROM workers WHERE pool = %s AND state = 'online' ORDER BY id FOR UPDATE",
        (pool,),
    ).fetchall()
    return many(
        conn,
        FreeWorker,
        """SELECT w.id, w.name, w.url, w.capabilities, w.slots, w.queue_depth,
                  (SELECT count(*) FROM worker_leases l WHERE l.worker_id = w.id
                      AND l.released_at IS NULL AND l.expires_at > now())::int AS active
             FROM workers w WHERE w.id = ANY(%s) ORDER BY w.id""",
        ([row[0] for row in locked],),
    )


def grant(conn: psycopg.Connection, request_id: int, lease_id: int) -> None:
    conn.execute(
        "UPDATE segment_requests SET lease_id = %s, granted_at = clock_timestamp() WHERE id = %s",
        (lease_id, request_id),
    )


def request_state(conn: psycopg.Connection, request_id: int) -> Request:
    row = conn.execute(
        """SELECT r.granted_at IS NOT NULL, r.given_up_at IS NOT NULL,
                  l.id, l.worker_id, w.name, w.url, l.holder, l.expires_at
             FROM segment_requests r
             LEFT JOIN worker_leases l ON l.id = r.lease_id
             LEFT JOIN workers w ON w.id = l.worker_id
            WHERE r.id = %s""",
        (request_id,),
    ).fetchone()
    granted, given_up, *lease = row
    return Request(request_id, granted, given_up, Lease(*lease) if lease[0] is not None else None)


def give_up(conn: psycopg.Connection, request_id: int) -> bool:
    """Take a waiting request out of the queue; False when it was granted first."""
    with writing(conn):
        return (
            conn.execute(
                """UPDATE segment_requests SET given_up_at = clock_timestamp()
                    WHERE id = %s AND granted_at IS NULL AND given_up_at IS NULL""",
                (request_id,),
            ).rowcount
            == 1
        )


def set_excluded(conn: psycopg.Connection, request_id: int, excluded: list[int]) -> None:
    with writing(conn):
        conn.execute(
            "UPDATE segment_requests SET excluded = %s WHERE id = %s", (excluded, request_id)
        )


def set_take_priority(conn: psycopg.Connection, scene_id: int, priority: int) -> bool:
    """A take's priority (its waiting segments move with it); False when no such take."""
    with writing(conn, {"priority": priority}):
        return (
            conn.execute(
                "UPDATE scenes SET priority = %s WHERE id = %s", (priority, scene_id)
            ).rowcount
            == 1
        )


@dataclass(frozen=True, slots=True)
class Running:
    """A segment holding a slot (or a place queued on its worker) now."""

    lease_id: int
    pool: str
    worker: str
    holder: str
    purpose: str
    leased_at: datetime
    seconds: float


def running(conn: psycopg.Connection, pool: str | None = None) -> list[Running]:
    """The active leases of `pool` (every pool for None), by worker then age."""
    return many(
        conn,
        Running,
        """SELECT l.id AS lease_id, w.pool, w.name AS worker, l.holder, l.purpose, l.leased_at,
                  extract(epoch FROM now() - l.leased_at)::float AS seconds
             FROM worker_leases l JOIN workers w ON w.id = l.worker_id
            WHERE l.released_at IS NULL AND l.expires_at > now()
              AND (%(pool)s::text IS NULL OR w.pool = %(pool)s)
            ORDER BY w.pool, w.name, l.leased_at""",
        {"pool": pool},
    )


def recent_segment_seconds(conn: psycopg.Connection, pool: str, last: int = 50) -> float | None:
    """The mean time the pool's last `last` finished segments held their slot."""
    return conn.execute(
        """SELECT avg(s) FROM (
               SELECT extract(epoch FROM l.released_at - l.leased_at)::float AS s
                 FROM worker_leases l JOIN workers w ON w.id = l.worker_id
                WHERE w.pool = %s AND l.outcome = 'done'
                ORDER BY l.released_at DESC LIMIT %s) AS recent""",
        (pool, last),
    ).fetchone()[0]
