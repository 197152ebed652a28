"""The local preview backend: a CPU animatic made from the seed frame itself.

Each segment is a slow push-in with a pan (a Ken Burns move) plus a little sway and
breathing, rendered with OpenCV and encoded to H.264. Frame 0 is the seed frame untouched,
and every motion term eases in and out (zero value and zero velocity at both ends of the
segment), so a chain seeded with each segment's last frame plays as one continuous shot.

Magnitudes, at motion strength 1 (the default strength is 0.5):
- push-in: 1.2 % per second of segment, at most 3 % per segment, times a seeded 0.6-1.0;
- pan: a seeded direction and 0.3-1.0 of the largest shift the push-in can hide, at most
  z / (2 (1 + z)) of the frame for a push-in z (1.5 % at 3 %), so the window never leaves
  the picture and no invented (mirrored) border reaches the next segment's seed;
- sway: a rotation of up to 0.3° (with the slight extra zoom that keeps the turned
  picture's corners inside) and a breathing zoom of up to 0.4 %, about one cycle every
  three seconds, both back to zero at the segment's end.
At the default strength a chain of ten 3-second segments pushes in by about 13 % in all.
Each segment resamples its seed once (bicubic), never a frame it rendered itself.
"""

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from fractions import Fraction
from numbers import Real
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from trulience.generation.backend import (
    PermanentBackendError,
    SegmentRequest,
    SegmentResult,
    seam_keyframes,
)
from trulience.media.encode import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    H264Writer,
    UnencodableFrames,
    frame_rate,
)

DEFAULT_MOTION = 0.5
ZOOM_PER_SECOND = 0.012
MAX_ZOOM = 0.03
MAX_SWAY_DEG = 0.3
MAX_BREATH = 0.004
SECONDS_PER_SWAY = 3.0


@dataclass(frozen=True)
class PreviewMotion:
    """One segment's camera move; lengths are fractions of the frame, reached at the end."""

    strength: float
    zoom: float
    pan_x: float
    pan_y: float
    sway_deg: float
    breath: float
    sway_cycles: int

    @classmethod
    def from_seed(cls, seed: int, strength: float, duration_s: float) -> "PreviewMotion":
        """The move for a segment of `duration_s` seconds, the same for the same seed."""
        rng = np.random.default_rng(seed)
        zoom = strength * min(ZOOM_PER_SECOND * duration_s, MAX_ZOOM) * rng.uniform(0.6, 1.0)
        # Largest pan the push-in hides: the window of width 1/(1+z) may move by half the
        # width it lost.
        pan = zoom / (2 * (1 + zoom)) * rng.uniform(0.3, 1.0)
        angle = rng.uniform(0, 2 * math.pi)
        return cls(
            strength=strength,
            zoom=zoom,
            pan_x=pan * math.cos(angle),
            pan_y=pan * math.sin(angle),
            sway_deg=strength * MAX_SWAY_DEG * rng.uniform(0.5, 1.0) * float(rng.choice((-1, 1))),
            breath=strength * MAX_BREATH * rng.uniform(0.5, 1.0),
            sway_cycles=max(1, round(duration_s / SECONDS_PER_SWAY)),
        )

    def matrix(self, progress: float, width: int, height: int) -> np.ndarray:
        """The 2x3 map from output pixels to seed pixels at `progress` (0 to 1) through
        the segment; the identity at 0."""
        ease = progress * progress * (3 - 2 * progress)  # smoothstep: no jolt at the seams
        envelope = math.sin(math.pi * progress)  # keeps the sway's velocity zero at the ends
        sway = math.sin(2 * math.pi * self.sway_cycles * progress) * envelope
        breath = math.sin(math.pi * self.sway_cycles * progress) ** 2
        angle = math.radians(self.sway_deg * sway)
        half_width, half_height = (width - 1) / 2, (height - 1) / 2
        # Zooming in by this much more keeps the turned window inside the unturned one.
        cover = math.cos(angle) + max(half_width / half_height, half_height / half_width) * abs(
            math.sin(angle)
        )
        scale = (1 + self.zoom * ease) * (1 + self.breath * breath) * cover
        cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
        linear = np.array([[cos, -sin], [sin, cos]])
        centre = np.array([half_width, half_height])
        pan = np.array([self.pan_x * (width - 1), self.pan_y * (height - 1)]) * ease
        offset = centre + pan - linear @ centre
        return np.hstack([linear, offset[:, None]])

    def as_metadata(self) -> dict[str, Any]:
        """The move as plain JSON-ready numbers, for the segment's provenance."""
        return {
            key: round(float(value), 6) if isinstance(value, float) else value
            for key, value in asdict(self).items()
        }


