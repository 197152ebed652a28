"""The worker pool (PRD-46): ComfyUI workers registered in the catalog, with states,
capabilities, and slot leases taken with `FOR UPDATE SKIP LOCKED`.

A segment leases one slot of the least-loaded online worker that can run its workflow
(node classes and model files from the worker's own /object_info). The lease has a
heartbeat and an expiry: a run or a worker that dies stops renewing it, it expires, and
the slot is free again.

The pool decides (who gets a slot, when a worker goes offline); trulience/catalog/workers.py
runs the statements. Segments wait for a slot in the segment queue (segment_queue.py), to
which the pool hands every slot it frees. Worker, Lease, get_worker and list_workers are
the catalog's, used from here by the pool's callers.
"""

import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import psycopg

from trulience.catalog import workers as catalog
from trulience.catalog.errors import InvalidValue, NotFound, writing
from trulience.catalog.workers import Lease, Worker, get_worker, list_workers
from trulience.config import mask_secrets
from trulience.errors import TrulienceError
from trulience.slugs import slugify
from trulience.workers import segment_queue
from trulience.workers.requirements import Requirements
from trulience.workers.segment_queue import LEASE_TTL_S

# Consecutive faults (failed health checks or segments lost on the worker, with no success
# in between) after which a worker is taken offline. A success resets the count: three blips
# hours apart say nothing about a worker, three in a row do.
OFFLINE_AFTER = 3


class WorkerUnavailable(TrulienceError):
    """No worker of the pool can take the work now."""


def add_worker(
    conn: psycopg.Connection,
    url: str,
    pool: str = "default",
    slots: int = 1,
    name: str | None = None,
    queue_depth: int = 1,
) -> Worker:
    """Register a ComfyUI worker (its name defaults to one made from the URL's host, port
    and path: never from its userinfo, which may hold a proxy's password). It is given
    `queue_depth` segments beyond its slots, queued in ComfyUI, so its GPU never waits for
    the next one to be sent."""
    parts = urlsplit(url)
    name = name or slugify(f"{parts.hostname or ''}-{parts.port or ''}{parts.path}".strip("-"))
    shown = mask_secrets(url)
    values = {"name": name, "url": shown, "pool": pool, "slots": slots, "queue_depth": queue_depth}
    with writing(conn, values):
        catalog.insert_worker(conn, name, url.rstrip("/"), pool, slots, queue_depth)
    return get_worker(conn, name)


def set_state(conn: psycopg.Connection, name: str, state: str) -> Worker:
    """online, draining (finish current leases, take no new ones) or offline."""
    with writing(conn, {"state": state}):
        if not catalog.set_worker_state(conn, name, state):
            raise NotFound("worker", name)
    worker = get_worker(conn, name)
    if worker.state == "online":
        segment_queue.dispatch(conn, worker.pool)
    return worker


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
        catalog.delete_worker(conn, worker.id)


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
        known = catalog.health_record_for_update(conn, name)
        if known is None:
            raise NotFound("worker", name)
        if ok:
            known_sha = known.catalogue_sha256
            drifted = known_sha is not None and catalogue_sha256 not in (None, known_sha)
            catalog.record_healthy(conn, known.id, capabilities, catalogue_sha256, drifted)
        else:
            failures = known.failures + 1
            catalog.record_unhealthy(conn, known.id, failures, error, failures >= OFFLINE_AFTER)
    worker = get_worker(conn, name)
    if worker.state == "online":  # (back) online: its free slots go to who waits
        segment_queue.dispatch(conn, worker.pool)
    return worker


def record_fault(conn: psycopg.Connection, name: str, error: str) -> Worker:
    """A segment was lost on the worker (it went away, timed out, lost the prompt): one more
    consecutive fault, as a failed health check counts."""
    return record_health(conn, name, ok=False, error=error)


def record_success(conn: psycopg.Connection, name: str) -> None:
    """A segment finished on the worker: its run of consecutive faults is over."""
    catalog.clear_faults(conn, name)


def healthy_capacity(workers: Iterable[Worker]) -> int:
    """How many segments the online workers take at once: their slots, and what each may
    queue beyond them."""
    return sum(w.slots + w.queue_depth for w in workers if w.state == "online")


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
        elif w.active_leases > w.slots:
            reason = f"busy ({w.slots}/{w.slots} slots, {w.active_leases - w.slots} queued)"
        elif w.active_leases == w.slots:
            reason = f"busy ({w.active_leases}/{w.slots} slots)"
        else:
            reason = f"free ({w.active_leases}/{w.slots} slots)"
        reasons.append(f"{w.name} {reason}")
    hint = ""
    if requires is not None and any(
        lack.startswith("model ") for w in workers for lack in requires.met_by(w.capabilities)
    ):
        hint = (
            " (a missing model is installed on a worker's host by `trulience models sync "
            "--comfyui-root DIR`, once registered with `trulience models add`)"
        )
    return f"pool {pool!r}: " + "; ".join(reasons) + hint


def acknowledge_catalogue(conn: psycopg.Connection, name: str) -> Worker:
    """Accept a worker's changed catalogue (clears the drift flag)."""
    catalog.clear_catalogue_drift(conn, name)
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
    skipped = False
    for worker in catalog.lease_candidates(conn, pool, excluded):
        if requires is not None and requires.met_by(worker.capabilities):
            continue
        with writing(conn):
            # Lock only this worker: a concurrent acquirer skips it and tries the next one.
            slots = catalog.online_slots_for_update_skip_locked(conn, worker.id)
            if slots is None:
                skipped = True
                continue
            # Count in a statement of its own: its snapshot sees the leases committed by
            # whoever held the lock before us (the locking statement's snapshot may not).
            if catalog.active_leases(conn, worker.id) >= slots:
                continue
            lease = catalog.insert_lease(conn, worker.id, holder, purpose, ttl_s)
            taken = Lease(lease.id, worker.id, worker.name, worker.url, holder, lease.expires_at)
            return taken, False
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
    return catalog.renew_lease(conn, lease_id, ttl_s)


def release(
    conn: psycopg.Connection, lease_id: int, outcome: str, *, succeeded_on: str | None = None
) -> None:
    """Give a slot back (done, failed, or worker_lost): it goes at once to the first segment
    waiting in its pool's queue that the worker can run. With `succeeded_on` (the worker's
    name) its run of faults ends too, in the same transaction (one commit per segment)."""
    with writing(conn):
        pool = catalog.release_lease(conn, lease_id, outcome)
        if pool is not None:
            segment_queue.dispatch(conn, pool)
        if succeeded_on is not None:  # after the hand-out: its locks are taken in its order
            catalog.clear_faults(conn, succeeded_on)


def sweep_expired(conn: psycopg.Connection) -> int:
    """Close leases whose holder stopped renewing them (their slots go to who waits);
    returns how many."""
    expired = catalog.expire_leases(conn)
    if expired:
        for pool in sorted({w.pool for w in segment_queue.waiting(conn)}):
            segment_queue.dispatch(conn, pool)
    return expired
