"""Loop overhead: what the recursive loop costs per segment beyond the backend's own time
(store the video and the lossless last frame, sha256, probe, the video QA pass over every
frame, commit the checkpoint, read the control), at 720p with 5 s segments. The 20 ms target
was set before every take went through video QA, which decodes the whole segment once; the
ratio to it is still printed, so a change in the loop's own cost shows.

Two backends: the real preview backend (overhead = wall time - backend compute time), and
an instant backend that hands back a ready-made segment, so the wall time is all overhead.
The overhead is measured serially (overlap off), the loop's own cost.

Then the same take made serially and overlapped (segment n judged while n+1 generates), each
wall time and their ratio: with the instant backend (nothing to overlap), the preview backend
(CPU against CPU), and a GPU-like backend that waits as long per segment as the serial
judging took (the GPU busy, the CPU free: what overlap is for; ideal ratio about 0.5).

    .venv/bin/python benchmarks/loop.py [--segments N] [--quick]

`--quick` (run by the test suite): 2 segments of 1 s at 640x360, the same loop and gates.
"""

import argparse
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from trulience.catalog import characters, migrations, projects, source_images
from trulience.catalog.database import connect, embedded_server
from trulience.faces import default_model_set
from trulience.generation.backend import SegmentRequest, SegmentResult
from trulience.generation.loop import run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, define
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.media.encode import encode_frames
from trulience.media.frames import read_frames
from trulience.samples import package_file
from trulience.storage import Storage


class InstantBackend:
    """Hands back a ready-made segment at once: isolates the loop's own cost.

    The segment is a round trip made once per seed (the preview backend's motion, there and
    back), so it starts and ends on its seed frame: every seam of the chain is continuous and
    the loop's quality gates pass it as they would a real backend's work. (One fixed clip for
    every seed broke at the first seam: the seam gate refused it, rightly.)"""

    name = "instant"

    def __init__(self, folder: Path) -> None:
        self.compute_s, self.folder = 0.0, folder  # the loop deletes its own work folders
        self._clips: dict[tuple[bytes, int], tuple[Path, np.ndarray]] = {}

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        started, clock = datetime.now(UTC), time.perf_counter()
        key = (hashlib.sha1(seed_frame.tobytes()).digest(), request.frames)
        if key not in self._clips:
            folder = self.folder / f"round-trip-{len(self._clips)}"
            self._clips[key] = _round_trip(seed_frame, request, folder)
        clip, last = self._clips[key]
        path = work_dir / "segment.mp4"
        shutil.copyfile(clip, path)  # the backend's delivery, not the loop's work
        self.compute_s += time.perf_counter() - clock
        return SegmentResult(
            path, last.copy(), request.frames, self.name, started, datetime.now(UTC), 0.0
        )


