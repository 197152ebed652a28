"""Generation on a pool of ComfyUI workers: each segment leases a slot on a capable
worker, keeps the lease alive with a heartbeat while the worker runs it, and moves to
another worker if this one dies (the segment is committed only once, by the loop).

A worker known only from its URL is health-checked (its catalogue recorded) before its
first lease. After a transient error the same worker may take the segment again as soon as
a health check passes, so a pool of one survives a restart without waiting out `wait_s`.
A take that waits for a lease says every `report_s` what it waits for.

Per segment the pool costs a few catalog transactions, nothing more: each thread keeps its
catalog and LISTEN connections and one backend per worker (its HTTP session and node
schemas) across segments, one thread renews every lease of the backend, and a slot goes
back to the queue as soon as the worker's execution ended (the outputs are fetched after:
downloading uses no GPU). `close()` closes all of it.
"""

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from trulience.catalog import events
from trulience.catalog.database import connect
from trulience.generation.backend import (
    GenerationBackend,
    OperatorInterrupted,
    SegmentRequest,
    SegmentResult,
    TransientBackendError,
)
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.generation.comfyui.errors import PromptInterrupted
from trulience.progress import duration
from trulience.workers import health, pool, segment_queue

BackendFactory = Callable[[str], GenerationBackend]
Report = Callable[[str], None]

log = logging.getLogger(__name__)


