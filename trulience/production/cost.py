"""GPU cost estimates for a batch of takes, from the GPU time past takes used (PRD-61).

Method
------
Every stored segment attempt records the GPU seconds it took (`compute_s` in its
provenance). Attempts refused by a quality gate are kept and count: they used the GPU
too. The attempts at one segment of one take (the first try and its retakes) form a
*history segment*; its **rate** is its attempts' GPU seconds per second of the video it
yields (frames / fps), so retakes are priced in.

The history used for a scene type is the first non-empty of these levels:

1. that scene type at its current resolution (width x height);
2. that scene type at other resolutions;
3. other scene types at the same resolution;
4. every segment ever made.

Each rate is scaled to the target's pixel rate (width x height x fps): a factor of 1 on
level 1 unless the fps changed; the cost of a generator grows with the pixels it makes, and
this is the only scaling we can justify without a model of the workflow. Only the newest
`HISTORY_LIMIT` segments of a level are used (workflows, models and GPUs change). With no
history at all there is no estimate — never an invented number.

**Expected GPU seconds** of one take = mean rate x its duration in seconds of video; a
batch's = the sum over its takes.

**Range**: a predictive bootstrap with `REPLICATES` replicates and a fixed seed (the same
history always gives the same answer). Each replicate resamples the history segments with
replacement (the uncertainty of the mean rate), then draws every segment of every take of
the batch from that resample (the spread of single segments) and sums their cost. The
range is the 5th to 95th percentile of those sums: a 90 % interval for what the batch
will cost, which widens when the history is thin or uneven. (The expected value is kept
inside its range.)

**Retakes**: the mean number of attempts per history segment, less one, is the expected
number of retakes per segment.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import psycopg

from trulience.catalog.costs import segment_costs
from trulience.generation.scene_config import SceneConfig, resolve

HISTORY_LIMIT = 2000
REPLICATES = 4000
INTERVAL = (5.0, 95.0)
SEED = 20_061  # fixed: an estimate must not change from one look to the next
THIN_HISTORY = 5  # fewer history segments than this: the range says little

LEVELS = {
    1: "same scene type and resolution",
    2: "same scene type, other resolutions (scaled by pixel rate)",
    3: "other scene types at the same resolution (scaled by pixel rate)",
    4: "all history (scaled by pixel rate)",
}


@dataclass(frozen=True, slots=True)
class HistorySegment:
    """One segment of one past take: its attempts and the GPU seconds they used together."""

    scene_id: int
    scene_type: str
    width: int
    height: int
    fps: Fraction
    frames: int
    attempts: int
    gpu_seconds: float

    @property
    def video_seconds(self) -> float:
        return float(self.frames / self.fps)

    @property
    def pixel_rate(self) -> float:
        """Pixels generated per second of video."""
        return float(self.width * self.height * self.fps)

    @property
    def rate(self) -> float:
        """GPU seconds (all attempts) per second of video."""
        return self.gpu_seconds / self.video_seconds


@dataclass(frozen=True, slots=True)
class Target:
    """What a batch asks of one scene type: `takes` takes of this shape."""

    scene_type: str
    width: int
    height: int
    fps: Fraction
    segment_frames: tuple[int, ...]
    takes: int

    @classmethod
    def of(cls, config: SceneConfig, takes: int) -> "Target":
        """`takes` takes of a scene type at its effective configuration."""
        return cls(
            config.scene_type,
            config.width,
            config.height,
            config.fps,
            tuple(config.frame_plan()),
            takes,
        )

    @property
    def segment_seconds(self) -> np.ndarray:
        return np.array([float(f / self.fps) for f in self.segment_frames])

    @property
    def take_seconds(self) -> float:
        return float(sum(self.segment_frames) / self.fps)

    @property
    def pixel_rate(self) -> float:
        return float(self.width * self.height * self.fps)


@dataclass(frozen=True, slots=True)
class SceneTypeEstimate:
    """The estimate for one scene type of a batch and what it rests on."""

    target: Target
    level: int
    history_segments: int
    history_takes: int
    gpu_s_per_video_s: float
    retakes_per_segment: float

    @property
    def gpu_s_per_take(self) -> float:
        return self.gpu_s_per_video_s * self.target.take_seconds

    @property
    def gpu_seconds(self) -> float:
        return self.gpu_s_per_take * self.target.takes

    @property
    def basis(self) -> str:
        """What the estimate rests on, in words."""
        t = self.target
        thin = ""
        if self.history_segments < THIN_HISTORY:
            thin = " - thin history, the range says little"
        return (
            f"{self.history_segments} segment(s) of {self.history_takes} past take(s), "
            f"{LEVELS[self.level]}{thin}"
        ) + ("" if self.level == 1 else f"; target {t.width}x{t.height} at {t.fps} fps")

    def to_json(self) -> dict:
        """The estimate and its basis, as stored with the batch."""
        t = self.target
        return {
            "takes": t.takes,
            "resolution": f"{t.width}x{t.height}",
            "fps": str(t.fps),
            "video_s_per_take": round(t.take_seconds, 3),
            "level": self.level,
            "basis": LEVELS[self.level],
            "history_segments": self.history_segments,
            "history_takes": self.history_takes,
            "gpu_s_per_video_s": round(self.gpu_s_per_video_s, 4),
            "gpu_s_per_take": round(self.gpu_s_per_take, 1),
            "retakes_per_segment": round(self.retakes_per_segment, 3),
        }


@dataclass(frozen=True, slots=True)
class Estimate:
    """Expected GPU seconds of a batch with a 90 % range, or why there is none."""

    per_type: tuple[SceneTypeEstimate, ...]
    gpu_seconds: float | None
    low: float | None
    high: float | None
    expected_retakes: float | None
    missing: str | None = None

    @property
    def available(self) -> bool:
        return self.gpu_seconds is not None

    @property
    def takes(self) -> int:
        return sum(e.target.takes for e in self.per_type)

    def basis_json(self) -> dict:
        """What the estimate rests on, per scene type (stored with the batch)."""
        shown = {e.target.scene_type: e.to_json() for e in self.per_type}
        if self.missing:
            shown["missing"] = self.missing
        if self.expected_retakes is not None:
            shown["expected_retakes"] = round(self.expected_retakes, 2)
        return shown

    def describe(self) -> list[str]:
        """Lines a producer reads before a batch starts."""
        if not self.available:
            return [f"estimate: none - {self.missing}"]
        lines = [
            f"estimate: {self.gpu_seconds:,.1f} GPU s ({hours(self.gpu_seconds)}) "
            f"for {self.takes} take(s), 90% range {self.low:,.1f} to {self.high:,.1f} GPU s "
            f"({hours(self.low)} to {hours(self.high)}); "
            f"about {self.expected_retakes:.1f} retake(s) expected"
        ]
        for e in self.per_type:
            lines.append(
                f"  {e.target.scene_type:<20} {e.target.takes} x {e.gpu_s_per_take:,.1f} GPU s"
                f" ({e.gpu_s_per_video_s:.3f} GPU s per video s, {e.target.take_seconds:g} s, "
                f"{e.target.width}x{e.target.height}, {e.retakes_per_segment:.2f} retakes per "
                f"segment) from {e.basis}"
            )
        return lines


def hours(gpu_seconds: float) -> str:
    """GPU seconds as GPU hours, with the digits that matter."""
    h = gpu_seconds / 3600
    return f"{h:,.2f} GPU h" if abs(h) >= 10 else f"{h:.3g} GPU h"


NO_HISTORY = (
    "no generation history to estimate from (no segment has recorded compute_s yet); "
    "generate a pilot take first, e.g. `trulience generate CHARACTER SCENE_TYPE --project P`"
)


def load_history(conn: psycopg.Connection) -> list[HistorySegment]:
    """Every past segment with recorded GPU time (all its attempts summed), newest first."""
    history = []
    for row in segment_costs(conn):
        try:
            rate = Fraction(row.fps)
        except (ValueError, ZeroDivisionError):
            continue  # not written by the loop; nothing to learn from it
        if rate > 0 and row.width > 0 and row.height > 0:
            history.append(
                HistorySegment(
                    row.scene_id,
                    row.scene_type,
                    row.width,
                    row.height,
                    rate,
                    row.frames,
                    row.attempts,
                    row.gpu_seconds,
                )
            )
    return history


def history_for(
    history: Sequence[HistorySegment], target: Target
) -> tuple[int, list[HistorySegment]]:
    """The first non-empty level of history for a target (0 and [] when there is none)."""
    same_type = [h for h in history if h.scene_type == target.scene_type]
    same_size = [(h.width, h.height) == (target.width, target.height) for h in history]
    levels = {
        1: [h for h in same_type if (h.width, h.height) == (target.width, target.height)],
        2: same_type,
        3: [h for h, same in zip(history, same_size, strict=True) if same],
        4: list(history),
    }
    for level, segments in levels.items():
        if segments:
            return level, segments[:HISTORY_LIMIT]
    return 0, []


def scaled_rates(segments: Iterable[HistorySegment], target: Target) -> np.ndarray:
    """Each segment's rate scaled to the target's pixel rate."""
    return np.array([h.rate * target.pixel_rate / h.pixel_rate for h in segments])


def estimate(
    history: Sequence[HistorySegment], targets: Sequence[Target], seed: int = SEED
) -> Estimate:
    """The expected GPU seconds of these takes with a 90 % range (see the module's method)."""
    if not targets:
        return Estimate((), None, None, None, None, "the batch has no takes")
    if not history:
        return Estimate((), None, None, None, None, NO_HISTORY)
    rng = np.random.default_rng(seed)
    per_type = []
    totals = np.zeros(REPLICATES)
    expected_retakes = 0.0
    for target in targets:
        level, segments = history_for(history, target)
        rates = scaled_rates(segments, target)
        attempts = np.array([h.attempts for h in segments], dtype=float)
        per_type.append(
            SceneTypeEstimate(
                target,
                level,
                len(segments),
                len({h.scene_id for h in segments}),
                float(rates.mean()),
                float(attempts.mean() - 1),
            )
        )
        expected_retakes += float(attempts.mean() - 1) * len(target.segment_frames) * target.takes
        totals += _bootstrap_totals(rng, rates, np.tile(target.segment_seconds, target.takes))
    expected = sum(e.gpu_seconds for e in per_type)
    low, high = np.percentile(totals, INTERVAL)
    return Estimate(
        tuple(per_type),
        expected,
        min(float(low), expected),
        max(float(high), expected),
        expected_retakes,
    )


def _bootstrap_totals(
    rng: np.random.Generator, rates: np.ndarray, seconds: np.ndarray
) -> np.ndarray:
    """Per replicate: the cost of segments of these lengths drawn from a resample of the
    history rates. Drawing m positions of a resample is drawing m positions in 0..n-1 and
    giving each distinct position its own uniform pick from the history, which costs O(m)
    instead of O(n) per replicate."""
    n, m = len(rates), len(seconds)
    totals = np.empty(REPLICATES)
    for b in range(REPLICATES):
        positions = rng.integers(n, size=m)
        distinct, inverse = np.unique(positions, return_inverse=True)
        picks = rng.integers(n, size=distinct.size)[inverse]
        totals[b] = float(rates[picks] @ seconds)
    return totals


def estimate_batch(conn: psycopg.Connection, takes_per_type: dict[str, int]) -> Estimate:
    """The estimate for `takes` takes of each scene type, from the catalog's history; each
    scene type at its current effective configuration."""
    targets = [Target.of(resolve(conn, slug), takes) for slug, takes in takes_per_type.items()]
    return estimate(load_history(conn), targets)