def _round_trip(
    seed_frame: np.ndarray, request: SegmentRequest, folder: Path
) -> tuple[Path, np.ndarray]:
    """`request.frames` frames moving away from the seed and back to it; the clip and its
    last frame (the seed at the request's size)."""
    there = LocalPreviewBackend().generate_segment(
        seed_frame, replace(request, frames=(request.frames + 1) // 2), folder
    )
    frames = list(read_frames(there.video_path))
    if seed_frame.shape == frames[0].shape:
        frames[0] = np.ascontiguousarray(seed_frame)  # the seed itself, as the preview starts
    back = frames[::-1] if request.frames % 2 == 0 else frames[-2::-1]
    path = folder / "round-trip.mp4"
    encode_frames(frames + back, path, request.fps)
    return path, frames[0]


class WaitingBackend(InstantBackend):
    """The instant backend, waiting `wait_s` per segment as for a GPU worker (CPU idle)."""

    name = "gpu-like"

    def __init__(self, folder: Path, wait_s: float) -> None:
        super().__init__(folder)
        self.wait_s = wait_s

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        time.sleep(self.wait_s)
        return super().generate_segment(seed_frame, request, work_dir)


class TimedPreview(LocalPreviewBackend):
    """The preview backend, adding up the time spent inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.compute_s = 0.0

    def generate_segment(self, seed_frame, request, work_dir):
        started = time.perf_counter()
        result = super().generate_segment(seed_frame, request, work_dir)
        self.compute_s += time.perf_counter() - started
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, help="segments per take (default 6)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 segments of 1 s at 640x360"
    )
    args = parser.parse_args()
    segments = args.segments or (2 if args.quick else 6)
    fps, seconds = 24, 1 if args.quick else 5
    width, height = (640, 360) if args.quick else (1280, 720)
    tmp = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    server = embedded_server(tmp / "pg", cleanup_mode="delete")
    try:
        with connect(server.get_uri(), actor="bench") as conn:
            migrations.migrate(conn)
            storage = Storage((tmp / "storage").as_uri())
            projects.create_project(conn, "bench", "Bench")
            characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["bench"])
            add_image_file(conn, storage, "eileen", package_file("skimage", "data/astronaut.png"))
            faces = default_model_set(tmp / "models")
            assess_images(conn, storage, faces, "eileen", thresholds_for(conn, "eileen"))
            assert any(i.is_primary for i in source_images.list_source_images(conn, "eileen"))
            define(
                conn,
                Definition(
                    "hd",
                    "HD",
                    settings={
                        "target_duration_s": seconds * segments,
                        "segment_duration_s": seconds,
                        "fps": fps,
                        "width": width,
                        "height": height,
                    },
                ),
            )

            print(
                f"loop overhead per segment (store, sha256, probe, video QA, checkpoint), "
                f"{width}x{height}, {seconds} s segments at {fps} fps, {segments} segments, "
                f"{os.cpu_count()} cores"
            )
            print(f"{'backend':<10} {'wall s':>8} {'backend s':>10} {'overhead ms/seg':>16}")
            rows = []
            backends = (("instant", InstantBackend(tmp / "clips")), ("preview", TimedPreview()))
            for label, backend in backends:
                per_segment = []
                for _ in range(3 if label == "instant" and not args.quick else 1):
                    started = time.perf_counter()
                    result = run_loop(
                        conn, storage, backend, "eileen", "hd", tmp / "work", overlap=False
                    )
                    wall = time.perf_counter() - started
                    backend_s = backend.compute_s
                    backend.compute_s = 0.0
                    per_segment.append((wall - backend_s) / len(result.plan) * 1000)
                overhead = statistics.median(per_segment)
                rows.append((label, overhead))
                print(f"{label:<10} {wall:>8.2f} {backend_s:>10.2f} {overhead:>16.1f}")
            instant_overhead = rows[0][1]
            print(
                f"\ninstant-backend overhead {instant_overhead:.1f} ms/segment = "
                f"{instant_overhead / 20:.2f} x the 20 ms target"
            )
            overlap_table(
                conn, storage, tmp, instant_overhead / 1000, segments, 1 if args.quick else 3
            )
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def overlap_table(
    conn, storage: Storage, tmp: Path, judge_s: float, segments: int, runs: int
) -> None:
    """Print the median wall time of one take made serially and overlapped, per backend
    (after one untimed take, so the instant backends' clips are made)."""
    print(f"\nserial vs overlapped (segment n judged while n+1 generates), {segments} segments")
    print(f"{'backend':<18} {'serial s':>9} {'overlapped s':>13} {'overlapped / serial':>20}")
    backends = (
        ("instant", InstantBackend(tmp / "clips-o")),
        ("preview", TimedPreview()),
        (f"gpu-like ({judge_s:.2f} s)", WaitingBackend(tmp / "clips-w", judge_s)),
    )
    for label, backend in backends:
        run_loop(conn, storage, backend, "eileen", "hd", tmp / "work")
        walls: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(runs):
            for overlap in (False, True):
                started = time.perf_counter()
                run_loop(conn, storage, backend, "eileen", "hd", tmp / "work", overlap=overlap)
                walls[overlap].append(time.perf_counter() - started)
        serial, overlapped = (statistics.median(walls[o]) for o in (False, True))
        print(f"{label:<18} {serial:>9.2f} {overlapped:>13.2f} {overlapped / serial:>20.2f}")
    print(f"overlapped / serial wall time, gpu-like backend: {overlapped / serial:.2f}")


if __name__ == "__main__":
    main()
