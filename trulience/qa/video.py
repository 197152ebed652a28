"""What a generated segment's QA gates look at (PRD-49), measured in one decode pass.

Each frame is decoded once and reduced on the spot to its mean luminance and a small grey
thumbnail; sampled frames also go through the face model. Format facts come from `probe`,
which only demuxes. The gates themselves live in `trulience.qa.video_gates`, their rules in
`trulience.qa.video_rules`.
"""

import statistics
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from trulience.faces.identity import IdentityBand
from trulience.faces.model_set import FaceModelSet
from trulience.media.frames import read_frames
from trulience.media.probe import InvalidVideo, open_video, probe

# Frame differences and the seam jump are taken on frames shrunk to this long side: small
# enough to be cheap at 720p and to ignore encoder noise, large enough to see a face move.
THUMBNAIL_LONG_SIDE = 64


@dataclass(frozen=True)
class IdentitySample:
    """One sampled frame's face check: `similarity` to the character's centroid, None when
    no face was found."""

    frame: int
    time_s: float
    similarity: float | None


@dataclass(frozen=True)
class SegmentMetrics:
    """Everything the segment gates need, measured once: format facts, per-frame mean
    luminance (0-255), mean absolute difference between consecutive grey thumbnails, the
    sampled identity checks and the seam jump from the previous segment."""

    path: str
    codec: str
    pix_fmt: str | None
    width: int
    height: int
    fps: Fraction
    frames: int
    duration_s: float
    decoded_frames: int
    luminance: tuple[float, ...]
    frame_difference: tuple[float, ...]  # frame i+1 against frame i
    identity_samples: tuple[IdentitySample, ...]
    identity_band: IdentityBand | None
    seam_difference: float | None

    @property
    def identity_similarities(self) -> list[float]:
        """Similarities of the sampled frames where a face was found."""
        return [s.similarity for s in self.identity_samples if s.similarity is not None]

    @property
    def identity_median(self) -> float | None:
        """Median similarity to the character over sampled frames with a face."""
        values = self.identity_similarities
        return statistics.median(values) if values else None

    @property
    def identity_min(self) -> float | None:
        """Lowest similarity to the character over sampled frames with a face."""
        values = self.identity_similarities
        return min(values) if values else None

    @property
    def face_missing_share(self) -> float | None:
        """Share of sampled frames where no face was found; None if nothing was sampled."""
        if not self.identity_samples:
            return None
        missing = sum(1 for s in self.identity_samples if s.similarity is None)
        return missing / len(self.identity_samples)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the frame rate as an exact fraction string ("30000/1001")."""
        data = asdict(self)
        data["fps"] = str(self.fps)
        data["luminance"] = [round(v, 3) for v in self.luminance]
        data["frame_difference"] = [round(v, 4) for v in self.frame_difference]
        data["identity_median"] = self.identity_median
        data["identity_min"] = self.identity_min
        data["face_missing_share"] = self.face_missing_share
        return data


def measure_segment(
    path: str | Path,
    *,
    faces: FaceModelSet | None,
    identity: tuple[np.ndarray, IdentityBand] | None,
    sample_every_s: float = 0.5,
    previous_last_frame: np.ndarray | None = None,
) -> SegmentMetrics:
    """Measure a segment for the QA gates, decoding each frame once. Identity is sampled
    every `sample_every_s` seconds when both `faces` and `identity` are given.

    Sampled frames' faces are found on a worker thread while decoding goes on, and all
    the faces are embedded together at the end: the same numbers as one frame at a time
    (`measure_segment_frame_by_frame`), for a fraction of the time."""
    if sample_every_s <= 0:
        raise ValueError(f"sample_every_s must be positive, got {sample_every_s!r}")
    info = probe(path)
    sampled = _sample_frames(info.frames, info.fps, sample_every_s)
    finder = _FaceFinder(faces) if faces is not None and identity is not None else None
    luminance: list[float] = []
    differences: list[float] = []
    seam: float | None = None
    previous_thumbnail: np.ndarray | None = None
    try:
        for index, rgb in enumerate(decode_rgb(path)):
            grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            # numpy's mean to the bit (an exact integer sum, divided), ten times faster.
            luminance.append(cv2.mean(grey)[0])
            thumbnail = _thumbnail(grey)
            if previous_thumbnail is not None:
                differences.append(_mean_difference(thumbnail, previous_thumbnail))
            previous_thumbnail = thumbnail
            if index == 0 and previous_last_frame is not None:
                seam = seam_difference(previous_last_frame, rgb)
            if finder is not None and index in sampled:
                finder.submit(index, rgb, thumbnail)
        samples = finder.samples(identity[0], info.fps) if finder and identity else ()
    finally:
        if finder is not None:
            finder.close()
    return SegmentMetrics(
        path=str(path),
        codec=info.codec,
        pix_fmt=info.pix_fmt,
        width=info.width,
        height=info.height,
        fps=info.fps,
        frames=info.frames,
        duration_s=info.duration_s,
        decoded_frames=len(luminance),
        luminance=tuple(luminance),
        frame_difference=tuple(differences),
        identity_samples=tuple(samples),
        identity_band=identity[1] if finder is not None and identity else None,
        seam_difference=seam,
    )


def decode_rgb(path: str | Path) -> Iterator[np.ndarray]:
    """Every frame of the first video stream as RGB, in display order: `read_frames`'
    pixels, converted by one reused FFmpeg scaler instead of a new one per frame."""
    reformatter = VideoReformatter()
    with open_video(path) as (container, stream):
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                # The decoder tags each frame with its colour space; the scaler reads it.
                yield reformatter.reformat(frame, format="rgb24").to_ndarray()
        except av.FFmpegError as error:
            raise InvalidVideo(path, f"damaged video data ({error})") from error


class _FaceFinder:
    """The character's face in each sampled frame, found and aligned on one worker thread
    (OpenCV and onnxruntime let go of the GIL) and embedded in batches at the end."""

    def __init__(self, faces: FaceModelSet) -> None:
        self._faces = faces
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-faces")
        self._pending: list[tuple[int, Future[np.ndarray | None]]] = []
        self._last: tuple[np.ndarray, np.ndarray, Future[np.ndarray | None]] | None = None

    def submit(self, index: int, rgb: np.ndarray, thumbnail: np.ndarray) -> None:
        """Queue frame `index`; a frame identical to the last sampled one reuses its face."""
        if self._last is not None and _same_frame(self._last[:2], (rgb, thumbnail)):
            future = self._last[2]
        else:
            # Decoding must not run ahead of the worker by more than a few full frames.
            undone = [f for _, f in self._pending if not f.done()]
            if len(undone) >= _MAX_QUEUED_FRAMES:
                undone[0].result()
            future = self._pool.submit(_aligned_face, self._faces, rgb)
        self._pending.append((index, future))
        self._last = (rgb, thumbnail, future)

    def samples(self, centroid: np.ndarray, fps: Fraction) -> list[IdentitySample]:
        """Each sampled frame's similarity to `centroid`, its faces embedded together."""
        crops = [future.result() for _, future in self._pending]
        unique = {id(crop): crop for crop in crops if crop is not None}
        embedded = self._faces.recognizer.embed_aligned(list(unique.values()))
        similarity = {
            key: self._faces.similarity(embedding, centroid)
            for key, embedding in zip(unique, embedded, strict=True)
        }
        return [
            IdentitySample(index, float(index / fps), similarity.get(id(crop)))
            for (index, _), crop in zip(self._pending, crops, strict=True)
        ]

    def close(self) -> None:
        """Stop the worker, dropping frames not yet looked at (after an error)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


# Sampled frames waiting for the face worker: a few 720p frames, a few MB.
_MAX_QUEUED_FRAMES = 4


def _same_frame(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    # Thumbnails first: comparing them is nearly free and rules out almost every pair.
    return np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0])


def _aligned_face(faces: FaceModelSet, rgb: np.ndarray) -> np.ndarray | None:
    detected = faces.detector.detect(rgb)
    if not detected:
        return None
    # The character is the largest face: a small face in the background is someone else.
    largest = max(detected, key=lambda face: face.box[2] * face.box[3])
    return faces.recognizer.align_rgb(rgb, largest.landmarks)


def measure_segment_frame_by_frame(
    path: str | Path,
    *,
    faces: FaceModelSet | None,
    identity: tuple[np.ndarray, IdentityBand] | None,
    sample_every_s: float = 0.5,
    previous_last_frame: np.ndarray | None = None,
) -> SegmentMetrics:
    """`measure_segment` as it was until issue 21: each sampled frame detected and embedded
    in turn on the decoding thread. Kept as the reference its benchmark and tests hold the
    faster path to."""
    if sample_every_s <= 0:
        raise ValueError(f"sample_every_s must be positive, got {sample_every_s!r}")
    info = probe(path)
    sampled = _sample_frames(info.frames, info.fps, sample_every_s)
    check_identity = faces is not None and identity is not None
    luminance: list[float] = []
    differences: list[float] = []
    samples: list[IdentitySample] = []
    seam: float | None = None
    previous_thumbnail: np.ndarray | None = None
    for index, rgb in enumerate(read_frames(path)):
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        luminance.append(float(grey.mean()))
        thumbnail = _thumbnail(grey)
        if previous_thumbnail is not None:
            differences.append(_mean_difference(thumbnail, previous_thumbnail))
        previous_thumbnail = thumbnail
        if index == 0 and previous_last_frame is not None:
            seam = seam_difference(previous_last_frame, rgb)
        if check_identity and index in sampled:
            similarity = _identity_similarity(faces, identity[0], rgb)
            samples.append(IdentitySample(index, float(index / info.fps), similarity))
    return SegmentMetrics(
        path=str(path),
        codec=info.codec,
        pix_fmt=info.pix_fmt,
        width=info.width,
        height=info.height,
        fps=info.fps,
        frames=info.frames,
        duration_s=info.duration_s,
        decoded_frames=len(luminance),
        luminance=tuple(luminance),
        frame_difference=tuple(differences),
        identity_samples=tuple(samples),
        identity_band=identity[1] if check_identity else None,
        seam_difference=seam,
    )


def seam_difference(previous_last_frame: np.ndarray, first_frame: np.ndarray) -> float:
    """Mean absolute difference (0-255) of two RGB frames' thumbnails, sized like the
    second one's, so a previous frame of another resolution still compares."""
    height, width = first_frame.shape[:2]
    size = _thumbnail_size(width, height)
    a = cv2.resize(previous_last_frame, size, interpolation=cv2.INTER_AREA)
    b = cv2.resize(first_frame, size, interpolation=cv2.INTER_AREA)
    return _mean_difference(a, b)


def _sample_frames(frames: int, fps: Fraction, every_s: float) -> set[int]:
    step = max(1, round(float(fps) * every_s))
    return set(range(0, frames, step))


def _thumbnail_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, THUMBNAIL_LONG_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumbnail(grey: np.ndarray) -> np.ndarray:
    height, width = grey.shape[:2]
    # Area averaging: encoder noise and grain average out instead of aliasing into motion.
    return cv2.resize(grey, _thumbnail_size(width, height), interpolation=cv2.INTER_AREA)


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(cv2.absdiff(a, b).mean())


def _identity_similarity(
    faces: FaceModelSet, centroid: np.ndarray, rgb: np.ndarray
) -> float | None:
    detected = faces.detector.detect(rgb)
    if not detected:
        return None
    # The character is the largest face: a small face in the background is someone else.
    largest = max(detected, key=lambda face: face.box[2] * face.box[3])
    # As it was: the whole frame turned to BGR for the crop, and one face embedded per run.
    crop = faces.recognizer.align(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), largest.landmarks)
    embedding = faces.recognizer.embed_aligned([crop])[0]
    return faces.similarity(embedding, centroid)