class PooledBackend:
    """Runs segments on the workers of one pool, through the catalog's leases."""

    name = "comfyui"

    def __init__(
        self,
        database_url: str,
        pool_name: str = "default",
        *,
        backend_factory: BackendFactory = ComfyUIBackend,
        holder: str = "loop",
        ttl_s: float = pool.LEASE_TTL_S,
        heartbeat_s: float | None = None,
        wait_s: float = 600.0,
        poll_s: float = 1.0,
        attempts: int = 3,
        recheck_s: float = 5.0,
        report_s: float = 5.0,
        check_timeout_s: float = 5.0,
        report: Report | None = None,
    ):
        self.database_url, self.pool = database_url, pool_name
        self.backend_factory, self.holder = backend_factory, holder
        self.ttl_s, self.heartbeat_s = ttl_s, heartbeat_s or ttl_s / 4
        self.wait_s, self.poll_s, self.attempts = wait_s, poll_s, attempts
        self.recheck_s, self.report_s, self.check_timeout_s = recheck_s, report_s, check_timeout_s
        self.report = report or log.warning
        self._local = threading.local()  # this thread's connections and worker backends
        self._opened: list = []  # every connection and backend opened, for close()
        self._opened_lock = threading.Lock()
        self._beats = _Heartbeats(database_url, ttl_s, self.heartbeat_s)
        # a queued request outlives a few missed renewals, not a dead waiter
        self.alive_s = max(3 * max(self.recheck_s, self.report_s), segment_queue.ALIVE_S)

    def close(self) -> None:
        """Close the connections (catalog, LISTEN, heartbeat) and worker sessions of every
        thread that generated; the backend may generate again after (reopening them)."""
        self._beats.stop()
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for thing in opened:
            try:
                thing.close()
            except Exception:  # closing what broke already must not hide the caller's error
                log.debug("closing %r", thing, exc_info=True)

    def __enter__(self) -> "PooledBackend":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        """Generate on a leased worker, failing over to another one when it is lost (or
        back to the same one once its health check passes again)."""
        requires = pool.Requirements.of_workflow(request.workflow)
        tries = _Failover()
        conn = self._catalog()
        for _ in range(self.attempts):
            try:
                lease = self._wait_for_lease(conn, requires, request, tries.suspects)
            except TransientBackendError as exc:
                raise _failure(request, [*tries.errors, str(exc)]) from exc
            result = self._attempt(conn, lease, seed_frame, request, work_dir, tries)
            if result is not None:
                return result
        raise _failure(request, tries.errors)

    def _attempt(
        self,
        conn,
        lease: pool.Lease,
        seed_frame: np.ndarray,
        request: SegmentRequest,
        work_dir: Path,
        tries: "_Failover",
    ) -> SegmentResult | None:
        """Run the segment on a leased worker under a heartbeat: its result, or None (the
        reason noted in `tries`) when the segment may run again. The slot is given back as
        soon as the worker's execution ended, before the outputs are fetched."""
        beat = self._beats.add(lease.id)
        backend = self._backend(lease.url)
        released = False

        def executed() -> None:  # the GPU is free: the next segment may start there
            nonlocal released
            self._beats.remove(lease.id)
            pool.release(conn, lease.id, "done")
            released = True

        hook = getattr(backend, "on_executed", _NO_HOOK)
        if hook is not _NO_HOOK:
            backend.on_executed = executed
        try:
            result = backend.generate_segment(seed_frame, request, work_dir)
        except PromptInterrupted as exc:
            # someone interrupted the prompt on a worker that answered: not the
            # worker's fault, and it may run the segment again at once
            self._beats.remove(lease.id)
            pool.release(conn, lease.id, "interrupted")
            tries.errors.append(f"{lease.worker}: {exc}")
            return None
        except TransientBackendError as exc:
            self._beats.remove(lease.id)
            self._forget_backend(lease.url)  # a fresh session and schemas when it is back
            if not released:
                pool.release(conn, lease.id, "worker_lost")
            pool.record_fault(conn, lease.worker, str(exc))
            tries.suspects.add(lease.worker_id)
            tries.errors.append(f"{lease.worker}: {exc}")
            return None
        except BaseException:
            self._beats.remove(lease.id)
            if not released:
                pool.release(conn, lease.id, "failed")
            raise
        finally:
            if hook is not _NO_HOOK:
                backend.on_executed = hook
        self._beats.remove(lease.id)
        if released:
            pool.record_success(conn, lease.worker)
        else:
            pool.release(conn, lease.id, "done", succeeded_on=lease.worker)
        metadata = {
            **result.metadata,
            "worker_name": lease.worker,
            "worker_url": lease.url,
            "failed_over_from": tries.errors,
        }
        if beat.lost:  # the lease expired under us: still our result, but say so
            metadata["lease_lost"] = True
        # the pool ran the request's workflow on this worker: provenance names both
        return dataclasses.replace(
            result,
            worker=lease.worker,
            metadata=metadata,
            ran_workflow=request.workflow is not None,
        )

    def _wait_for_lease(
        self, conn, requires: pool.Requirements, request: SegmentRequest, suspects: set[int]
    ) -> pool.Lease:
        """Queue the segment for a slot and wait for its grant (a notification wakes the
        wait at once); meanwhile health-check workers, say what it waits for, and stop
        when the take is cancelled or `wait_s` is over."""
        started = time.monotonic()
        next_check, next_report = started, started + self.report_s
        self._check(conn, set(), unchecked_only=True)  # known only from a URL: checked first
        self._listener()  # listening before asking, so no grant goes unheard
        request_id = segment_queue.request_slot(
            conn,
            self.pool,
            self.holder,
            purpose=_purpose(request),
            requires=requires,
            ttl_s=self.ttl_s,
            exclude=suspects,
            take_id=request.take_id,
            segment=request.index,
            alive_s=self.alive_s,
        )
        try:
            while True:
                lease = segment_queue.granted(conn, request_id)
                if lease is not None:
                    request_id = None
                    return lease
                now = time.monotonic()
                if now >= next_check:
                    # a restarted or recovered worker may be healthy again (a pool of one)
                    passed = self._check(conn, suspects)
                    if passed & suspects:
                        suspects.difference_update(passed)
                        segment_queue.exclude_workers(conn, request_id, suspects)
                    segment_queue.note_wait(conn, request_id, alive_s=self.alive_s)  # still here
                    segment_queue.dispatch(conn, self.pool)  # leases may have expired meanwhile
                    next_check = now + self.recheck_s
                    continue
                by = request.watch.cancelled_by() if request.watch is not None else None
                if by is not None:  # nobody wants the segment any more: stop waiting
                    raise OperatorInterrupted(
                        f"{request.scene} segment {request.index}: the take was cancelled by "
                        f"{by} while it waited for a worker",
                        by=by,
                    )
                waited = now - started
                if waited >= self.wait_s:
                    raise TransientBackendError(
                        f"no worker free for {duration(waited)}: {self._why(conn, requires)}"
                    )
                if now >= next_report:
                    why = self._why(conn, requires)
                    segment_queue.note_wait(
                        conn, request_id, why, self.alive_s
                    )  # workers list shows it
                    self.report(
                        f"{request.scene} segment {request.index + 1}: waiting "
                        f"{duration(waited)} for a worker; {why}"
                    )
                    next_report = now + self.report_s
                self._await_grant(request_id, min(next_check, next_report) - now)
        finally:
            if request_id is not None:
                segment_queue.give_up(conn, request_id)

    def _await_grant(self, request_id: int, timeout_s: float) -> None:
        """Until this request's grant is announced, `poll_s` passes (the take's control is
        looked at that often) or `timeout_s`."""
        listener = self._listener()
        for event in events.events(listener, max(min(timeout_s, self.poll_s), 0.0)):
            if event.payload.get("request") == request_id:
                return

    def _listener(self):
        """This thread's listening connection, kept for its later segments."""
        conn = getattr(self._local, "listener", None)
        if conn is None or conn.closed:
            conn = self._keep(connect(self.database_url))
            events.listen(conn, [events.POOL])
            self._local.listener = conn
        return conn

    def _catalog(self):
        """This thread's catalog connection (its changes audited as the pool's holder)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = self._keep(connect(self.database_url, actor=f"pool:{self.holder}"))
            self._local.conn = conn
        return conn

    def _backend(self, url: str) -> GenerationBackend:
        """This thread's backend on the worker at `url`, kept across segments."""
        backends = self._local.__dict__.setdefault("backends", {})
        if url not in backends:
            backends[url] = self._keep(self.backend_factory(url))
        return backends[url]

    def _forget_backend(self, url: str) -> None:
        backend = self._local.__dict__.get("backends", {}).pop(url, None)
        if backend is not None and callable(getattr(backend, "close", None)):
            backend.close()

    def _keep(self, thing):
        with self._opened_lock:
            self._opened.append(thing)
        return thing

    def _check(self, conn, suspects: set[int], unchecked_only: bool = False) -> set[int]:
        """Health-check the pool's workers never checked (and unless `unchecked_only`, those
        offline or in `suspects`, draining ones aside); the ids of those that passed."""
        passed = set()
        for worker in pool.list_workers(conn, self.pool):
            if worker.state == "draining":
                continue
            again = worker.state == "offline" or worker.id in suspects
            if (worker.state == "online" and worker.unchecked) or (again and not unchecked_only):
                checked = health.check_worker(conn, worker.name, self.check_timeout_s)
                if checked.state == "online" and not checked.last_error:
                    passed.add(worker.id)
        return passed

    def _why(self, conn, requires: pool.Requirements) -> str:
        return pool.describe_wait(pool.list_workers(conn, self.pool), self.pool, requires)


