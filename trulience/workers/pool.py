"""The worker pool (PRD-46): ComfyUI workers registered in the catalog, with states,
capabilities, and slot leases taken with `FOR UPDATE SKIP LOCKED`.

A segment leases one slot of the least-loaded online worker that can run its workflow
(node classes and model files from the worker's own /object_info). The lease has a
heartbeat and an expiry: a run or a worker that dies stops renewing it, it expires, and
the slot is free again.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import InvalidValue, NotFound, writing
from trulience.catalog.fetch import many, one
from trulience.config import mask_secrets
from trulience.errors import TrulienceError
from trulience.slugs import slugify

LEASE_TTL_S = 60.0
# Consecutive faults (failed health checks or segments lost on the worker, with no success
# in between) after which a worker is taken offline. A success resets the count: three blips
# hours apart say nothing about a worker, three in a row do.
OFFLINE_AFTER = 3


class WorkerUnavailable(TrulienceError):
    """No worker of the pool can take the work now."""


@dataclass(frozen=True, slots=True)
class Worker:
    id: int
    name: str
    url: str
    pool: str
    slots: int
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


@dataclass(frozen=True)
class Requirements:
    """What a workflow needs of a worker: node classes, and model files per folder."""

    node_classes: frozenset[str] = frozenset()
    models: dict[str, frozenset[str]] = field(default_factory=dict)

    def met_by(self, capabilities: dict) -> list[str]:
        """What the worker lacks (empty when it can run the workflow)."""
        missing = sorted(self.node_classes - set(capabilities.get("node_classes", [])))
        lacks = [f"node {name}" for name in missing]
        for folder, files in self.models.items():
            have = set(capabilities.get("models", {}).get(folder, []))
            lacks += [f"model {folder}/{f}" for f in sorted(files - have)]
        return lacks


_WORKER = """SELECT w.id, w.name, w.url, w.pool, w.slots, w.state, w.capabilities, w.last_seen_at,
                    w.failures, w.last_error, w.catalogue_drifted,
                    (SELECT count(*) FROM worker_leases l WHERE l.worker_id = w.id
                        AND l.released_at IS NULL AND l.expires_at > now())::int
                        AS active_leases
               FROM workers w"""


def add_worker(
    conn: psycopg.Connection,
    url: str,
    pool: str = "default",
    slots: int = 1,
    name: str | None = None,
) -> Worker:
    """Register a ComfyUI worker (its name defaults to one made from the URL's host, port
    and path: never from its userinfo, which may hold a proxy's password)."""
    parts = urlsplit(url)
    name = name or slugify(f"{parts.hostname or ''}-{parts.port or ''}{parts.path}".strip("-"))
    shown = mask_secrets(url)
    with writing(conn, {"name": name, "url": shown, "pool": pool, "slots": slots}):
        conn.execute(
            "INSERT INTO workers (name, url, pool, slots) VALUES (%s, %s, %s, %s)",
            (name, url.rstrip("/"), pool, slots),
        )
    return get_worker(conn, name)


def get_worker(conn: psycopg.Connection, name: str) -> Worker:
    return one(conn, Worker, f"{_WORKER} WHERE w.name = %s", (name,), "worker", name)


def list_workers(conn: psycopg.Connection, pool: str | None = None) -> list[Worker]:
    return many(
        conn,
        Worker,
        f"{_WORKER} WHERE %(pool)s::text IS NULL OR w.pool = %(pool)s ORDER BY w.name",
        {"pool": pool},
    )


def set_state(conn: psycopg.Connection, name: str, state: str) -> Worker:
    """online, draining (finish current leases, take no new ones) or offline."""
    with writing(conn, {"state": state}):
        if (
            conn.execute("UPDATE workers SET state = %s WHERE name = %s", (state, name)).rowcount
            == 0
        ):
            raise NotFound("worker", name)
    return get_worker(conn, name)


def remove_worker(conn: psycopg.Connection, name: str, force: bool = False) -> None:
    """Forget a worker; refused while it holds leases unless `force`."""
    worker = get_worker(conn, name)
    if worker.active_leases and not force:
        raise InvalidValue(
            "worker",
            "leases",
            worker.active_leases,
            "the worker is still running segments; drain it first or --force",
        )
    with writing(conn):
        conn.execute("DELETE FROM workers WHERE id = %s", (worker.id,))


def record_health(
    conn: psycopg.Connection,
    name: str,
    *,
    ok: bool,
    capabilities: dict | None = None,
    catalogue_sha256: str | None = None,
    error: str | None = None,
) -> Worker:
    """Record a health check: a healthy worker comes (back) online unless draining; a worker
    failing OFFLINE_AFTER checks in a row goes offline; a changed catalogue is flagged."""
    with writing(conn):
        row = conn.execute(
            "SELECT id, failures, catalogue_sha256 FROM workers WHERE name = %s FOR UPDATE",
            (name,),
        ).fetchone()
        if row is None:
            raise NotFound("worker", name)
        worker_id, failures, known_sha = row
        if ok:
            drifted = known_sha is not None and catalogue_sha256 not in (None, known_sha)
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
        else:
            failures += 1
            conn.execute(
                """UPDATE workers SET failures = %s, last_error = %s,
                          state = CASE WHEN %s >= %s AND state <> 'draining' THEN 'offline'
                                       ELSE state END
                    WHERE id = %s""",
                (failures, error, failures, OFFLINE_AFTER, worker_id),
            )
    return get_worker(conn, name)


def record_fault(conn: psycopg.Connection, name: str, error: str) -> Worker:
    """A segment was lost on the worker (it went away, timed out, lost the prompt): one more
    consecutive fault, as a failed health check counts."""
    return record_health(conn, name, ok=False, error=error)


def record_success(conn: psycopg.Connection, name: str) -> None:
    """A segment finished on the worker: its run of consecutive faults is over."""
    with writing(conn):
        conn.execute(
            """UPDATE workers SET failures = 0, last_error = NULL, last_seen_at = now()
                WHERE name = %s""",
            (name,),
        )


def describe_wait(workers: list[Worker], pool: str, requires: Requirements | None) -> str:
    """Why no worker of `pool` can take a segment now, worker by worker, in a producer's words:
    busy, draining, offline (and why), not checked yet, or lacking nodes or models."""
    if not workers:
        return (
            f"pool {pool!r} has no workers; register one with "
            f"`trulience workers add URL --pool {pool}` or set COMFYUI_WORKERS"
        )
    reasons = []
    for w in workers:
        if w.state == "offline":
            reason = "offline" + (f" ({w.last_error})" if w.last_error else "")
        elif w.state == "draining":
            reason = "draining"
        elif w.unchecked:
            reason = "not checked yet" + (f" ({w.last_error})" if w.last_error else "")
        elif requires is not None and (lacks := requires.met_by(w.capabilities)):
            reason = "lacks " + ", ".join(lacks)
        elif w.active_leases >= w.slots:
            reason = f"busy ({w.active_leases}/{w.slots} slots)"
        else:
            reason = f"free ({w.active_leases}/{w.slots} slots)"
        reasons.append(f"{w.name} {reason}")
    return f"pool {pool!r}: " + "; ".join(reasons)


def acknowledge_catalogue(conn: psycopg.Connection, name: str) -> Worker:
    """Accept a worker's changed catalogue (clears the drift flag)."""
    with writing(conn):
        conn.execute("UPDATE workers SET catalogue_drifted = false WHERE name = %s", (name,))
    return get_worker(conn, name)


def acquire(
    conn: psycopg.Connection,
    pool: str,
    holder: str,
    *,
    purpose: str = "",
    requires: Requirements | None = None,
    ttl_s: float = LEASE_TTL_S,
    exclude: Iterable[int] = (),
) -> Lease | None:
    """Lease one slot on the least-loaded online worker of `pool` that meets `requires`;
    None when every capable worker is busy (or none is online)."""
    excluded = list(exclude)
    for _ in range(_ROUNDS):
        lease, skipped = _try_acquire(conn, pool, holder, purpose, requires, ttl_s, excluded)
        if lease is not None or not skipped:
            return lease
        time.sleep(0.01)  # every free worker was being leased by someone else: look again
    return None


_ROUNDS = 20


def _try_acquire(
    conn: psycopg.Connection,
    pool: str,
    holder: str,
    purpose: str,
    requires: Requirements | None,
    ttl_s: float,
    excluded: list[int],
) -> tuple[Lease | None, bool]:
    candidates = conn.execute(
        """SELECT w.id, w.name, w.url, w.capabilities FROM workers w
            WHERE w.pool = %(pool)s AND w.state = 'online' AND NOT (w.id = ANY(%(ex)s))
            ORDER BY (SELECT count(*) FROM worker_leases l
                       WHERE l.worker_id = w.id AND l.released_at IS NULL
                         AND l.expires_at > now())::float / w.slots, w.id""",
        {"pool": pool, "ex": excluded},
    ).fetchall()
    skipped = False
    for worker_id, name, url, capabilities in candidates:
        if requires is not None and requires.met_by(capabilities):
            continue
        with writing(conn):
            # Lock only this worker: a concurrent acquirer skips it and tries the next one.
            locked = conn.execute(
                "SELECT slots FROM workers WHERE id = %s AND state = 'online' "
                "FOR UPDATE SKIP LOCKED",
                (worker_id,),
            ).fetchone()
            if locked is None:
                skipped = True
                continue
            # Count in a statement of its own: its snapshot sees the leases committed by
            # whoever held the lock before us (the locking statement's snapshot may not).
            active = conn.execute(
                "SELECT count(*) FROM worker_leases WHERE worker_id = %s "
                "AND released_at IS NULL AND expires_at > now()",
                (worker_id,),
            ).fetchone()[0]
            if active >= locked[0]:
                continue
            lease_id, expires = conn.execute(
                """INSERT INTO worker_leases (worker_id, holder, purpose, expires_at)
                   VALUES (%s, %s, %s, now() + make_interval(secs => %s))
                   RETURNING id, expires_at""",
                (worker_id, holder, purpose, ttl_s),
            ).fetchone()
            return Lease(lease_id, worker_id, name, url, holder, expires), False
    return None, skipped


def unmet(conn: psycopg.Connection, pool: str, requires: Requirements) -> dict[str, list[str]]:
    """For each online worker of the pool, what it lacks for these requirements."""
    return {
        w.name: requires.met_by(w.capabilities)
        for w in list_workers(conn, pool)
        if w.state == "online"
    }


def heartbeat(conn: psycopg.Connection, lease_id: int, ttl_s: float = LEASE_TTL_S) -> bool:
    """Extend a lease; False when it already expired or was released (the slot is lost)."""
    with writing(conn):
        updated = conn.execute(
            """UPDATE worker_leases SET heartbeat_at = now(),
                      expires_at = now() + make_interval(secs => %s)
                WHERE id = %s AND released_at IS NULL AND expires_at > now()""",
            (ttl_s, lease_id),
        ).rowcount
    return updated == 1


def release(conn: psycopg.Connection, lease_id: int, outcome: str) -> None:
    """Give a slot back: done, failed, or worker_lost."""
    with writing(conn, {"outcome": outcome}):
        conn.execute(
            "UPDATE worker_leases SET released_at = now(), outcome = %s "
            "WHERE id = %s AND released_at IS NULL",
            (outcome, lease_id),
        )


def sweep_expired(conn: psycopg.Connection) -> int:
    """Close leases whose holder stopped renewing them; returns how many."""
    with writing(conn):
        return conn.execute(
            """UPDATE worker_leases SET released_at = now(), outcome = 'expired'
                WHERE released_at IS NULL AND expires_at <= now()"""
        ).rowcount
