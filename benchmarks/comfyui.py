"""ComfyUI backend figures against the protocol-faithful fake worker (tests/fakes):

1. client overhead per segment: wall time of `ComfyUIBackend.generate_segment` minus the
   worker's own execution time (from its history timestamps), on a worker doing almost
   no work (12 frames of 64x64);
2. pool utilisation: 8 workers, segments of random length, 8 loops leasing slots through
   the catalog: busy worker-seconds / (8 x wall), and wall against the ideal schedule.

    .venv/bin/python benchmarks/comfyui.py [--segments N] [--quick]

`--quick` (run by the test suite): 8 segments, 4 workers.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fakes

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI
from trulience.catalog import migrations
from trulience.catalog.database import connect, embedded_server
from trulience.catalog.workers import done_lease_seconds
from trulience.generation.backend import SegmentRequest
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.workers import health, pool
from trulience.workers.pooled_backend import PooledBackend


def request(index: int, frames: int = 12, size: int = 64) -> SegmentRequest:
    return SegmentRequest(
        "bench/x/walk/take-1",
        index,
        frames,
        Fraction(12),
        size,
        size,
        seed=index,
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


def utilisation(tmp: Path, segments: int, workers: int = 8) -> None:
    rng = random.Random(7)
    lengths = [rng.uniform(0.2, 1.5) for _ in range(segments)]  # seconds of GPU work
    server = embedded_server(tmp / "pg", cleanup_mode="delete")
    try:
        url = server.get_uri()
        with connect(url) as conn, ExitStack() as stack:
            migrations.migrate(conn)
            fakes = [stack.enter_context(FakeComfyUI()) for _ in range(workers)]
            for i, fake in enumerate(fakes):
                _FAKES_BY_URL[fake.url.rstrip("/")] = fake
                pool.add_worker(conn, fake.url, "bench", 1, f"gpu-{i}")
                health.check_worker(conn, f"gpu-{i}")

            def run(index: int) -> None:
                work = tmp / f"u{index}"
                work.mkdir()
                # the job length is the worker's time per node: spread over the 6 nodes
                backend = PooledBackend(
                    url,
                    "bench",
                    holder=f"loop-{index % workers}",
                    backend_factory=partial(_SlowBackend, lengths[index]),
                    wait_s=120,
                    poll_s=0.05,
                )
                backend.generate_segment(seed(), request(index), work)

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as executor:
                list(executor.map(run, range(segments)))
            wall = time.perf_counter() - started
            busy = done_lease_seconds(conn)
        ideal = sum(lengths) / workers
        print(
            f"\npool utilisation: {workers} workers, {segments} segments of 0.2-1.5 s "
            f"(total {sum(lengths):.1f} s of work), {workers} concurrent loops"
        )
        print(
            f"  wall {wall:.1f} s, ideal {ideal:.1f} s ({ideal / wall:.0%} of ideal); busy "
            f"worker time {float(busy):.1f} s = {float(busy) / (workers * wall):.0%} of "
            f"{workers} x wall"
        )
    finally:
        server.cleanup()


class _SlowBackend(ComfyUIBackend):
    """A ComfyUI backend whose fake worker takes `seconds` for the job."""

    def __init__(self, seconds: float, url: str):
        super().__init__(url, segment_timeout_s=120)
        self.seconds = seconds

    def generate_segment(self, seed_frame, request, work_dir):
        _FAKES_BY_URL[self.client.base_url].slow(self.seconds / 6)
        return super().generate_segment(seed_frame, request, work_dir)


_FAKES_BY_URL: dict[str, FakeComfyUI] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, help="segments per figure (default 40)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 segments, 4 workers")
    args = parser.parse_args()
    segments = args.segments or (8 if args.quick else 40)
    print(f"{os.cpu_count()} cores")
    tmp = Path(tempfile.mkdtemp(prefix="bench-comfyui-"))
    try:
        client_overhead(tmp, segments)
        utilisation(tmp, segments, workers=4 if args.quick else 8)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
