"""ComfyUI backend figures against the protocol-faithful fake worker (tests/fakes):

1. client overhead per segment: wall time of `ComfyUIBackend.generate_segment` minus the
   worker's own execution time (from its history timestamps), on a worker doing almost
   no work (12 frames of 64x64);
2. pool utilisation: 8 workers (each a process of its own, as a GPU host is), 16 takes of
   8-14 segments of 0.2-0.8 s (a segment's seed tells the worker how long it runs), one
   loop per take, each segment after the one before (its seed frame is the last frame of
   the previous one); first with every loop polling for a free worker (the pool before its
   queue), then through the segment queue, then through the queue with one worker killed
   (SIGKILL) mid-segment a third of the way in.

The figures, per run (the segments' durations are those they took on the workers):

- ideal: the shortest schedule found for the same segments on the same workers, keeping
  each take's order (a segment starts only once the one before it ended) and losing no time
  between segments: the better of two list schedules, first come first served (what the
  queue does) and longest remaining take first (critical path first). It is never below the
  bound max(longest take, all the work / workers), printed beside it; "% of ideal" is
  ideal / wall.
- busy: seconds the workers executed / (workers x wall). The takes' order caps it below
  100 % at any speed: once fewer takes than workers remain, workers must idle. So beside it,
  "busy while there was work": executed / the integral over the run of min(workers, takes
  not finished), a take finished once its last segment executed. A take between segments
  (its outputs downloading, its next seed uploading, its next lease asked for) counts as
  work there: that time is the client's, and it is charged to us.

The killed run prints the same figures (against the full pool's ideal: what the kill cost,
its lost partial segment, the 2 s reconnect window and a worker fewer after) and checks that
every take completed with each segment once, and that no segment succeeded on two workers.

Where the rest goes (timelines of lease, POST /prompt, execution, download, release): the
GPU is empty between two prompts of a worker for about 10 ms a segment; what remains is
early binding: a segment granted a worker's queue place (queue_depth 1) waits there behind
the running prompt even when another worker frees first (in the tail, most), which the
ideal's shared queue never does.

    .venv/bin/python benchmarks/comfyui.py [--segments N] [--takes N] [--quick]

`--quick` (run by the test suite): 8 segments timed, 4 takes on 2 workers, segments 4x shorter.
"""

import argparse
import heapq
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fakes

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.comfyui_process import worker_process
from trulience.catalog import migrations
from trulience.catalog.database import connect, embedded_server
from trulience.generation.backend import SegmentRequest
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.workers import health, pool
from trulience.workers.pooled_backend import PooledBackend


