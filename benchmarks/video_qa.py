"""Video QA of one segment against a plain PyAV decode (issue 21): today's path, each
sampled frame detected and embedded in turn by onnxruntime, against the current one,
faces found on a worker thread while decoding goes on and embedded together by OpenCV's
dnn, with faces sampled every 0.5 s and without faces.

    .venv/bin/python benchmarks/video_qa.py [--width 1280 --height 720 --seconds 5] [--quick]

Every figure is the median of 3 runs, the paths alternating so other work on the machine
skews them alike; the load average while they ran is printed with them, and the process's
CPU seconds beside the wall clock (less sensitive to that load). The two paths' verdicts
and identity scores are compared on the same segment. `--quick` (run by the test suite):
a 2 s 320x180 segment, the same figures.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from trulience.faces import FaceRecognizer, default_model_set
from trulience.faces.identity import augmentations, identity_band
from trulience.generation.backend import SegmentRequest
from trulience.generation.preview import LocalPreviewBackend
from trulience.media.frames import read_frames
from trulience.qa.video import measure_segment, measure_segment_frame_by_frame
from trulience.qa.video_gates import evaluate_segment
from trulience.qa.video_rules import DEFAULT_RULES, Expected
from trulience.samples import package_file

FPS = 24
RUNS = 3


def make_segment(folder: Path, width: int, height: int, seconds: int) -> Path:
    """A preview segment of the astronaut, as generation makes them."""
    photo = Image.open(package_file("skimage", "data/astronaut.png")).convert("RGB")
    # The top of the photo at the segment's aspect ratio: the face, undistorted.
    crop = photo.crop((0, 0, photo.width, round(photo.width * height / width)))
    seed = np.asarray(crop.resize((width, height), Image.Resampling.LANCZOS))
    request = SegmentRequest("bench", 0, FPS * seconds, Fraction(FPS), width, height, seed=1)
    return LocalPreviewBackend().generate_segment(seed, request, folder).video_path


def timed(runs: dict[str, Callable[[], object]]) -> tuple[dict, dict, list[float]]:
    """Median wall and CPU seconds of each run over RUNS rounds (alternating), and the
    load average after each round."""
    walls: dict[str, list[float]] = {name: [] for name in runs}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    loads = []
    for _ in range(RUNS):
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
        loads.append(os.getloadavg()[0])
    median = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    return median, cpu, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s at 320x180")
    args = parser.parse_args()
    if args.quick:
        args.width, args.height, args.seconds = 320, 180, 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-video-qa-"))
    try:
        segment = make_segment(tmp, args.width, args.height, args.seconds)
        faces = default_model_set(tmp / "models")
        today = replace(
            faces,
            recognizer=FaceRecognizer(faces.recognizer.model_path, preprocessing="embedded"),
        )
        photo = np.asarray(Image.open(package_file("skimage", "data/astronaut.png")))
        embeddings = [
            faces.recognizer.embed(v, faces.detector.detect(v)[:1])[0]
            for v in [photo, *augmentations(photo)]
        ]
        identity = identity_band(np.stack(embeddings), faces.same_identity_threshold)

        runs = {
            "plain decode": lambda: sum(1 for _ in read_frames(segment)),
            "today, faces": lambda: measure_segment_frame_by_frame(
                segment, faces=today, identity=identity
            ),
            "now, faces": lambda: measure_segment(segment, faces=faces, identity=identity),
            "today, no faces": lambda: measure_segment_frame_by_frame(
                segment, faces=None, identity=None
            ),
            "now, no faces": lambda: measure_segment(segment, faces=None, identity=None),
        }
        for run in runs.values():  # warm the models, the decoder and the file cache
            run()
        wall, cpu, loads = timed(runs)

        old = measure_segment_frame_by_frame(segment, faces=today, identity=identity)
        new = measure_segment(segment, faces=faces, identity=identity)
        expected = Expected(FPS, old.frames, args.width, args.height)
        old_verdict = evaluate_segment(old, DEFAULT_RULES, expected)
        new_verdict = evaluate_segment(new, DEFAULT_RULES, expected)
        same = [(g.name, g.passed) for g in old_verdict.gates] == [
            (g.name, g.passed) for g in new_verdict.gates
        ]
        gaps = [
            abs(a.similarity - b.similarity)
            for a, b in zip(old.identity_samples, new.identity_samples, strict=True)
            if a.similarity is not None and b.similarity is not None
        ]

        failures = ", ".join(g.name for g in new_verdict.failed)
        outcome = f"failed: {failures}" if failures else "passed"
        print(
            f"one segment of {args.seconds} s, {args.width}x{args.height} at {FPS} fps "
            f"({old.frames} frames), faces sampled every 0.5 s ({len(old.identity_samples)} "
            f"samples, {len(gaps)} with a face), {os.cpu_count()} cores"
        )
        print(
            f"median of {RUNS} runs each, alternating; load average {min(loads):.1f}-"
            f"{max(loads):.1f} (other work on the machine: compare the ratios)"
        )
        plain, plain_cpu = wall["plain decode"], cpu["plain decode"]
        print(f"{'':<17} {'wall ms':>8} {'/ decode':>9} {'CPU ms':>8} {'/ decode':>9}")
        for name in runs:
            print(
                f"{name:<17} {wall[name] * 1e3:>8.0f} {wall[name] / plain:>8.2f}x "
                f"{cpu[name] * 1e3:>8.0f} {cpu[name] / plain_cpu:>8.2f}x"
            )
        print(
            f"verdicts {'identical' if same else 'DIFFER'} ({outcome}); "
            f"largest identity score gap {max(gaps, default=0.0):.2e}"
        )
        print(
            f"video QA of one segment with faces: today {wall['today, faces'] / plain:.2f}x, "
            f"now {wall['now, faces'] / plain:.2f}x the plain decode, "
            f"ratio today / now {wall['today, faces'] / wall['now, faces']:.2f}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
