"""ComfyUI backend figures against the protocol-faithful fake worker (tests/fakes):

1. client overhead per segment: wall time of `ComfyUIBackend.generate_segment` minus the
   worker's own execution time (from its history timestamps), on a worker doing almost
   no work (12 frames of 64x64);
2. pool utilisation: 8 workers, 16 takes of 3-6 segments of random length, one loop per
   take (each segment after the one before): worker execution seconds / (8 x wall), and
   wall against the ideal schedule; first with every loop polling for a free worker (the
   pool before its queue), then through the segment queue, whose grants are notified.

    .venv/bin/python benchmarks/comfyui.py [--segments N] [--takes N] [--quick]

`--quick` (run by the test suite): 8 segments timed, 4 takes on 2 workers.
"""

import argparse
import heapq
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fakes

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI, Faults
from trulience.catalog import migrations
from trulience.catalog.database import connect, embedded_server
from trulience.generation.backend import SegmentRequest
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.workers import health, pool
from trulience.workers.pooled_backend import PooledBackend


def request(
    index: int, frames: int = 12, size: int = 64, seed: int | None = None
) -> SegmentRequest:
    return SegmentRequest(
        "bench/x/walk/take-1",
        index,
        frames,
        Fraction(12),
        size,
        size,
        seed=index if seed is None else seed,
        params={"slots": SLOTS},
        workflow=WORKFLOW,
    )


def seed(size: int = 64) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)


def client_overhead(tmp: Path, segments: int) -> None:
    with FakeComfyUI() as fake:
        backend = ComfyUIBackend(fake.url, segment_timeout_s=60)
        overheads, walls = [], []
        for index in range(segments):
            work = tmp / f"o{index}"
            work.mkdir()
            started = time.perf_counter()
            result = backend.generate_segment(seed(), request(index), work)
            wall = time.perf_counter() - started
            walls.append(wall * 1000)
            overheads.append((wall - result.compute_s) * 1000)
    print(f"client overhead per segment ({segments} segments, 12 frames 64x64, zero-work fake)")
    print(
        f"  wall p50 {statistics.median(walls):.1f} ms; worker execution excluded: "
        f"p50 {statistics.median(overheads):.1f} ms, "
        f"p95 {sorted(overheads)[int(0.95 * len(overheads)) - 1]:.1f} ms"
    )


def utilisation(tmp: Path, takes: int, workers: int) -> None:
    """`takes` takes of random segment counts and lengths on `workers` fake workers, one
    loop per take (each segment waits for the one before): first with every loop polling
    for a free worker (as the pool did before its queue), then through the segment queue."""
    rng = random.Random(7)
    plans = [[rng.uniform(0.2, 0.8) for _ in range(rng.randint(8, 14))] for _ in range(takes)]
    print(
        f"\npool utilisation: {workers} workers, {takes} takes of 8-14 segments of 0.2-0.8 s "
        f"({sum(map(len, plans))} segments), one loop per take; the ideal schedule runs the "
        "same segments, as long as they executed, first come first served with no overhead"
    )
    # each worker is a process of its own, as a GPU host is: nothing it does waits for the
    # loops' interpreter lock; a segment's seed tells the worker how long it takes
    seconds = {_seed(n, i): length for n, plan in enumerate(plans) for i, length in enumerate(plan)}
    server = embedded_server(tmp / "pg", cleanup_mode="delete")
    try:
        url = server.get_uri()
        with connect(url) as conn, ExitStack() as stack:
            migrations.migrate(conn)
            for i in range(workers):
                worker_url = stack.enter_context(_worker_process(seconds))
                pool.add_worker(conn, worker_url, "bench", 1, f"gpu-{i}")
                health.check_worker(conn, f"gpu-{i}")
            figures = {}
            for name, kind in (("polling", _PollingBackend), ("queue", PooledBackend)):
                wall, executed = _run_takes(tmp / name, url, plans, kind)
                busy = sum(map(sum, executed))  # seconds the workers executed prompts
                ideal = ideal_schedule(executed, workers)
                figures[name] = (ideal / wall, busy / (workers * wall))
                print(
                    f"  {name}: wall {wall:.1f} s, ideal {ideal:.1f} s ({ideal / wall:.1%} of "
                    f"ideal); workers executing {busy:.1f} s = {busy / (workers * wall):.1%} "
                    f"of {workers} x wall"
                )
        (old_ideal, old_busy), (new_ideal, new_busy) = figures["polling"], figures["queue"]
        print(
            f"  queue vs polling: {new_ideal:.1%} vs {old_ideal:.1%} of ideal (goal >= 98%), "
            f"busy {new_busy:.1%} vs {old_busy:.1%} (goal >= 97%)"
        )
    finally:
        server.cleanup()