def request(
    take: int, index: int, frames: int = 12, size: int = 64, seed: int | None = None
) -> SegmentRequest:
    return SegmentRequest(
        f"bench/x{take}/walk/take-1",
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
            result = backend.generate_segment(seed(), request(0, index), work)
            wall = time.perf_counter() - started
            walls.append(wall * 1000)
            overheads.append((wall - result.compute_s) * 1000)
    print(f"client overhead per segment ({segments} segments, 12 frames 64x64, zero-work fake)")
    print(
        f"  wall p50 {statistics.median(walls):.1f} ms; worker execution excluded: "
        f"p50 {statistics.median(overheads):.1f} ms, "
        f"p95 {sorted(overheads)[int(0.95 * len(overheads)) - 1]:.1f} ms"
    )


def utilisation(tmp: Path, takes: int, workers: int, scale: float = 1.0) -> None:
    """`takes` takes of random segment counts and lengths (0.2-0.8 s x `scale`) on `workers`
    fake worker processes, one loop per take: polling, the queue, the queue with a worker
    killed."""
    rng = random.Random(7)
    low, high = 0.2 * scale, 0.8 * scale
    plans = [[rng.uniform(low, high) for _ in range(rng.randint(8, 14))] for _ in range(takes)]
    print(
        f"\npool utilisation: {workers} workers, {takes} takes of 8-14 segments of "
        f"{low:g}-{high:g} s "
        f"({sum(map(len, plans))} segments), one loop per take, each segment after the one "
        "before"
    )
    seconds = {_seed(n, i): length for n, plan in enumerate(plans) for i, length in enumerate(plan)}
    seconds |= {_KILLED_RUN + key: length for key, length in seconds.items()}
    server = embedded_server(tmp / "pg", cleanup_mode="delete")
    try:
        url = server.get_uri()
        with connect(url) as conn, ExitStack() as stack:
            migrations.migrate(conn)
            hosts = []
            for i in range(workers):
                host = stack.enter_context(worker_process(seconds_of_seed=seconds, nodes=NODES))
                pool.add_worker(conn, host.url, "bench", 1, f"gpu-{i}")
                health.check_worker(conn, f"gpu-{i}")
                hosts.append(host)
            figures = {}
            for name, kind in (("polling", _PollingBackend), ("queue", PooledBackend)):
                run = _run_takes(tmp / name, url, plans, kind, workers)
                figures[name] = _report(name, run, workers)
            run = _run_takes(tmp / "killed", url, plans, PooledBackend, workers, kill=hosts[0])
            figures["killed"] = _report("queue, gpu-0 killed", run, workers)
            _check_once(run, plans, hosts[1:])
        (old_ideal, old_busy, old_work), (new_ideal, new_busy, new_work) = (
            figures["polling"],
            figures["queue"],
        )
        print(
            f"  queue vs polling: {new_ideal:.1%} vs {old_ideal:.1%} of ideal (goal >= 98%), "
            f"busy while there was work {new_work:.1%} vs {old_work:.1%} (goal >= 97%), "
            f"busy {new_busy:.1%} vs {old_busy:.1%}; with a worker killed "
            f"{figures['killed'][0]:.1%} of ideal"
        )
    finally:
        server.cleanup()


@dataclass
class Run:
    """What one run of the takes did: its wall time (and start, epoch seconds), each take's
    segments' execution (start, end) on the workers, and their results' metadata."""

    wall: float
    started: float
    executed: list[list[tuple[float, float]]]
    metadata: list[list[dict]]
    killed_at: float | None = None


def _report(name: str, run: Run, workers: int) -> tuple[float, float, float]:
    """Print one run's figures (see the module docstring); (of ideal, busy, busy with work)."""
    lengths = [[end - start for start, end in take] for take in run.executed]
    busy = sum(map(sum, lengths))
    ideal = min(ideal_schedule(lengths, workers), ideal_schedule(lengths, workers, longest=True))
    bound = max(max(map(sum, lengths)), busy / workers)
    ends = sorted(take[-1][1] - run.started for take in run.executed)
    # min(workers, takes not finished) integrated over the run: piecewise constant
    possible, at, left = 0.0, 0.0, len(ends)
    for end in ends:
        possible += min(workers, left) * (end - at)
        at, left = end, left - 1
    killed = "" if run.killed_at is None else f" (killed at {run.killed_at:.1f} s)"
    print(
        f"  {name}: wall {run.wall:.1f} s{killed}, ideal {ideal:.1f} s ({ideal / run.wall:.1%} "
        f"of ideal), bound {bound:.1f} s; workers executing {busy:.1f} s = "
        f"{busy / (workers * run.wall):.1%} busy (the ideal's {busy / (workers * ideal):.1%}), "
        f"{busy / possible:.1%} busy while there was work"
    )
    return ideal / run.wall, busy / (workers * run.wall), busy / possible


def _check_once(run: Run, plans: list[list[float]], survivors: list) -> None:
    """Every take complete, each segment once; none succeeded on two surviving workers."""
    assert [len(take) for take in run.executed] == list(map(len, plans)), "a take is short"
    seeds = [seed for host in survivors for seed in host.succeeded_seeds()]
    twice = sorted({seed for seed in seeds if seeds.count(seed) > 1 and seed >= _KILLED_RUN})
    moved = sum(bool(m.get("failed_over_from")) for take in run.metadata for m in take)
    print(
        f"  killed worker: every take complete, {moved} segment(s) moved to another worker, "
        f"{len(twice)} segment(s) run to success twice"
    )
    assert not twice, f"segments run twice: {twice}"


def ideal_schedule(takes: list[list[float]], workers: int, longest: bool = False) -> float:
    """The wall time of running each take's segments in order on `workers` workers with no
    time lost between segments, each ready segment given the first free worker: first come
    first served, or (`longest`) the take with the most work left first."""
    remaining = [sum(take) for take in takes]
    ready = [(-remaining[n] if longest else 0.0, 0.0, n, 0) for n in range(len(takes))]
    heapq.heapify(ready)
    free_at = [0.0] * workers
    end = 0.0
    while ready:
        # the next segment to start: the earliest ready (FCFS), or among those ready when a
        # worker frees, the one whose take has most left
        worker = min(range(workers), key=free_at.__getitem__)
        if longest:
            now = max(free_at[worker], min(at for _, at, _, _ in ready))
            candidates = [r for r in ready if r[1] <= now]
            chosen = min(candidates)
            ready.remove(chosen)
            heapq.heapify(ready)
            _, at, number, index = chosen
        else:
            _, at, number, index = heapq.heappop(ready)
        length = takes[number][index]
        done = max(at, free_at[worker]) + length
        free_at[worker] = done
        end = max(end, done)
        remaining[number] -= length
        if index + 1 < len(takes[number]):
            key = -remaining[number] if longest else done
            heapq.heappush(ready, (key, done, number, index + 1))
    return end


def _run_takes(
    tmp: Path, url: str, plans: list[list[float]], kind: type, workers: int, kill=None
) -> Run:
    """Run every take's segments in order, the takes at once (killing `kill`, a worker
    process, once it executes a prompt a third of the ideal wall in)."""
    tmp.mkdir()
    executed: list[list[tuple[float, float]]] = [[] for _ in plans]
    metadata: list[list[dict]] = [[] for _ in plans]
    offset = _KILLED_RUN if kill is not None else 0
    factory = partial(ComfyUIBackend, segment_timeout_s=60, reconnect_timeout_s=2)

    def take(number: int) -> None:
        with kind(
            url, "bench", backend_factory=factory, holder=f"take-{number}", wait_s=600, poll_s=0.05
        ) as backend:
            frame = seed()
            for index in range(len(plans[number])):
                work = tmp / f"t{number}-{index}"
                work.mkdir()
                segment = request(number, index, seed=offset + _seed(number, index))
                result = backend.generate_segment(frame, segment, work)
                start, end = result.metadata["server_executed_at"]
                executed[number].append((start, end))
                metadata[number].append(result.metadata)
                frame = result.last_frame

    killed_at: list[float] = []
    started = time.time()
    with ThreadPoolExecutor(max_workers=len(plans) + 1) as executor:
        if kill is not None:
            after = sum(map(sum, plans)) / workers / 3
            executor.submit(_kill_mid_segment, kill, started + after, killed_at)
        list(executor.map(take, range(len(plans))))
    wall = time.time() - started
    return Run(wall, started, executed, metadata, killed_at[0] - started if killed_at else None)


def _kill_mid_segment(host, after: float, killed_at: list[float]) -> None:
    """SIGKILL the worker process `host` at its first prompt running after `after`."""
    time.sleep(max(0.0, after - time.time()))
    while not host.running_prompts():
        time.sleep(0.01)
    host.kill()
    killed_at.append(time.time())


class _PollingBackend(PooledBackend):
    """The pool before its queue: each loop tries for a free worker every `poll_s`."""

    def _wait_for_lease(self, conn, requires, request, suspects):
        while True:
            lease = pool.acquire(conn, self.pool, self.holder, requires=requires, ttl_s=self.ttl_s)
            if lease is not None:
                return lease
            time.sleep(self.poll_s)


NODES = len(WORKFLOW)  # a segment's time is spread over its workflow's nodes
_KILLED_RUN = 1_000_000  # the killed run's seeds: apart from the runs before on the same workers


def _seed(take: int, index: int) -> int:
    return 1000 * take + index


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
        utilisation(tmp, takes, workers=2 if args.quick else 8, scale=0.25 if args.quick else 1.0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
