"""Generation on a pool of ComfyUI workers: each segment leases a slot on a capable
worker, keeps the lease alive with a heartbeat while the worker runs it, and moves to
another worker if this one dies (the segment is committed only once, by the loop)."""

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from trulience.catalog.database import connect
from trulience.generation.backend import (
    GenerationBackend,
    SegmentRequest,
    SegmentResult,
    TransientBackendError,
)
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.workers import pool

BackendFactory = Callable[[str], GenerationBackend]


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
    ):
        self.database_url, self.pool = database_url, pool_name
        self.backend_factory, self.holder = backend_factory, holder
        self.ttl_s, self.heartbeat_s = ttl_s, heartbeat_s or ttl_s / 4
        self.wait_s, self.poll_s, self.attempts = wait_s, poll_s, attempts

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        """Generate on a leased worker, failing over to another one when it is lost."""
        requires = pool.Requirements(
            frozenset(
                node.get("class_type")
                for node in (request.workflow or {}).values()
                if isinstance(node, dict) and node.get("class_type")
            )
        )
        tried: list[int] = []
        errors: list[str] = []
        with connect(self.database_url, actor=f"pool:{self.holder}") as conn:
            for _ in range(self.attempts):
                lease = self._wait_for_lease(conn, requires, request, tried)
                beat = _Heartbeat(self.database_url, lease.id, self.ttl_s, self.heartbeat_s)
                beat.start()
                try:
                    result = self.backend_factory(lease.url).generate_segment(
                        seed_frame, request, work_dir
                    )
                except TransientBackendError as exc:
                    beat.stop()
                    pool.release(conn, lease.id, "worker_lost")
                    pool.record_health(conn, lease.worker, ok=False, error=str(exc))
                    tried.append(lease.worker_id)
                    errors.append(f"{lease.worker}: {exc}")
                    continue
                except BaseException:
                    beat.stop()
                    pool.release(conn, lease.id, "failed")
                    raise
                beat.stop()
                pool.release(conn, lease.id, "done")
                if beat.lost:  # the lease expired under us: still our result, but say so
                    result.metadata["lease_lost"] = True
                result.metadata["worker_name"] = lease.worker
                result.metadata["failed_over_from"] = errors
                return result
        raise TransientBackendError(
            f"segment {request.index} of {request.scene} failed on {len(errors)} worker(s): "
            + "; ".join(errors)
        )

    def _wait_for_lease(
        self, conn, requires: pool.Requirements, request: SegmentRequest, tried: list[int]
    ) -> pool.Lease:
        stop = threading.Event()
        waited = 0.0
        while True:
            lease = pool.acquire(
                conn,
                self.pool,
                self.holder,
                requires=requires,
                ttl_s=self.ttl_s,
                exclude=tried,
                purpose=f"{request.scene} segment {request.index}",
            )
            if lease is not None:
                return lease
            if waited >= self.wait_s:
                lacking = {k: v for k, v in pool.unmet(conn, self.pool, requires).items() if v}
                detail = f"; workers lacking what the workflow needs: {lacking}" if lacking else ""
                raise TransientBackendError(
                    f"no worker of pool {self.pool!r} free for {self.wait_s:.0f} s{detail}"
                )
            stop.wait(self.poll_s)
            waited += self.poll_s


class _Heartbeat(threading.Thread):
    """Renews a lease on its own connection until stopped; notes if the lease was lost."""

    def __init__(self, database_url: str, lease_id: int, ttl_s: float, every_s: float):
        super().__init__(daemon=True)
        self.database_url, self.lease_id = database_url, lease_id
        self.ttl_s, self.every_s = ttl_s, every_s
        self._halt = threading.Event()
        self.lost = False

    def run(self) -> None:
        with connect(self.database_url) as conn:
            while not self._halt.wait(self.every_s):
                if not pool.heartbeat(conn, self.lease_id, self.ttl_s):
                    self.lost = True
                    return

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
