"""The generation backend protocol: one segment from one seed frame.

A backend returns the segment's last frame losslessly (from memory, or a PNG a ComfyUI
workflow saved): chaining the next segment from a decoded H.264 frame would compound
compression artefacts and colour drift segment after segment.
"""

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from trulience.errors import TrulienceError


class BackendError(TrulienceError):
    """A segment could not be generated."""


class TransientBackendError(BackendError):
    """Worth retrying: a worker went away, a socket dropped, a queue was full."""


class PermanentBackendError(BackendError):
    """Retrying the same request will fail again: a bad workflow, an impossible size."""


class OperatorInterrupted(PermanentBackendError):
    """An operator interrupted the segment (and cancelled its take): never retried, and no
    fault of the worker's. `by` is who asked."""

    def __init__(self, message: str, *, by: str | None = None) -> None:
        super().__init__(message)
        self.by = by


@runtime_checkable
class SegmentWatch(Protocol):
    """How a backend tells the catalog which prompt runs a segment, and learns whether an
    operator has cancelled the take (so an interrupt of that prompt is theirs)."""

    def submitted(self, worker: str, prompt_id: str) -> None:
        """The segment's prompt was queued on `worker` (a URL) under `prompt_id`."""
        ...

    def cancelled_by(self) -> str | None:
        """Who cancelled the take, or None while it should run."""
        ...


# Frames smoothed on each side of a seam when the scene type names none (its params'
# `crossfade_frames`). A backend that encodes its own video opens a GOP right after the
# window at the segment's start and another right at the window at its end, so smoothing a
# seam decodes and re-encodes nothing past its window (trulience/delivery/pieces.py).
DEFAULT_CROSSFADE_FRAMES = 2


def seam_keyframes(request: "SegmentRequest") -> tuple[int, ...]:
    """Where a backend that encodes should open GOPs besides its own: the frame after the
    smoothing window at the segment's start, and the first frame of the window at its end
    (none for a segment too short to have both)."""
    frames = int(request.params.get("crossfade_frames", DEFAULT_CROSSFADE_FRAMES))
    return (frames, request.frames - frames) if 0 < frames < request.frames - frames else ()


@dataclass(frozen=True)
class SegmentRequest:
    """What to generate: `frames` frames at `fps`, `width` x `height`, from a seed frame."""

    scene: str  # a label for logs and file names, e.g. "demo/eileen/walk/take-1"
    index: int
    frames: int
    fps: Fraction
    width: int
    height: int
    seed: int
    prompt: str = ""
    negative_prompt: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    workflow: dict[str, Any] | None = None  # API-format graph, for ComfyUI backends
    take_id: int | None = None  # the take in the catalog: a pool queues by its priority
    # the loop's link to the catalog while the segment runs (None: nobody is watching)
    watch: SegmentWatch | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, eq=False)
class SegmentResult:
    """A generated segment: its video file (in the caller's work folder), the last frame
    as lossless RGB uint8 (H, W, 3), the frame count, and what the backend used."""

    video_path: Path
    last_frame: np.ndarray
    frames: int
    backend: str
    started_at: datetime
    finished_at: datetime
    compute_s: float
    worker: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # True when the request's workflow is what made the segment (a ComfyUI worker ran it);
    # a backend that ignores workflows (the preview) leaves it False, so provenance never
    # names a workflow that did not run.
    ran_workflow: bool = False


class GenerationBackend(Protocol):
    name: str

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        """Generate one segment starting from `seed_frame` (RGB uint8, request size) and
        write its video under `work_dir`."""
        ...
