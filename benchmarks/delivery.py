"""Delivery figures: assembly of 100 x 5 s segments by packet copy against Debian's
`ffmpeg -f concat -c copy` (the same join, done by the reference tool), seam smoothing
against a full re-encode, and video QA against a plain decode.

    .venv/bin/python benchmarks/delivery.py [--segments N] [--runs R] [--quick]

Each assembly figure is printed for today's code and for the first version beside it
(`assemble(..., reference=True)`: every segment described by decoding, seams re-encoded by
whole GOPs, segments as the preview wrote them before it opened a GOP after the seam
window), each the median of R runs (3) taken in turns, with the machine's load average
while they ran (the machine is shared: ratios are what compare).
`--quick` (run by the test suite): 12 segments of 4 s at 320x180 (a seam still
re-encodes only its own frames), the same figures.
The Makefile's `bench` and `test` targets install Debian's ffmpeg for the baseline.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from trulience.delivery.assemble import AssemblyResult, assemble
from trulience.generation.backend import SegmentRequest
from trulience.generation.preview import LocalPreviewBackend
from trulience.media.frames import read_frames
from trulience.media.probe import probe
from trulience.qa.video import measure_segment
from trulience.samples import package_file

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 24, 5


def make_segments(
    tmp: Path,
    distinct: int,
    width: int = WIDTH,
    height: int = HEIGHT,
    seconds: int = SECONDS,
    crossfade: int = 0,
) -> list[Path]:
    """A chain of `distinct` preview segments (each starts where the last one ended),
    asked to open a GOP after a `crossfade`-frame seam window (0: the encoder's GOPs only,
    as the preview wrote them before)."""
    seed = np.asarray(
        Image.open(package_file("skimage", "data/astronaut.png"))
        .convert("RGB")
        .resize((width, height))
    )
    backend, paths = LocalPreviewBackend(), []
    for index in range(distinct):
        work = tmp / f"gen{crossfade}-{index}"
        work.mkdir()
        result = backend.generate_segment(
            seed,
            SegmentRequest(
                "bench",
                index,
                FPS * seconds,
                Fraction(FPS),
                width,
                height,
                seed=index,
                params={"crossfade_frames": crossfade},
            ),
            work,
        )
        paths.append(result.video_path)
        seed = result.last_frame
    return paths


def timed(function, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_turns(functions: dict[str, Callable[[], object]], runs: int) -> tuple[dict, str]:
    """Median seconds of each function over `runs` rounds, one call of each per round (so
    a change in the machine's load falls on all alike), and the 1-minute load average
    before, during and after them."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    loads = [os.getloadavg()[0]]
    for _ in range(runs):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - started)
        loads.append(os.getloadavg()[0])
    load = " -> ".join(f"{value:.2f}" for value in loads)
    return {name: statistics.median(values) for name, values in times.items()}, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, help="segments to assemble (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 12 segments of 4 s at 320x180"
    )
    args = parser.parse_args()
    count = args.segments or (12 if args.quick else 100)
    runs = max(3, args.runs)
    width, height, seconds = (320, 180, 4) if args.quick else (WIDTH, HEIGHT, SECONDS)
    tmp = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    try:
        distinct = 2 if args.quick else 4
        chain = make_segments(tmp, distinct, width, height, seconds)
        segments = [chain[i % len(chain)] for i in range(count)]
        print(
            f"{count} segments of {seconds} s, {width}x{height} at {FPS} fps, "
            f"{os.cpu_count()} cores, median of {runs} runs in turns"
        )
        join = {
            "today": lambda: assemble(segments, tmp / "today.mp4", reference=True),
            "now": lambda: assemble(segments, tmp / "ours.mp4"),
        }
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg:
            listing = tmp / "list.txt"
            listing.write_text("".join(f"file '{p}'\n" for p in segments))
            command = [
                ffmpeg,
                "-loglevel",
                "error",
                "-y",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                str(tmp / "ffmpeg.mp4"),
            ]
            join["ffmpeg"] = lambda: subprocess.run(command, check=True)
        took, load = in_turns(join, runs)
        same = (tmp / "today.mp4").read_bytes() == (tmp / "ours.mp4").read_bytes()
        print(
            f"assembly by packet copy: today {took['today']:.2f} s, now {took['now']:.2f} s, "
            f"{probe(tmp / 'ours.mp4').frames} frames, byte-identical: {same} (load {load})"
        )
        if ffmpeg:
            print(
                f"ffmpeg -f concat -c copy (baseline): {took['ffmpeg']:.2f} s, "
                f"{probe(tmp / 'ffmpeg.mp4').frames} frames"
            )
            print(
                f"  ratio ours / ffmpeg = {took['now'] / took['ffmpeg']:.2f} "
                f"(today {took['today'] / took['ffmpeg']:.2f})"
            )
        else:
            print("no ratio against ffmpeg: ffmpeg is not installed (`make bench` installs it)")

        few = segments[:10]  # (all of them in a quick run)
        keyed = make_segments(tmp, distinct, width, height, seconds, crossfade=3)
        keyed_few = [keyed[i % len(keyed)] for i in range(len(few))]
        outcome: dict[str, AssemblyResult] = {}

        def smooth(name: str, paths: list[Path], reference: bool = False) -> None:
            outcome[name] = assemble(
                paths, tmp / f"{name}.mp4", crossfade_frames=3, reference=reference
            )

        took, load = in_turns(
            {
                "today": lambda: smooth("today", few, reference=True),
                "now": lambda: smooth("now", keyed_few),
                "now, old segments": lambda: smooth("now, old segments", few),
                "full": lambda: _full(few, tmp / "full.mp4"),
            },
            runs,
        )
        print(f"\nseam smoothing, {len(few)} segments, 3 frames each side (load {load}):")
        for name in ("today", "now", "now, old segments"):
            done = outcome[name]
            print(
                f"  {name + ':':19s} {took[name]:.2f} s ({done.reencoded_frames} of "
                f"{done.frames} frames re-encoded), {took[name] / took['full']:.2f} x full"
            )
        print(f"full re-encode of the same:  {took['full']:.2f} s")
        print(
            f"  ratio smoothing / full re-encode = {took['now'] / took['full']:.2f} "
            f"(today {took['today'] / took['full']:.2f})"
        )

        one = chain[0]
        plain = timed(lambda: sum(1 for _ in read_frames(one)))
        qa = timed(lambda: measure_segment(one, faces=None, identity=None))
        print(
            f"\nvideo QA of one segment (no faces): {qa * 1000:.0f} ms vs plain decode "
            f"{plain * 1000:.0f} ms, ratio {qa / plain:.2f}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _full(segments: list[Path], out: Path) -> None:
    from trulience.media.encode import encode_frames

    encode_frames((f for p in segments for f in read_frames(p)), out, Fraction(FPS))


if __name__ == "__main__":
    main()