class LocalPreviewBackend:
    """Generation backend rendering previews on the CPU: deterministic per request seed."""

    name = "preview"

    def __init__(self, *, crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET) -> None:
        self.crf = crf
        self.preset = preset

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        """Render `request.frames` frames moving away from `seed_frame` and encode them to
        `work_dir/segment-NNN.mp4`; the result carries the last frame losslessly."""
        started_at = datetime.now(UTC)
        clock = time.perf_counter()
        fps, strength = _check_request(request)
        _check_seed_frame(seed_frame, f"{request.scene} segment {request.index}")
        seed = _fit(seed_frame, request.width, request.height)
        motion = PreviewMotion.from_seed(request.seed, strength, float(request.frames / fps))
        work_dir = Path(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        video_path = work_dir / f"segment-{request.index:03d}.mp4"
        last = seed
        try:
            with H264Writer(
                video_path,
                fps,
                request.width,
                request.height,
                crf=self.crf,
                preset=self.preset,
                keyframes=seam_keyframes(request),
            ) as writer:
                for frame in _render(seed, motion, request.frames):
                    writer.write(frame)
                    last = frame
                info = writer.close()
        except UnencodableFrames as error:
            raise PermanentBackendError(
                f"{request.scene} segment {request.index}: {error}"
            ) from error
        finished_at = datetime.now(UTC)
        return SegmentResult(
            video_path=video_path,
            last_frame=last.copy(),
            frames=info.frames,
            backend=self.name,
            started_at=started_at,
            finished_at=finished_at,
            compute_s=time.perf_counter() - clock,
            worker="local",
            metadata={
                "motion": motion.as_metadata(),
                "seed": request.seed,
                "seed_resized": seed_frame.shape[:2] != (request.height, request.width),
                "encoder": f"libx264 crf {self.crf} {self.preset}",
            },
        )


def _render(seed: np.ndarray, motion: PreviewMotion, frames: int) -> Iterator[np.ndarray]:
    """The segment's frames; the first is the seed itself, bit for bit. (Warping on a second
    thread while x264 encodes gained nothing measurable: x264 already fills both cores.)"""
    yield seed
    for index in range(1, frames):
        yield _warp(seed, motion, index / (frames - 1))


def _warp(seed: np.ndarray, motion: PreviewMotion, progress: float) -> np.ndarray:
    height, width = seed.shape[:2]
    return cv2.warpAffine(
        seed,
        motion.matrix(progress, width, height),
        (width, height),
        # Bicubic: each segment resamples its seed once, and the chain compounds the blur.
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        # Every sample lies inside the seed (see PreviewMotion); the border mode only feeds
        # the bicubic kernel's outer taps at the picture's edge.
        borderMode=cv2.BORDER_REFLECT,
    )


def _fit(seed_frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """The seed at the request size: scaled to cover it, then centre-cropped, so a seed of
    another shape is cropped rather than distorted."""
    seed_height, seed_width = seed_frame.shape[:2]
    if (seed_width, seed_height) == (width, height):
        return np.ascontiguousarray(seed_frame)
    scale = max(width / seed_width, height / seed_height)
    scaled_width = max(width, round(seed_width * scale))
    scaled_height = max(height, round(seed_height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(seed_frame, (scaled_width, scaled_height), interpolation=interpolation)
    top = (scaled_height - height) // 2
    left = (scaled_width - width) // 2
    return np.ascontiguousarray(scaled[top : top + height, left : left + width])


def _check_request(request: SegmentRequest) -> tuple[Fraction, float]:
    """The request's frame rate and motion strength, or PermanentBackendError saying why not."""
    where = f"{request.scene} segment {request.index}"
    if not isinstance(request.frames, int) or request.frames < 1:
        raise PermanentBackendError(
            f"{where}: frames must be a positive integer, got {request.frames!r}"
        )
    for side in ("width", "height"):
        value = getattr(request, side)
        if not isinstance(value, int) or value < 2 or value % 2:
            raise PermanentBackendError(
                f"{where}: {side} must be a positive even number of pixels, got {value!r} "
                "(H.264 in yuv420p stores colour at half resolution, so libx264 refuses odd sizes)"
            )
    try:
        fps = frame_rate(request.fps)
    except UnencodableFrames as error:
        raise PermanentBackendError(f"{where}: {error.reason}") from error
    if not isinstance(request.seed, int) or request.seed < 0:
        raise PermanentBackendError(
            f"{where}: seed must be a non-negative integer, got {request.seed!r}"
        )
    strength = request.params.get("motion", DEFAULT_MOTION)
    if isinstance(strength, bool) or not isinstance(strength, Real) or not 0 <= strength <= 1:
        raise PermanentBackendError(f"{where}: params.motion must be from 0 to 1, got {strength!r}")
    return fps, float(strength)


def _check_seed_frame(seed_frame: np.ndarray, where: str) -> None:
    if not isinstance(seed_frame, np.ndarray):
        raise PermanentBackendError(
            f"{where}: the seed frame is a {type(seed_frame).__name__}, not an array"
        )
    if seed_frame.dtype != np.uint8 or seed_frame.ndim != 3 or seed_frame.shape[2] != 3:
        raise PermanentBackendError(
            f"{where}: the seed frame is {seed_frame.dtype} {seed_frame.shape}; "
            "expected RGB uint8 (H, W, 3)"
        )
    if seed_frame.shape[0] < 2 or seed_frame.shape[1] < 2:
        raise PermanentBackendError(
            f"{where}: the seed frame {seed_frame.shape} is too small to animate"
        )
