"""Seam smoothing: the share of each seam's jump a frame takes, and the re-encodes that
apply it (the seam GOPs of a copy-join, or every frame when nothing can be copied).

The jump J between the last frame of segment k and the first of segment k+1 is spread over
2n+1 steps (trulience/delivery/assemble.py says how); `seam_correction` is what one frame adds.
"""

from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np

from trulience.delivery.packets import (
    Layout,
    display_frame,
    frame_scale,
    open_undecoded,
    packets,
)
from trulience.media.encode import DEFAULT_CRF, H264Writer
from trulience.media.frames import first_frame, frame_at, last_frame
from trulience.media.probe import InvalidVideo, open_video


def seam_jumps(path: str | Path, boundaries: Sequence[int]) -> list[float]:
    """Mean absolute difference (0-255) between the frames either side of each boundary
    (the first frame after it), compared as 64-pixel-wide grey pictures."""
    return [_grey_difference(frame_at(path, b - 1), frame_at(path, b)) for b in boundaries]


def seam_windows(lengths: list[int], n: int) -> list[int]:
    """Frames smoothed on each side of each seam: n, or less where a segment is shorter."""
    return [min(n, lengths[k], lengths[k + 1]) for k in range(len(lengths) - 1)]


def seam_correction(
    segment: int,
    index: int,
    lengths: list[int],
    jumps: Sequence[np.ndarray] | Mapping[int, np.ndarray],
    windows: list[int],
) -> np.ndarray | None:
    """What to add to frame `index` of `segment`: its share of the neighbouring seams' jumps."""
    total = None
    if segment < len(windows):  # the seam after this segment
        n, k = windows[segment], lengths[segment] - 1 - index
        if k < n:
            total = jumps[segment] * ((n - k) / (2 * n + 1))
    if segment > 0:  # the seam before it
        n, k = windows[segment - 1], index
        if k < n:
            share = -jumps[segment - 1] * ((n - k) / (2 * n + 1))
            total = share if total is None else total + share
    return total


def seam_differences(
    paths: Sequence[Path], n: int, size: tuple[int, int] | None = None
) -> list[np.ndarray]:
    """RGB difference (float) from the last frame of each segment to the first of the next."""
    jumps = []
    for a, b in pairwise(paths):
        before, after = last_frame(a), first_frame(b)
        if size is not None:
            before, after = _fit(before, size), _fit(after, size)
        jumps.append(after.astype(np.float32) - before.astype(np.float32))
    return jumps


def encode_run(
    ranges: Sequence[tuple[int, int, int]],
    paths: tuple[Path, ...],
    layouts: list[Layout],
    dst: Path,
    windows: list[int],
    lengths: list[int],
    preset: str,
    *,
    reference: bool = False,
) -> None:
    """Decode a run's frames, the (segment, first frame, count) `ranges`, smooth the frames
    in seam windows and encode them to `dst` (its first frame opens a new GOP). `reference`
    decodes as the first version did: each file opened in full, the next segment's first
    frame decoded on its own."""
    info = layouts[0].info
    crf = layouts[0].crf if layouts[0].crf is not None else DEFAULT_CRF
    gop = max(1, info.keyframe_interval or round(info.fps))
    decoded = [
        decode_range(paths[s], layouts[s], first, count, quick=not reference)
        for s, first, count in ranges
    ]
    # A run holds every smoothed frame of each seam it crosses, so the jumps it needs are
    # those seams': from its last frame of a segment to the next segment's first (the
    # next range starts there).
    jumps: dict[int, np.ndarray] = {}
    for position, (segment, _, _) in enumerate(ranges[:-1]):
        before = decoded[position][-1][1].to_ndarray(format="rgb24").astype(np.float32)
        if reference:
            after = first_frame(paths[ranges[position + 1][0]]).astype(np.float32)
        else:
            after = decoded[position + 1][0][1].to_ndarray(format="rgb24").astype(np.float32)
        jumps[segment] = after - before
    with H264Writer(
        dst, info.fps, info.width, info.height, crf=crf, preset=preset, gop=gop
    ) as writer:
        for (segment, _, _), frames in zip(ranges, decoded, strict=True):
            for index, frame in frames:
                correction = seam_correction(segment, index, lengths, jumps, windows)
                if correction is None:
                    writer.write(frame)
                else:
                    rgb = frame.to_ndarray(format="rgb24").astype(np.float32) + correction
                    writer.write(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))
        writer.close()


def decode_range(
    path: Path, layout: Layout, first: int, count: int, *, quick: bool = False
) -> list[tuple[int, av.VideoFrame]]:
    """Frames `first` .. `first + count - 1` of `path`, decoding only the GOPs that hold them
    (closed GOPs: their packets decode on their own). `quick`: the file is opened without
    FFmpeg decoding its first frames to describe it (the decoder is set up all the same)."""
    gops = [g for g in layout.gops if g.first < first + count and g.first + g.frames > first]
    start = min(g.first for g in gops)
    stop = max(g.first + g.frames for g in gops)
    scale = frame_scale(layout.time_base, layout.info.fps)
    frames: list[tuple[int, av.VideoFrame]] = []
    # Opened only for a decoder set up from the file's own stream (its colour tags decide
    # the RGB conversion); the packets come by the scan's record.
    with open_undecoded(path) if quick else open_video(path) as (_, stream):
        decoder = stream.codec_context
        for sample, packet in packets(path, layout, start, stop - start):
            packet.pts, packet.dts = sample.pts, sample.dts
            packet.time_base = layout.time_base
            for frame in decoder.decode(packet):
                frames.append((display_frame(frame.pts - layout.pts0, scale), frame))
        for frame in decoder.decode(None):
            frames.append((display_frame(frame.pts - layout.pts0, scale), frame))
    frames.sort(key=lambda item: item[0])
    kept = [(i, f) for i, f in frames if first <= i < first + count]
    if len(kept) != count:
        raise InvalidVideo(path, f"frames {first}-{first + count - 1} did not all decode")
    return kept


def reencode_all(
    paths: tuple[Path, ...],
    layouts: list[Layout],
    out: Path,
    n: int,
    preset: str,
) -> int:
    """Decode every segment and encode one file at segment 0's rate and (even) size: every
    frame is kept, retimed to that rate, and scaled if its segment differs. The frames
    written."""
    first = layouts[0].info
    size = (first.width - first.width % 2, first.height - first.height % 2)
    lengths = [layout.info.frames for layout in layouts]
    jumps = seam_differences(paths, n, size) if n else []
    windows = seam_windows(lengths, n)
    total = 0
    with H264Writer(out, first.fps, *size, crf=DEFAULT_CRF, preset=preset) as writer:
        for segment, path in enumerate(paths):
            with open_video(path) as (container, stream):
                stream.thread_type = "AUTO"
                try:
                    for index, frame in enumerate(container.decode(stream)):
                        rgb = _fit(frame.to_ndarray(format="rgb24"), size)
                        correction = seam_correction(segment, index, lengths, jumps, windows)
                        if correction is not None:
                            rgb = np.clip(np.rint(rgb + correction), 0, 255).astype(np.uint8)
                        writer.write(rgb)
                        total += 1
                except av.FFmpegError as error:
                    raise InvalidVideo(path, f"damaged video data ({error})") from error
        writer.close()
    return total


def _fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    shrink = size[0] * size[1] < frame.shape[0] * frame.shape[1]
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _grey_difference(a: np.ndarray, b: np.ndarray) -> float:
    def small(frame: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        width = 64
        height = max(1, round(grey.shape[0] * width / grey.shape[1]))
        return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)

    return float(np.abs(small(a) - small(b)).mean())