def _purpose(request: SegmentRequest) -> str:
    return f"{request.scene} segment {request.index}"


@dataclasses.dataclass
class _Failover:
    """One segment's tries so far: what went wrong on each worker, and the workers that lost
    it (leased again only after a passing health check)."""

    errors: list[str] = dataclasses.field(default_factory=list)
    suspects: set[int] = dataclasses.field(default_factory=set)


def _failure(request: SegmentRequest, errors: list[str]) -> TransientBackendError:
    """The error a segment ends with: its first cause first (what went wrong to begin with),
    then what happened after."""
    where = f"segment {request.index} of {request.scene}"
    if not errors:
        return TransientBackendError(f"{where}: no attempt was made")
    then = f" (then: {'; '.join(errors[1:])})" if len(errors) > 1 else ""
    return TransientBackendError(f"{where} failed: {errors[0]}{then}")


_NO_HOOK = object()


class _Beat:
    """One lease under the heartbeat; `lost` once a renewal found it expired."""

    lost = False


class _Heartbeats:
    """Renews the backend's leases every `every_s` from one thread and connection (started
    with the first lease, stopped by `stop`); notes the leases found lost."""

    def __init__(self, database_url: str, ttl_s: float, every_s: float):
        self.database_url, self.ttl_s, self.every_s = database_url, ttl_s, every_s
        self._leases: dict[int, _Beat] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, lease_id: int) -> _Beat:
        beat = _Beat()
        with self._lock:
            self._leases[lease_id] = beat
            if self._thread is None or not self._thread.is_alive():
                self._halt.clear()
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
        return beat

    def remove(self, lease_id: int) -> None:
        with self._lock:
            self._leases.pop(lease_id, None)

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        with connect(self.database_url) as conn:
            while not self._halt.wait(self.every_s):
                with self._lock:
                    leases = list(self._leases.items())
                for lease_id, beat in leases:
                    if not beat.lost and not pool.heartbeat(conn, lease_id, self.ttl_s):
                        beat.lost = True
