"""Delivery figures: assembly of 100 x 5 s segments by packet copy against Debian's
`ffmpeg -f concat -c copy` (the same join, done by the reference tool), seam smoothing
against a full re-encode, and video QA against a plain decode.

    .venv/bin/python benchmarks/delivery.py [--segments N] [--quick]

`--quick` (run by the test suite): 12 segments of 4 s at 320x180 (a seam still
re-encodes only its own GOPs), the same figures.
The Makefile's `bench` and `test` targets install Debian's ffmpeg for the baseline.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from trulience.delivery.assemble import assemble
from trulience.generation.backend import SegmentRequest
from trulience.generation.preview import LocalPreviewBackend
from trulience.media.frames import read_frames
from trulience.media.probe import probe
from trulience.qa.video import measure_segment
from trulience.samples import package_file

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 24, 5


def make_segments(
    tmp: Path, distinct: int, width: int = WIDTH, height: int = HEIGHT, seconds: int = SECONDS
) -> list[Path]:
    """A chain of `distinct` preview segments (each starts where the last one ended)."""
    seed = np.asarray(
        Image.open(package_file("skimage", "data/astronaut.png"))
        .convert("RGB")
        .resize((width, height))
    )
    backend, paths = LocalPreviewBackend(), []
    for index in range(distinct):
        work = tmp / f"gen{index}"
        work.mkdir()
        result = backend.generate_segment(
            seed,
            SegmentRequest("bench", index, FPS * seconds, Fraction(FPS), width, height, seed=index),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, help="segments to assemble (default 100)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 12 segments of 4 s at 320x180"
    )
    args = parser.parse_args()
    count = args.segments or (12 if args.quick else 100)
    width, height, seconds = (320, 180, 4) if args.quick else (WIDTH, HEIGHT, SECONDS)
    tmp = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    try:
        chain = make_segments(tmp, 2 if args.quick else 4, width, height, seconds)
        segments = [chain[i % len(chain)] for i in range(count)]
        print(
            f"{count} segments of {seconds} s, {width}x{height} at {FPS} fps, "
            f"{os.cpu_count()} cores"
        )

        ours = timed(lambda: assemble(segments, tmp / "ours.mp4"))
        print(
            f"assembly by packet copy (ours):      {ours:6.2f} s, "
            f"{probe(tmp / 'ours.mp4').frames} frames"
        )
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
            theirs = timed(lambda: subprocess.run(command, check=True))
            print(
                f"ffmpeg -f concat -c copy (baseline): {theirs:6.2f} s, "
                f"{probe(tmp / 'ffmpeg.mp4').frames} frames"
            )
            print(f"  ratio ours / ffmpeg = {ours / theirs:.2f}")
        else:
            print("no ratio against ffmpeg: ffmpeg is not installed (`make bench` installs it)")

        few = segments[:10]  # (all of them in a quick run)
        smoothed = assemble(few, tmp / "smooth.mp4", crossfade_frames=3)
        smooth_s = timed(lambda: assemble(few, tmp / "smooth.mp4", crossfade_frames=3), 1)
        full_s = timed(lambda: _full(few, tmp / "full.mp4"), 1)
        print(
            f"\nseam smoothing, {len(few)} segments, 3 frames each side: {smooth_s:.2f} s "
            f"({smoothed.reencoded_frames} of {smoothed.frames} frames re-encoded)"
        )
        print(f"full re-encode of the same:                      {full_s:.2f} s")
        print(f"  ratio smoothing / full re-encode = {smooth_s / full_s:.2f}")

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
