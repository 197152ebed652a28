"""The blocking gates every generated segment must pass (PRD-49), with thresholds a scene
type can override (PRD-91): black, frozen, flicker, identity, seam and format. This module
holds the rules and the results; the gates themselves are trulience.qa.video_gates', pure
functions of SegmentMetrics.

Default thresholds were measured on the local preview backend's segments of the astronaut
(128 px, 24 fps, 48 frames, crf 20, motion 0.5 and 1.0, single and chained) against planted
defects; the numbers are next to each threshold.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Any

from trulience.errors import ConfigError
from trulience.qa.settings import overrides

SETTINGS_SECTION = "video_qa"


@dataclass(frozen=True)
class QARules:
    """Which segment gates run and their thresholds; `check_*` switches a gate off."""

    check_black: bool = True
    # Clean astronaut segments: darkest frame mean 118-145; a black frame decodes to 0.0.
    # 12 leaves room for legitimately dark (night) shots.
    black_luminance: float = 12.0
    # No cut ever happens inside a segment, so a black frame is a defect; a couple are
    # tolerated at most, and a share for long segments.
    black_max_frames: int = 2
    black_max_share: float = 0.05

    check_frozen: bool = True
    # Consecutive 64 px grey thumbnails of an x264 re-coded still differ by 0.00-0.02;
    # the preview's slowest real motion (mid-segment, motion 0.5) by 0.02-0.35.
    frozen_difference: float = 0.05
    # The preview eases in and out, so its last moments move less than a grey level: the
    # longest still run of clean segments was 0.29-0.57 s at 128 px for 2 s, 1.08 s at
    # 128 px for 5 s (the worst case: tiny frames, long segment) and 0.43 s at 720p for 5 s.
    # A 2 s repeated frame reads 2.0 s.
    frozen_max_s: float = 1.5
    # x264 re-codes a still picture at each keyframe: 1.09 at 128 px, crf 20. One such jump
    # between two still runs must not cut a 2 s freeze into two 1 s halves.
    frozen_refresh_difference: float = 3.0

    check_flicker: bool = True
    # Frame-to-frame change of mean luminance: clean preview 0.03-0.25 (motion 1.0), planted
    # ±40 flicker 74.8. 8 grey levels per frame is far beyond any smooth light change.
    flicker_jump: float = 8.0
    # A lightning flash or a lamp switched on and off is two jumps.
    flicker_max_jumps: int = 2

    check_face_missing: bool = True
    # Clean segments: a face in every sample (share 0.0). A head turned away for a moment
    # is allowed; a quarter of the segment without the character is not.
    face_missing_max_share: float = 0.25

    check_identity: bool = True
    # The median must reach the character's own band threshold (astronaut: 0.63; clean
    # medians 0.94-0.96, Tom Hanks 0.13-0.15, the cameraman 0.17). The single worst sample
    # may sit this far below it (clean worst samples 0.91-0.95, flicker included).
    identity_min_slack: float = 0.10

    check_identity_drop: bool = True
    # Median similarity fall from the previous segment: chained clean segments 0.00-0.01;
    # astronaut to Tom Hanks 0.8.
    identity_max_drop: float = 0.10

    check_seam: bool = True
    # Previous last frame to this first frame, 64 px RGB thumbnails: clean chains 1.6-2.0
    # (decoded) and 2.1-2.2 (lossless last frame against the decoded first frame); the
    # astronaut mirrored 43, an unrelated picture 71.
    seam_max_difference: float = 10.0

    check_fps: bool = True
    # Absolute fps difference: covers 29.97 written for 30000/1001.
    fps_tolerance: float = 0.01
    check_frame_count: bool = True
    check_resolution: bool = True
    check_pix_fmt: bool = True
    pix_fmt: str = "yuv420p"
    check_codec: bool = True
    codec: str = "h264"

    def __post_init__(self) -> None:
        for key in (
            "black_luminance",
            "frozen_difference",
            "frozen_max_s",
            "frozen_refresh_difference",
            "flicker_jump",
            "identity_min_slack",
            "identity_max_drop",
            "seam_max_difference",
            "fps_tolerance",
        ):
            if getattr(self, key) < 0:
                raise ConfigError(f"{SETTINGS_SECTION}.{key} must not be negative")
        for key in ("black_max_frames", "flicker_max_jumps"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{SETTINGS_SECTION}.{key} must not be negative")
        for key in ("black_max_share", "face_missing_max_share"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigError(f"{SETTINGS_SECTION}.{key} must be between 0 and 1")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], base: "QARules | None" = None) -> "QARules":
        """`base` (the defaults if None) overridden by `config`, e.g. a scene type's
        `video_qa` section inheriting its project's rules. Raises ConfigError naming the key
        for unknown keys, wrong types or impossible values."""
        values = overrides(config, cls, SETTINGS_SECTION, holds="gate settings")
        return replace(base or cls(), **values)


DEFAULT_RULES = QARules()

# Every gate `evaluate_segment` can report, in the order it runs them.
GATES = (
    "black",
    "frozen",
    "flicker",
    "face_missing",
    "identity",
    "identity_drop",
    "seam",
    "fps",
    "frame_count",
    "resolution",
    "pix_fmt",
    "codec",
)


@dataclass(frozen=True)
class Expected:
    """What the scene type asked the segment to be."""

    fps: Fraction | int | float
    frames: int
    width: int
    height: int


@dataclass(frozen=True)
class GateResult:
    """One gate: the measured `value` against its `threshold`, and what it means."""

    name: str
    passed: bool
    value: float | str | None
    threshold: float | str | None
    message: str


@dataclass(frozen=True)
class SegmentVerdict:
    """All gates run on a segment; `passed` only when every one passed."""

    passed: bool
    gates: tuple[GateResult, ...]

    @property
    def failed(self) -> tuple[GateResult, ...]:
        """The gates that failed."""
        return tuple(g for g in self.gates if not g.passed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)
