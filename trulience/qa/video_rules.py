"""The blocking gates every generated segment must pass (PRD-49), with thresholds a scene
type can override (PRD-91): black, frozen, flicker, identity, seam and format.

Default thresholds were measured on the local preview backend's segments of the astronaut
(128 px, 24 fps, 48 frames, crf 20, motion 0.5 and 1.0, single and chained) against planted
defects; the numbers are next to each threshold. Gates are pure functions of SegmentMetrics.
"""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from fractions import Fraction
from typing import Any

from trulience.errors import ConfigError
from trulience.qa.video import SegmentMetrics

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
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"{SETTINGS_SECTION} must be an object of gate settings, "
                f"got {type(config).__name__}"
            )
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(config) - set(known))
        if unknown:
            named = ", ".join(f"{SETTINGS_SECTION}.{key}" for key in unknown)
            raise ConfigError(f"unknown setting {named}; known: {', '.join(known)}")
        values = {key: _setting(key, value, known[key]) for key, value in config.items()}
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


def _setting(key: str, value: Any, expected: Any) -> bool | int | float | str:
    name = f"{SETTINGS_SECTION}.{key}"
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {type(value).__name__} {value!r}")
        return value
    if expected is str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name} must be a name, got {type(value).__name__} {value!r}")
        return value
    # bool is an int to Python, but `true` for a frame count is a typo, not a threshold.
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


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


def evaluate_segment(
    metrics: SegmentMetrics,
    rules: QARules,
    expected: Expected,
    previous: SegmentMetrics | None = None,
) -> SegmentVerdict:
    """Run every switched-on gate on a measured segment. Seam needs the previous last frame
    at measurement; identity drop needs `previous`; gates without their input are left out."""
    gates: list[GateResult | None] = []
    if rules.check_black:
        gates.append(_black(metrics, rules))
    if rules.check_frozen:
        gates.append(_frozen(metrics, rules))
    if rules.check_flicker:
        gates.append(_flicker(metrics, rules))
    if rules.check_face_missing:
        gates.append(_face_missing(metrics, rules))
    if rules.check_identity:
        gates.append(_identity(metrics, rules))
    if rules.check_identity_drop and previous is not None:
        gates.append(_identity_drop(metrics, rules, previous))
    if rules.check_seam and metrics.seam_difference is not None:
        gates.append(_seam(metrics, rules))
    gates.extend(_format(metrics, rules, expected))
    results = tuple(g for g in gates if g is not None)
    return SegmentVerdict(passed=all(g.passed for g in results), gates=results)


def _is_black(metrics: SegmentMetrics, rules: QARules, frame: int) -> bool:
    # Only when the black gate runs: then it alone reports black frames, and the frozen and
    # face gates do not repeat the same defect in other words.
    return rules.check_black and metrics.luminance[frame] < rules.black_luminance


