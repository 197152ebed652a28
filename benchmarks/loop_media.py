"""Loop media benchmark: the last frame by seeking vs a full decode, and preview speed.

1. A noisy 1280×720 clip, 5 s at 30 fps with a keyframe every second, is made in a
   temporary folder (not timed: grain on a drifting texture keeps the decoder busy, as
   real footage does). Prints the median time of `last_frame` (seek to the last keyframe,
   decode one GOP) and of `last_frame_full_decode`, their ratio, and checks both agree.
2. The local preview backend renders and encodes segments from the astronaut at 720p and
   512×512; prints frames per second (render + encode, the whole `generate_segment`).
3. The loop's overlap on the CPU alone: a preview segment rendered while the video QA of
   the segment before it runs on a thread, against one after the other (median seconds
   and their ratio; 1.0 means two cores gave nothing, 0.5 is perfect overlap).

    .venv/bin/python benchmarks/loop_media.py [--runs N] [--quick]

`--quick` (run by the test suite): a 640x360 clip of 2 s, 2 runs, short preview segments.
"""

import argparse
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data

from trulience.generation.backend import SegmentRequest
from trulience.generation.preview import LocalPreviewBackend
from trulience.media.encode import encode_frames
from trulience.media.frames import last_frame, last_frame_full_decode
from trulience.media.probe import probe
from trulience.qa.video import measure_segment

WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, Fraction(30), 5


def noisy_frames(
    count: int, width: int = WIDTH, height: int = HEIGHT, seed: int = 0
) -> Iterator[np.ndarray]:
    """A smooth random texture drifting 3 px a frame, under fresh grain in every frame."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 16, width // 16 + 40, 3), np.uint8)
    texture = cv2.resize(coarse, (width + 640, height), interpolation=cv2.INTER_CUBIC)
    for index in range(count):
        shift = 3 * index
        frame = texture[:, shift : shift + width].astype(np.int16)
        frame += rng.normal(0, 10, frame.shape).astype(np.int16)
        yield np.clip(frame, 0, 255).astype(np.uint8)


def median_seconds(action: Callable[[], object], runs: int) -> float:
    action()  # warm the page cache and the codec libraries
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def preview_fps(work: Path, width: int, height: int, frames: int, runs: int) -> float:
    seed = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_AREA)
    backend = LocalPreviewBackend()
    rates = []
    for run in range(runs):
        request = SegmentRequest(
            scene="bench/astronaut/idle/take-1",
            index=run,
            frames=frames,
            fps=Fraction(24),
            width=width,
            height=height,
            seed=run,
        )
        result = backend.generate_segment(seed, request, work)
        rates.append(frames / result.compute_s)
    return statistics.median(rates)


def qa_beside_preview(
    work: Path, width: int, height: int, frames: int, runs: int
) -> tuple[float, float]:
    """Median seconds of rendering a preview segment and measuring the segment before it for
    QA, one after the other and side by side (the QA on a thread, as the loop does)."""
    seed = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_AREA)
    backend = LocalPreviewBackend()

    def request(index: int) -> SegmentRequest:
        return SegmentRequest(
            scene="bench/astronaut/walk/take-1",
            index=index,
            frames=frames,
            fps=Fraction(24),
            width=width,
            height=height,
            seed=index,
        )

    before = backend.generate_segment(seed, request(0), work / "before").video_path

    def qa() -> None:
        measure_segment(before, faces=None, identity=None, previous_last_frame=seed)

    def serial() -> None:
        qa()
        backend.generate_segment(seed, request(1), work / "next")

    def side_by_side() -> None:
        judging = threading.Thread(target=qa)
        judging.start()
        backend.generate_segment(seed, request(1), work / "next")
        judging.join()

    return median_seconds(serial, runs), median_seconds(side_by_side, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="timed runs per measurement (default 5)")
    parser.add_argument("--quick", action="store_true", help="smoke run: small clip, 2 runs")
    args = parser.parse_args()
    runs = args.runs or (2 if args.quick else 5)
    width, height, seconds = (640, 360, 2) if args.quick else (WIDTH, HEIGHT, SECONDS)
    previews = (
        ((320, 180, 24), (256, 256, 24)) if args.quick else ((1280, 720, 96), (512, 512, 240))
    )
    print(f"{platform.node()}: Python {platform.python_version()}, PyAV {av.__version__}")

    with tempfile.TemporaryDirectory(prefix="trulience-bench-") as folder:
        work = Path(folder)
        clip = work / f"noisy-{height}p.mp4"
        start = time.perf_counter()
        encode_frames(noisy_frames(int(FPS * seconds), width, height), clip, FPS, gop=int(FPS))
        info = probe(clip)
        print(
            f"clip: {info.width}x{info.height}, {info.frames} frames at {info.fps} fps, "
            f"keyframe every {info.keyframe_interval} frames, "
            f"{(info.bit_rate or 0) / 1e6:.1f} Mbit/s (made in {time.perf_counter() - start:.1f} s)"
        )
        if not np.array_equal(last_frame(clip), last_frame_full_decode(clip)):
            raise SystemExit("last_frame and last_frame_full_decode disagree")

        seek = median_seconds(lambda: last_frame(clip), runs)
        full = median_seconds(lambda: last_frame_full_decode(clip), max(2, runs // 2))
        print(f"last frame, seek to last keyframe: {seek * 1000:7.1f} ms (median)")
        print(f"last frame, full decode:           {full * 1000:7.1f} ms (median)")
        print(f"full decode / seek:                {full / seek:7.1f}x")

        for size_x, size_y, frames in previews:
            fps = preview_fps(work / f"preview-{size_x}", size_x, size_y, frames, min(3, runs))
            print(f"preview backend {size_x}x{size_y}: {fps:6.1f} fps (render + encode, median)")

        size_x, size_y, frames = previews[0]
        serial, overlapped = qa_beside_preview(work / "overlap", size_x, size_y, frames, runs)
        print(
            f"preview of segment n+1 and QA of segment n at {size_x}x{size_y}: one after the "
            f"other {serial:.2f} s, side by side {overlapped:.2f} s (median)"
        )
        print(f"side by side / one after the other: {overlapped / serial:7.2f}")


if __name__ == "__main__":
    main()
