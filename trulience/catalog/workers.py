"""Workers, their slot leases and their hardware samples (PRD-46, PRD-06), as the catalog
holds them. The pool (trulience/workers/pool.py) decides; these functions run its statements.

A lease is active while it is unreleased and unexpired; the lease statements here are the
ones whose locking the pool's concurrency relies on (`FOR UPDATE SKIP LOCKED` on the worker,
the count of active leases in a statement of its own).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many, one


@dataclass(frozen=True, slots=True)
class Worker:
    id: int
    name: str
    url: str
    pool: str
    slots: int
    queue_depth: int
    state: str
    capabilities: dict
    last_seen_at: datetime | None
    failures: int
    last_error: str | None
    catalogue_drifted: bool
    active_leases: int

    @property
    def unchecked(self) -> bool:
        """No health check has recorded what it can run yet (known only from its URL)."""
        return not self.capabilities.get("node_classes")


@dataclass(frozen=True, slots=True)
class Lease:
    id: int
    worker_id: int
    worker: str
    url: str
    holder: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    """An online worker of a pool that a lease may be taken on, least loaded first."""

    id: int
    name: str
    url: str
    capabilities: dict


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """What a health check is judged against: the faults so far and the known catalogue."""

    id: int
    failures: int
    catalogue_sha256: str | None


@dataclass(frozen=True, slots=True)
class NewLease:
    id: int
    expires_at: datetime


_WORKER = """SELECT w.id, w.name, w.url, w.pool, w.slots, w.queue_depth, w.state, w.capabilities,
                    w.last_seen_at, w.failures, w.last_error, w.catalogue_drifted,
                    (SELECT count(*) FROM worker_leases l WHERE l.worker_id = w.id
                        AND l.released_at IS NULL AND l.expires_at > now())::int
                        AS active_leases
               FROM workers w"""


def insert_worker(
    conn: psycopg.Connection, name: str, url: str, pool: str, slots: int, queue_depth: int = 1
) -> None:
    conn.execute(
        "INSERT INTO workers (name, url, pool, slots, queue_depth) VALUES (%s, %s, %s, %s, %s)",
        (name, url, pool, slots, queue_depth),
    )


def get_worker(conn: psycopg.Connection, name: str) -> Worker:
    return one(conn, Worker, f"{_WORKER} WHERE w.name = %s", (name,), "worker", name)


def list_workers(conn: psycopg.Connection, pool: str | None = None) -> list[Worker]:
    return many(
        conn,
        Worker,
        f"{_WORKER} WHERE %(pool)s::text IS NULL OR w.pool = %(pool)s ORDER BY w.name",
        {"pool": pool},
    )


def set_worker_state(conn: psycopg.Connection, name: str, state: str) -> bool:
    """False when there is no worker of that name."""
    return conn.execute("UPDATE workers SET state = %s WHERE name = %s", (state, name)).rowcount > 0


def delete_worker(conn: psycopg.Connection, worker_id: int) -> None:
    conn.execute("DELETE FROM workers WHERE id = %s", (worker_id,))


def health_record_for_update(conn: psycopg.Connection, name: str) -> HealthRecord | None:
    """The worker's fault count and catalogue, locked (FOR UPDATE) for this transaction."""
    rows = many(
        conn,
        HealthRecord,
        "SELECT id, failures, catalogue_sha256 FROM workers WHERE name = %s FOR UPDATE",
        (name,),
    )
    return rows[0] if rows else None


def record_healthy(
    conn: psycopg.Connection,
    worker_id: int,
    capabilities: dict | None,
    catalogue_sha256: str | None,
    drifted: bool,
) -> None:
    """Faults cleared, seen now, back online unless draining; what it can run (when given)
    replaces what was known, and a drift once flagged stays flagged."""
    conn.execute(
        """UPDATE workers SET failures = 0, last_error = NULL, last_seen_at = now(),
                  state = CASE WHEN state = 'draining' THEN state ELSE 'online' END,
                  capabilities = coalesce(%s, capabilities),
                  catalogue_sha256 = coalesce(%s, catalogue_sha256),
                  catalogue_drifted = catalogue_drifted OR %s
            WHERE id = %s""",
        (
            Jsonb(capabilities) if capabilities is not None else None,
            catalogue_sha256,
            drifted,
            worker_id,
        ),
    )


def record_unhealthy(
    conn: psycopg.Connection, worker_id: int, failures: int, error: str | None, offline: bool
) -> None:
    """The fault count and error; `offline` takes the worker offline unless it is draining."""
    conn.execute(
        """UPDATE workers SET failures = %s, last_error = %s,
                  state = CASE WHEN %s AND state <> 'draining' THEN 'offline' ELSE state END
            WHERE id = %s""",
        (failures, error, offline, worker_id),
    )