def _black(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    black = [i for i, value in enumerate(metrics.luminance) if value < rules.black_luminance]
    share = len(black) / max(len(metrics.luminance), 1)
    passed = len(black) <= rules.black_max_frames and share <= rules.black_max_share
    if not black:
        message = "no black frames"
    else:
        first = black[0] / metrics.fps
        message = (
            f"{len(black)} black frames ({share:.0%} of the segment) from {float(first):.1f} s; "
            f"at most {rules.black_max_frames} frames and {rules.black_max_share:.0%} allowed"
        )
    return GateResult("black", passed, len(black), rules.black_max_frames, message)


def _frozen(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    longest, start = _longest_still_run(metrics, rules)
    # A run of k still steps holds one picture for k + 1 frames.
    seconds = float((longest + 1) / metrics.fps) if longest else 0.0
    passed = seconds <= rules.frozen_max_s
    if not longest:
        message = "no frozen frames"
    else:
        message = (
            f"{_seconds(seconds)} s of frozen frames from {_seconds(start / metrics.fps)} s; "
            f"at most {_seconds(rules.frozen_max_s)} s allowed"
        )
    return GateResult("frozen", passed, round(seconds, 3), rules.frozen_max_s, message)


def _seconds(value: float | Fraction) -> str:
    # Two decimals at most, so 1.54 s never reads as the 1.5 s it exceeds.
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _longest_still_run(metrics: SegmentMetrics, rules: QARules) -> tuple[int, int]:
    """(still steps, first frame) of the longest run of near-identical consecutive frames."""
    differences = metrics.frame_difference
    still = [
        d < rules.frozen_difference and not _is_black(metrics, rules, i + 1)
        for i, d in enumerate(differences)
    ]
    # Bridge one keyframe refresh between two still steps (see QARules).
    for i in range(1, len(differences) - 1):
        if still[i - 1] and still[i + 1] and differences[i] < rules.frozen_refresh_difference:
            still[i] = True
    best, best_start, run, run_start = 0, 0, 0, 0
    for i, is_still in enumerate(still):
        if is_still:
            if run == 0:
                run_start = i
            run += 1
            if run > best:
                best, best_start = run, run_start
        else:
            run = 0
    return best, best_start


def _flicker(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    luminance = metrics.luminance
    jumps = [
        i + 1
        for i in range(len(luminance) - 1)
        if abs(luminance[i + 1] - luminance[i]) > rules.flicker_jump
    ]
    passed = len(jumps) <= rules.flicker_max_jumps
    if not jumps:
        message = "no flicker"
    else:
        message = (
            f"{len(jumps)} brightness jumps over {rules.flicker_jump:g} levels from "
            f"{float(jumps[0] / metrics.fps):.1f} s; at most {rules.flicker_max_jumps} allowed"
        )
    return GateResult("flicker", passed, len(jumps), rules.flicker_max_jumps, message)


def _face_missing(metrics: SegmentMetrics, rules: QARules) -> GateResult | None:
    samples = [s for s in metrics.identity_samples if not _is_black(metrics, rules, s.frame)]
    if metrics.identity_band is None or not samples:
        return None
    missing = [s for s in samples if s.similarity is None]
    share = len(missing) / len(samples)
    passed = share <= rules.face_missing_max_share
    if not missing:
        message = f"face found in all {len(samples)} sampled frames"
    else:
        message = (
            f"face missing in {len(missing)} of {len(samples)} sampled frames, first at "
            f"{missing[0].time_s:.1f} s; at most {rules.face_missing_max_share:.0%} allowed"
        )
    return GateResult(
        "face_missing", passed, round(share, 3), rules.face_missing_max_share, message
    )


def _identity(metrics: SegmentMetrics, rules: QARules) -> GateResult | None:
    band = metrics.identity_band
    if band is None:
        return GateResult(
            "identity",
            True,
            None,
            None,
            "not checked: measured without a face model or the character's identity",
        )
    median, worst = metrics.identity_median, metrics.identity_min
    if median is None or worst is None:
        # No face at all: the face_missing gate reports it; fail here only if it is off.
        return GateResult(
            "identity",
            rules.check_face_missing,
            None,
            band.threshold,
            "no face found to compare with the character",
        )
    floor = band.threshold - rules.identity_min_slack
    if median < band.threshold:
        message = (
            f"face is another person: similarity {median:.2f}, "
            f"this character needs ≥ {band.threshold:.2f}"
        )
    elif worst < floor:
        moment = next(s for s in metrics.identity_samples if s.similarity == worst)
        message = (
            f"face changes at {moment.time_s:.1f} s: similarity {worst:.2f}, "
            f"this character needs ≥ {floor:.2f} in every sampled frame"
        )
    else:
        message = f"face is the character: similarity {median:.2f} (≥ {band.threshold:.2f})"
    passed = median >= band.threshold and worst >= floor
    return GateResult("identity", passed, round(median, 4), round(band.threshold, 4), message)


def _identity_drop(
    metrics: SegmentMetrics, rules: QARules, previous: SegmentMetrics
) -> GateResult | None:
    now, before = metrics.identity_median, previous.identity_median
    if now is None or before is None:
        return None
    drop = before - now
    passed = drop <= rules.identity_max_drop
    if passed:
        message = f"identity held from the previous segment ({before:.2f} to {now:.2f})"
    else:
        message = (
            f"identity fell from {before:.2f} in the previous segment to {now:.2f}; "
            f"at most {rules.identity_max_drop:.2f} drop allowed"
        )
    return GateResult("identity_drop", passed, round(drop, 4), rules.identity_max_drop, message)


def _seam(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    jump = metrics.seam_difference or 0.0
    passed = jump <= rules.seam_max_difference
    if passed:
        message = f"seam is continuous (difference {jump:.1f})"
    else:
        message = (
            f"jump at the seam: the first frame differs from the previous segment's last by "
            f"{jump:.1f} levels; at most {rules.seam_max_difference:g} allowed"
        )
    return GateResult("seam", passed, round(jump, 3), rules.seam_max_difference, message)


def _format(metrics: SegmentMetrics, rules: QARules, expected: Expected) -> list[GateResult]:
    gates = []
    if rules.check_fps:
        fps, wanted = float(metrics.fps), float(expected.fps)
        passed = abs(fps - wanted) <= rules.fps_tolerance
        message = f"{fps:g} fps" + ("" if passed else f", the scene type needs {wanted:g} fps")
        gates.append(GateResult("fps", passed, fps, wanted, message))
    if rules.check_frame_count:
        passed = metrics.frames == expected.frames
        message = f"{metrics.frames} frames" + (
            "" if passed else f", the scene type needs exactly {expected.frames}"
        )
        gates.append(GateResult("frame_count", passed, metrics.frames, expected.frames, message))
    if rules.check_resolution:
        size, wanted_size = (
            f"{metrics.width}x{metrics.height}",
            f"{expected.width}x{expected.height}",
        )
        passed = size == wanted_size
        message = size + ("" if passed else f", the scene type needs {wanted_size}")
        gates.append(GateResult("resolution", passed, size, wanted_size, message))
    if rules.check_pix_fmt:
        passed = metrics.pix_fmt == rules.pix_fmt
        message = f"pixel format {metrics.pix_fmt}" + ("" if passed else f", needs {rules.pix_fmt}")
        gates.append(GateResult("pix_fmt", passed, metrics.pix_fmt, rules.pix_fmt, message))
    if rules.check_codec:
        passed = metrics.codec == rules.codec
        message = f"codec {metrics.codec}" + ("" if passed else f", needs {rules.codec}")
        gates.append(GateResult("codec", passed, metrics.codec, rules.codec, message))
    return gates
