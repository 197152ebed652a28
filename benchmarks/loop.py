"""Loop overhead: what the recursive loop costs per segment beyond the backend's own time
(store the video and the lossless last frame, sha256, probe, commit the checkpoint, read
the control), at 720p with 5 s segments. Target: under 20 ms per segment.

Two backends: the real preview backend (overhead = wall time - backend compute time), and
an instant backend that hands back a ready-made segment, so the wall time is all overhead.

    .venv/bin/python benchmarks/loop.py [--segments N]
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from trulience.catalog import characters, migrations, projects, source_images
from trulience.catalog.database import connect, embedded_server
from trulience.faces import default_model_set
from trulience.generation.backend import SegmentRequest, SegmentResult
from trulience.generation.loop import run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, define
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.samples import package_file
from trulience.storage import Storage


class InstantBackend:
    """Returns a pre-encoded segment at once: isolates the loop's own cost."""

    name = "instant"

    def __init__(self, clip: Path, last: np.ndarray):
        self.clip, self.last = clip, last
        self.compute_s = 0.0

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        started, clock = datetime.now(UTC), time.perf_counter()
        path = work_dir / "segment.mp4"
        shutil.copyfile(self.clip, path)  # the backend's delivery, not the loop's work
        self.compute_s += time.perf_counter() - clock
        return SegmentResult(
            path, self.last, request.frames, self.name, started, datetime.now(UTC), 0.0
        )


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
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=6)
    args = parser.parse_args()
    fps, seconds = 24, 5
    frames = fps * seconds
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
                        "target_duration_s": seconds * args.segments,
                        "segment_duration_s": seconds,
                        "fps": fps,
                        "width": 1280,
                        "height": 720,
                    },
                ),
            )

            # a realistic segment: the preview backend's own 5 s of the astronaut at 720p
            seed = np.asarray(
                Image.open(package_file("skimage", "data/astronaut.png"))
                .convert("RGB")
                .resize((1280, 720))
            )
            ready = LocalPreviewBackend().generate_segment(
                seed, SegmentRequest("bench", 0, frames, Fraction(fps), 1280, 720, 1), tmp
            )
            instant = InstantBackend(ready.video_path, ready.last_frame)
            size_mb = ready.video_path.stat().st_size / 1e6

            print(
                f"loop overhead per segment, 1280x720, {seconds} s segments at {fps} fps "
                f"({size_mb:.1f} MB each), {args.segments} segments, {os.cpu_count()} cores"
            )
            print(f"{'backend':<10} {'wall s':>8} {'backend s':>10} {'overhead ms/seg':>16}")
            rows = []
            for label, backend in (("instant", instant), ("preview", TimedPreview())):
                per_segment = []
                for _ in range(3 if label == "instant" else 1):
                    started = time.perf_counter()
                    result = run_loop(conn, storage, backend, "eileen", "hd", tmp / "work")
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
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