def clear_faults(conn: psycopg.Connection, name: str) -> None:
    with writing(conn):
        conn.execute(
            """UPDATE workers SET failures = 0, last_error = NULL, last_seen_at = now()
                WHERE name = %s""",
            (name,),
        )


def clear_catalogue_drift(conn: psycopg.Connection, name: str) -> None:
    with writing(conn):
        conn.execute("UPDATE workers SET catalogue_drifted = false WHERE name = %s", (name,))


def lease_candidates(conn: psycopg.Connection, pool: str, excluded: list[int]) -> list[Candidate]:
    """The online workers of `pool` not in `excluded`, least loaded (active leases per slot)
    first; nothing is locked."""
    return many(
        conn,
        Candidate,
        """SELECT w.id, w.name, w.url, w.capabilities FROM workers w
            WHERE w.pool = %(pool)s AND w.state = 'online' AND NOT (w.id = ANY(%(ex)s))
            ORDER BY (SELECT count(*) FROM worker_leases l
                       WHERE l.worker_id = w.id AND l.released_at IS NULL
                         AND l.expires_at > now())::float / w.slots, w.id""",
        {"pool": pool, "ex": excluded},
    )


def online_slots_for_update_skip_locked(conn: psycopg.Connection, worker_id: int) -> int | None:
    """Lock only this worker if it is online and nobody else holds it (FOR UPDATE SKIP
    LOCKED): its slots, or None when it is locked by someone else or no longer online."""
    row = conn.execute(
        "SELECT slots FROM workers WHERE id = %s AND state = 'online' FOR UPDATE SKIP LOCKED",
        (worker_id,),
    ).fetchone()
    return None if row is None else row[0]


def active_leases(conn: psycopg.Connection, worker_id: int) -> int:
    """The worker's unreleased, unexpired leases, counted in a statement of its own (its
    snapshot sees the leases committed by whoever held the worker's lock before)."""
    return conn.execute(
        "SELECT count(*) FROM worker_leases WHERE worker_id = %s "
        "AND released_at IS NULL AND expires_at > now()",
        (worker_id,),
    ).fetchone()[0]


def insert_lease(
    conn: psycopg.Connection, worker_id: int, holder: str, purpose: str, ttl_s: float
) -> NewLease:
    return one(
        conn,
        NewLease,
        """INSERT INTO worker_leases (worker_id, holder, purpose, expires_at)
           VALUES (%s, %s, %s, now() + make_interval(secs => %s))
           RETURNING id, expires_at""",
        (worker_id, holder, purpose, ttl_s),
        "worker lease",
        holder,
    )


def renew_lease(conn: psycopg.Connection, lease_id: int, ttl_s: float) -> bool:
    """Extend a live lease by `ttl_s` from now; False when it expired or was released."""
    with writing(conn):
        updated = conn.execute(
            """UPDATE worker_leases SET heartbeat_at = now(),
                      expires_at = now() + make_interval(secs => %s)
                WHERE id = %s AND released_at IS NULL AND expires_at > now()""",
            (ttl_s, lease_id),
        ).rowcount
    return updated == 1


def release_lease(conn: psycopg.Connection, lease_id: int, outcome: str) -> str | None:
    """Release a lease; its worker's pool (None when it was released already)."""
    with writing(conn, {"outcome": outcome}):
        row = conn.execute(
            """UPDATE worker_leases l SET released_at = now(), outcome = %s
                 FROM workers w
                WHERE l.id = %s AND l.released_at IS NULL AND w.id = l.worker_id
            RETURNING w.pool""",
            (outcome, lease_id),
        ).fetchone()
    return None if row is None else row[0]


def expire_leases(conn: psycopg.Connection) -> int:
    """Close every unreleased lease past its expiry; how many."""
    with writing(conn):
        return conn.execute(
            """UPDATE worker_leases SET released_at = now(), outcome = 'expired'
                WHERE released_at IS NULL AND expires_at <= now()"""
        ).rowcount


def done_lease_seconds(conn: psycopg.Connection) -> Decimal | None:
    """Seconds the leases released as done were held, summed (None when there are none)."""
    return conn.execute(
        "SELECT sum(extract(epoch FROM released_at - leased_at)) FROM worker_leases "
        "WHERE outcome = 'done'"
    ).fetchone()[0]


def insert_hardware_sample(
    conn: psycopg.Connection,
    source: str,
    worker_id: int | None,
    device: str,
    utilization: float | None,
    memory_used: int | None,
    memory_total: int | None,
    temperature_c: float | None,
    power_w: float | None,
    detail: dict,
) -> None:
    conn.execute(
        """INSERT INTO hardware_samples (source, worker_id, device, utilization,
               memory_used, memory_total, temperature_c, power_w, detail)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            source,
            worker_id,
            device,
            utilization,
            memory_used,
            memory_total,
            temperature_c,
            power_w,
            Jsonb(detail),
        ),
    )