def ideal_schedule(takes: list[list[float]], workers: int) -> float:
    """The wall time of running each take's segments in order on `workers` workers, each
    segment given the first free worker the moment the one before it ends (first come,
    first served), with no time lost between segments."""
    ready = [(0.0, number, 0) for number in range(len(takes))]
    heapq.heapify(ready)
    free_at = [0.0] * workers
    end = 0.0
    while ready:
        at, number, index = heapq.heappop(ready)
        worker = min(range(workers), key=free_at.__getitem__)
        done = max(at, free_at[worker]) + takes[number][index]
        free_at[worker] = done
        end = max(end, done)
        if index + 1 < len(takes[number]):
            heapq.heappush(ready, (done, number, index + 1))
    return end


def _run_takes(
    tmp: Path, url: str, plans: list[list[float]], kind: type
) -> tuple[float, list[list[float]]]:
    """Run every take's segments in order, the takes at once: the wall time, and the
    seconds each take's segments executed on their workers."""
    tmp.mkdir()
    executed: list[list[float]] = [[] for _ in plans]

    def take(number: int) -> None:
        backend = kind(url, "bench", holder=f"take-{number}", wait_s=600, poll_s=0.05)
        for index in range(len(plans[number])):
            work = tmp / f"t{number}-{index}"
            work.mkdir()
            segment = request(index, seed=_seed(number, index))
            result = backend.generate_segment(seed(), segment, work)
            executed[number].append(result.compute_s)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(plans)) as executor:
        list(executor.map(take, range(len(plans))))
    return time.perf_counter() - started, executed


class _PollingBackend(PooledBackend):
    """The pool before its queue: each loop tries for a free worker every `poll_s`."""

    def _wait_for_lease(self, conn, requires, request, suspects):
        while True:
            lease = pool.acquire(conn, self.pool, self.holder, requires=requires, ttl_s=self.ttl_s)
            if lease is not None:
                return lease
            time.sleep(self.poll_s)


NODES = len(WORKFLOW)  # a segment's time is spread over its workflow's nodes


def _seed(take: int, index: int) -> int:
    return 1000 * take + index


@contextmanager
def _worker_process(seconds: dict[int, float]) -> Iterator[str]:
    """A fake ComfyUI worker in a process of its own; its URL."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_worker, args=(seconds, theirs), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send("stop")
        process.join(timeout=10)


def _serve_worker(seconds: dict[int, float], pipe) -> None:
    def per_node(prompt: dict) -> float:
        seeds = [
            node["inputs"]["seed"]
            for node in prompt.values()
            if isinstance(node.get("inputs", {}).get("seed"), int)
        ]
        return seconds.get(seeds[0], 0.0) / NODES if seeds else 0.0

    with FakeComfyUI(faults=Faults(seconds_per_node_of=per_node)) as fake:
        pipe.send(fake.url)
        pipe.recv()  # until the benchmark is done with it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, help="segments timed for the client (40)")
    parser.add_argument("--takes", type=int, help="takes run on the pool (default 16)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 takes, 2 workers")
    args = parser.parse_args()
    segments = args.segments or (8 if args.quick else 40)
    takes = args.takes or (4 if args.quick else 16)
    print(f"{os.cpu_count()} cores")
    tmp = Path(tempfile.mkdtemp(prefix="bench-comfyui-"))
    try:
        client_overhead(tmp, segments)
        utilisation(tmp, takes, workers=2 if args.quick else 8)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
