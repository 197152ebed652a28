"""One attempt at a segment, in two halves the loop may overlap. Made: the request, the
backend, the cut to the planned length and the last frame with colour normalised to the
take's anchor (the next segment's seed, ready before the attempt is judged). Judged: the
video normalised, measured, judged by the quality gates, and stored and committed (a passed
attempt as the segment's current one: the loop's checkpoint; a refused one kept beside it).
Judging touches only files, the storage and the connection it is given, so it may run on
another thread with a connection of its own while the backend makes the next segment."""

import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from trulience.catalog import scenes, segments
from trulience.catalog.records import Segment, Take
from trulience.generation.backend import (
    BackendError,
    GenerationBackend,
    PermanentBackendError,
    SegmentRequest,
    SegmentResult,
)
from trulience.generation.continuity import normalise_segment, normalise_to_anchor
from trulience.generation.control import Watch
from trulience.generation.plan import TakePlan
from trulience.generation.provenance import provenance
from trulience.generation.resolution import kept_seed
from trulience.generation.scene_config import SceneConfig
from trulience.generation.seed import SeedFrame, png_bytes
from trulience.generation.stops import LoopStopped
from trulience.media.frames import last_frame
from trulience.media.probe import probe
from trulience.media.trim import trim_to_frames
from trulience.qa.video import SegmentMetrics, measure_segment
from trulience.qa.video_gates import evaluate_segment
from trulience.qa.video_rules import SegmentVerdict
from trulience.storage import Storage, storage_key

log = logging.getLogger(__name__)

RANDOM_SEEDS = np.random.default_rng()
# A retake after a failed gate shifts the seed by this much (a prime, far from +1 steps).
RETAKE_SEED_STEP = 1_000_003


def seed_for(config: SceneConfig, index: int) -> int:
    """The generation seed of a segment under the scene type's seed policy."""
    if config.seed_policy == "fixed":
        return config.seed
    if config.seed_policy == "random":
        return int(RANDOM_SEEDS.integers(0, 2**31 - 1))
    return config.seed + index


def _seed(config: SceneConfig, index: int, number: int, retake: bool) -> int:
    """The attempt's seed: a final's first try at a segment reuses its preview's (PRD-59)."""
    kept = None if retake else kept_seed(config, index, number)
    return kept if kept is not None else seed_for(config, index) + RETAKE_SEED_STEP * (number - 1)


@dataclass(frozen=True)
class SegmentStart:
    """What every attempt at segment `index` starts from: its seed frame, and the previous
    segment's measurements (for the identity-drop gate; None for the run's first)."""

    index: int
    seed: SeedFrame
    previous: SegmentMetrics | None


@dataclass(frozen=True)
class Attempt:
    """One attempt, stored and committed: its row, whether it passed the gates, the gates it
    failed and why, its measurements, and its last frame (the next segment's seed)."""

    row: Segment
    passed: bool
    failed: tuple[str, ...]
    refusal: str
    metrics: SegmentMetrics
    last_frame: SeedFrame


@dataclass(frozen=True)
class _Files:
    """Where an attempt's video and last frame are stored, and its work folder."""

    name: str
    video_key: str
    frame_key: str
    folder: Path


@dataclass(frozen=True)
class _Cut:
    """The attempt's video as it will be stored, and its last frame (and how it was read)."""

    video: Path
    last_pixels: np.ndarray
    last_source: str


@dataclass(frozen=True)
class Made:
    """An attempt the backend made, cut to plan and not yet judged: its number, request and
    result, its video (colour not yet normalised), and its last frame as the next segment's
    seed (normalised, with the sha256 of the PNG it will be stored as)."""

    index: int
    number: int
    request: SegmentRequest
    result: SegmentResult
    cut: _Cut
    files: _Files
    last_frame: SeedFrame
    last_png: bytes

    def discard(self) -> None:
        """Drop the attempt unjudged: nothing of it was stored, its work folder goes."""
        shutil.rmtree(self.files.folder, ignore_errors=True)


def make(
    conn: psycopg.Connection,
    storage: Storage,
    backend: GenerationBackend,
    plan: TakePlan,
    index: int,
    seed: SeedFrame,
    retake: bool,
) -> Made:
    """The next attempt at segment `index` from `seed`, made by the backend (`retake`: an
    earlier attempt of this run failed a gate, so the retake parameters apply)."""
    number = segments.next_attempt(conn, plan.take.id, index)
    files = _fresh_files(storage, plan, index, number)
    request = segment_request(conn, plan, index, number, retake)
    plan.run.events("segment_started", {"index": index, "attempt": number})
    result = generate_on_backend(conn, backend, plan.take, seed.pixels, request, files.folder)
    cut = _cut_to_plan(result, request, files)
    last = cut.last_pixels
    if plan.continuity.anchor is not None:
        last = normalise_to_anchor(last, plan.continuity.anchor, plan.continuity.strength)
    cut = _Cut(cut.video, last, cut.last_source)
    png = png_bytes(last)
    seed_of_next = SeedFrame(last, hashlib.sha256(png).hexdigest(), cut.last_source)
    return Made(index, number, request, result, cut, files, seed_of_next, png)


