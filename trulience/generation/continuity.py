"""Colour continuity (PRD-26): pull each segment's colour toward one fixed anchor.

The anchor is the scene's first segment (or its source image), never the previous segment:
a chain generated from last frames drifts a little every segment, and matching each segment
to its predecessor would carry that drift forward, compounding it instead of removing it.
One Reinhard transfer (per-channel mean and spread in Lab) is measured per segment and
applied to all its frames alike, so the correction itself cannot flicker within a segment.
"""

from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from trulience.media.encode import DEFAULT_CRF, DEFAULT_PRESET, H264Writer
from trulience.media.probe import InvalidVideo, VideoInfo, open_video, probe

# Frames sampled to measure a segment's colour: enough to average out motion.
_SAMPLE_FRAMES = 12


@dataclass(frozen=True)
class LabStats:
    """Mean and standard deviation of L, a, b (L 0-100, a and b about -127..127)."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def _lab(frame: np.ndarray) -> np.ndarray:
    # float32 input gives true Lab units rather than OpenCV's 8-bit rescaled ones.
    return cv2.cvtColor(frame.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def colour_stats(frame: np.ndarray) -> LabStats:
    """Lab mean and spread of one RGB uint8 frame (H, W, 3)."""
    lab = _lab(frame).reshape(-1, 3)
    return LabStats(
        mean=tuple(float(v) for v in lab.mean(axis=0)),
        std=tuple(float(v) for v in lab.std(axis=0)),
    )


def mean_stats(frames: list[np.ndarray]) -> LabStats:
    """Lab statistics of several frames taken together (a segment's sample)."""
    lab = np.concatenate([_lab(f).reshape(-1, 3) for f in frames])
    return LabStats(
        mean=tuple(float(v) for v in lab.mean(axis=0)),
        std=tuple(float(v) for v in lab.std(axis=0)),
    )


def normalise_to_anchor(
    frame: np.ndarray,
    anchor_stats: LabStats,
    strength: float = 1.0,
    *,
    frame_stats: LabStats | None = None,
) -> np.ndarray:
    """`frame` with its Lab mean and spread moved toward the anchor's (`strength` 0 keeps it,
    1 matches fully); `frame_stats` measures the source (default: the frame itself)."""
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be from 0 to 1, got {strength!r}")
    source = frame_stats or colour_stats(frame)
    lab = _lab(frame)
    mean, std = np.array(source.mean), np.array(source.std)
    target_mean, target_std = np.array(anchor_stats.mean), np.array(anchor_stats.std)
    # A flat channel has no spread to rescale: only its mean moves.
    scale = np.where(std > 1e-6, target_std / np.maximum(std, 1e-6), 1.0)
    matched = (lab - mean) * scale + target_mean
    blended = (lab + strength * (matched - lab)).astype(np.float32)
    rgb = cv2.cvtColor(blended, cv2.COLOR_LAB2RGB)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def segment_stats(path: str | Path, samples: int = _SAMPLE_FRAMES) -> LabStats:
    """Lab statistics of up to `samples` frames spread evenly through a video."""
    info = probe(path)
    wanted = set(np.linspace(0, info.frames - 1, min(samples, info.frames)).round().astype(int))
    frames = []
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index in wanted:
                    frames.append(frame.to_ndarray(format="rgb24"))
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error
    return mean_stats(frames)


def normalise_segment(
    src: str | Path,
    dst: str | Path,
    anchor_stats: LabStats,
    strength: float = 1.0,
    *,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
) -> VideoInfo:
    """Re-encode `src` to `dst` with one colour transfer toward the anchor for all frames,
    at the same rate, size, keyframe spacing and keyframes (so it still splices by GOP, and
    a GOP opened after a seam's window stays)."""
    info = probe(src)
    source = segment_stats(src)
    gop = info.keyframe_interval or None
    with (
        open_video(src) as (container, stream),
        H264Writer(dst, info.fps, info.width, info.height, crf=crf, preset=preset, gop=gop) as w,
    ):
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                rgb = frame.to_ndarray(format="rgb24")
                w.write(
                    normalise_to_anchor(rgb, anchor_stats, strength, frame_stats=source),
                    keyframe=frame.key_frame,
                )
        except av.FFmpegError as error:
            raise InvalidVideo(src, f"damaged video data ({error})") from error
        return w.close()