def judge(
    conn: psycopg.Connection, storage: Storage, plan: TakePlan, made: Made, start: SegmentStart
) -> Attempt:
    """The attempt judged by the quality gates, stored and committed on `conn`."""
    files, request = made.files, made.request
    video = _normalised_video(made.cut.video, plan, files)
    metrics, verdict = _judge(video, plan, request.frames, start)
    stored_video = storage.put_file(files.video_key, video)
    stored_frame = storage.put_bytes(files.frame_key, made.last_png)
    made_by = provenance(plan, request, made.result, start.seed, stored_frame, made.cut.last_source)
    row = segments.commit_segment(
        conn,
        plan.take.id,
        start.index,
        made.number,
        uri=stored_video.uri,
        sha256=stored_video.sha256,
        frames=request.frames,
        provenance=made_by,
        qa=_qa_record(verdict, metrics),
        status="qa_passed" if verdict.passed else "qa_failed",
        current=verdict.passed,
    )
    shutil.rmtree(files.folder, ignore_errors=True)
    return Attempt(
        row,
        verdict.passed,
        tuple(g.name for g in verdict.failed),
        "; ".join(g.message for g in verdict.failed),
        metrics,
        made.last_frame,
    )


def _fresh_files(storage: Storage, plan: TakePlan, index: int, number: int) -> _Files:
    """The attempt's storage keys (cleared of what a run that died before committing left)
    and an empty work folder."""
    name = f"segment-{index:03d}-a{number}"
    files = _Files(
        name,
        storage_key(*plan.key_prefix, f"{name}.mp4"),
        storage_key(*plan.key_prefix, f"{name}-last.png"),
        plan.run.work_dir / name,
    )
    for key in (files.video_key, files.frame_key):
        storage.delete(key)
    shutil.rmtree(files.folder, ignore_errors=True)
    files.folder.mkdir(parents=True)
    return files


def segment_request(
    conn: psycopg.Connection, plan: TakePlan, index: int, number: int, retake: bool
) -> SegmentRequest:
    """What the backend is asked for: the planned frames at the scene's rate and size."""
    config = plan.config
    return SegmentRequest(
        scene=plan.name,
        index=index,
        frames=plan.frame_plan[index],
        fps=config.fps,
        width=config.width,
        height=config.height,
        # every retake (after a failed gate, or sent back by a reviewer) gets another
        # seed, and so other motion
        seed=_seed(config, index, number, retake),
        prompt=plan.prompt,
        negative_prompt=plan.negative_prompt,
        # a retake may also nudge parameters (qa_rules.retake_params), e.g. less motion
        params={**plan.params, **plan.quality.retake_params} if retake else plan.params,
        workflow=plan.workflow,
        take_id=plan.take.id,
        watch=Watch(conn, plan.take.id, index),
    )


def generate_on_backend(
    conn: psycopg.Connection,
    backend: GenerationBackend,
    take: Take,
    seed_pixels: np.ndarray,
    request: SegmentRequest,
    folder: Path,
) -> SegmentResult:
    """One segment from the backend; a failure while the take is cancelled is the
    operator's interrupt (LoopStopped), whatever the backend called it."""
    try:
        return backend.generate_segment(seed_pixels, request, folder)
    except BackendError as exc:
        control, by = scenes.take_control(conn, take.id)
        if control == "cancel":
            raise LoopStopped(take.id, "cancelled", by, during=request.index) from exc
        raise
    finally:
        try:
            scenes.clear_prompt(conn, take.id)
        except Exception:  # a stale record is harmless: interrupting checks the worker's queue
            log.exception("could not clear the running prompt of take %s", take.id)


def _cut_to_plan(result: SegmentResult, request: SegmentRequest, files: _Files) -> _Cut:
    """The backend's video cut to the planned length (a backend that cannot stop exactly
    made more), and checked to have exactly that many frames."""
    cut = _Cut(result.video_path, result.last_frame, "lossless")
    if result.frames > request.frames:
        video = files.folder / f"{files.name}-trimmed.mp4"
        trim_to_frames(result.video_path, video, request.frames)
        cut = _Cut(video, last_frame(video), "decoded after trim")
    counted = probe(cut.video).frames
    if counted != request.frames:
        raise PermanentBackendError(
            f"segment {request.index} of {request.scene} has {counted} frames, "
            f"{request.frames} planned"
        )
    return cut


def _normalised_video(video: Path, plan: TakePlan, files: _Files) -> Path:
    """The video with colour held to the take's anchor (PRD-26), when the scene type asks
    for it (its last frame is normalised when the attempt is made)."""
    continuity = plan.continuity
    if continuity.anchor is None:
        return video
    normalised = files.folder / f"{files.name}-normalised.mp4"
    normalise_segment(video, normalised, continuity.anchor, continuity.strength)
    return normalised


def _judge(
    video: Path, plan: TakePlan, frames: int, start: SegmentStart
) -> tuple[SegmentMetrics, SegmentVerdict]:
    """The attempt measured (the seam against its seed frame) and its verdict."""
    quality = plan.quality
    metrics = measure_segment(
        video, faces=quality.faces, identity=quality.identity, previous_last_frame=start.seed.pixels
    )
    verdict = evaluate_segment(
        metrics, quality.rules, plan.expected(frames), previous=start.previous
    )
    return metrics, verdict


def _qa_record(verdict: SegmentVerdict, metrics: SegmentMetrics) -> dict[str, Any]:
    """The verdict as kept with the attempt, with the measurements worth keeping (not every
    per-frame value)."""
    data = metrics.to_dict()
    kept = {k: v for k, v in data.items() if not isinstance(v, list) or len(v) <= 64}
    return {
        "passed": verdict.passed,
        "failed": [g.name for g in verdict.failed],
        **verdict.to_dict(),
        "metrics": kept,
    }
