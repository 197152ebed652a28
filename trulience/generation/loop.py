"""The recursive generation loop (PRD-24, 28, 34, 69).

Segment 0 starts from the character's primary image (its face-centred variant at the scene
resolution); segment n from segment n-1's last frame, kept losslessly. Each finished
segment is stored and committed to the catalog at once: that row is the checkpoint, so a
run that dies resumes after the last committed segment and never duplicates one. Between
segments the loop obeys the take's control (run / pause / cancel). While a segment runs, its
ComfyUI prompt is recorded on the take, so an operator can interrupt that prompt; a segment
that fails while the take is cancelled is the operator's doing and stops the take, never a
transient error to retry. SIGTERM stops the loop at once (its prompt cancelled, the take
left to resume), and is not retried.
"""

import hashlib
import logging
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import psycopg

from trulience.catalog import scenes as scene_repo
from trulience.catalog.characters import get_character
from trulience.catalog.errors import NotFound
from trulience.catalog.fetch import id_of
from trulience.catalog.records import Take
from trulience.catalog.source_images import list_source_images
from trulience.catalog.workflows import get_workflow
from trulience.delivery.continuity import (
    LabStats,
    colour_stats,
    normalise_segment,
    normalise_to_anchor,
)
from trulience.errors import TrulienceError
from trulience.faces.crops import face_crop
from trulience.faces.identity import IdentityBand
from trulience.generation.backend import (
    BackendError,
    GenerationBackend,
    PermanentBackendError,
    SegmentRequest,
)
from trulience.generation.scene_config import SceneConfig, render_prompt, resolve
from trulience.media.frames import last_frame
from trulience.media.image_decode import load_image
from trulience.media.probe import probe
from trulience.media.trim import trim_to_frames
from trulience.qa.video import SegmentMetrics, measure_segment
from trulience.qa.video_gates import evaluate_segment
from trulience.qa.video_rules import Expected, QARules
from trulience.storage import Storage, storage_key

if TYPE_CHECKING:  # annotations only: the face models' code is loaded where it runs
    from trulience.faces.model_set import FaceModelSet

log = logging.getLogger(__name__)

# A take in one of these states is finished; running the partition again starts a new take.
FINISHED = ("generated", "assembled", "cancelled")
RANDOM_SEEDS = np.random.default_rng()


class LoopStopped(TrulienceError):
    """A producer paused or cancelled the take between segments (or, interrupting its
    prompt, during segment `during`)."""

    def __init__(self, scene_id: int, status: str, by: str | None, during: int | None = None):
        self.scene_id, self.status, self.by, self.during = scene_id, status, by, during
        when = "between segments" if during is None else f"during segment {during}"
        super().__init__(f"take {scene_id} {status} by {by or 'someone'} {when}")


class RunTerminated(KeyboardInterrupt):
    """The process running the loop was sent SIGTERM: it stops now, like Ctrl-C."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn the first SIGTERM into RunTerminated (a second one kills as usual), unless the
    process already handles SIGTERM (Dagster turns it into its own interrupt)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise RunTerminated(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _Watch:
    """The loop's side of a running segment: records its prompt on the take and tells the
    backend whether an operator cancelled the take."""

    def __init__(self, conn: psycopg.Connection, scene_id: int, index: int) -> None:
        self.conn, self.scene_id, self.index = conn, scene_id, index

    def submitted(self, worker: str, prompt_id: str) -> None:
        """Record the prompt the segment was queued as."""
        scene_repo.record_prompt(self.conn, self.scene_id, self.index, worker, prompt_id)

    def cancelled_by(self) -> str | None:
        """Who cancelled the take, if it is cancelled."""
        control, by = scene_repo.take_control(self.conn, self.scene_id)
        return (by or "an operator") if control == "cancel" else None


class NotReady(TrulienceError):
    """The character or scene type is not ready for generation; says what is missing."""


class TakeBusy(TrulienceError):
    """Another run is generating this take right now."""


class TakeComplete(TrulienceError):
    """The newest take is finished and no new take was asked for."""

    def __init__(self, take: Take, character: str, scene_type: str):
        self.take = take
        done = f"{take.frames} frames" if take.frames else take.status
        super().__init__(
            f"{character}/{scene_type} take {take.take} is complete ({take.status}, {done}); "
            "ask for a new take to make another (trulience generate --new-take)"
        )


class QARefused(TrulienceError):
    """Every allowed take of a segment failed a quality gate."""

    def __init__(self, index: int, refusals: list[str], gates: tuple[str, ...] = ()):
        self.index, self.refusals, self.gates = index, refusals, gates
        super().__init__(
            f"segment {index} failed its quality gates in {len(refusals)} take(s): "
            + " | ".join(refusals)
        )


# A retake after a failed gate shifts the seed by this much (a prime, far from +1 steps).
RETAKE_SEED_STEP = 1_000_003
DEFAULT_MAX_TAKES = 3


@dataclass(frozen=True)
class Quality:
    """How the loop judges each take: the gates, how many takes a segment gets, and the
    face model and character identity for the identity gates (None: not checked)."""

    rules: QARules = field(default_factory=QARules)
    max_takes: int = DEFAULT_MAX_TAKES
    faces: "FaceModelSet | None" = None
    identity: tuple[np.ndarray, IdentityBand] | None = None
    retake_params: dict[str, Any] = field(default_factory=dict)


def quality_for(
    conn: psycopg.Connection,
    character: str,
    config: SceneConfig,
    faces: "FaceModelSet | None" = None,
) -> Quality:
    """The scene type's QA rules (its `qa_rules.video_qa`, inherited like other settings),
    its retake budget (`qa_rules.max_takes`), and the character's identity for `faces`."""
    rules = QARules.from_config(config.qa_rules.get("video_qa", {}))
    max_takes = int(config.qa_rules.get("max_takes", DEFAULT_MAX_TAKES))
    identity = None
    if faces is not None:
        row = conn.execute(
            """SELECT i.centroid::text, i.samples, i.same_min, i.same_p05, i.same_median,
                      i.threshold
                 FROM character_identities i JOIN characters c ON c.id = i.character_id
                WHERE c.slug = %s AND i.model = %s""",
            (character, faces.code),
        ).fetchone()
        if row is not None:
            centroid = np.array(row[0].strip("[]").split(","), dtype=np.float32)
            identity = (centroid, IdentityBand(*row[1:]))
    return Quality(
        rules, max(1, max_takes), faces, identity, dict(config.qa_rules.get("retake_params", {}))
    )


@dataclass(frozen=True)
class Continuity:
    """Colour continuity settings of a take: the anchor's colour statistics (the first seed
    frame, i.e. the character's primary image), whether every segment is normalised to it
    (`colour_anchor`), and every how many segments the seed is re-anchored
    (`chain_depth_limit`)."""

    first_stats: LabStats | None
    anchor: LabStats | None
    strength: float
    reanchor_every: int


def _continuity(
    conn: psycopg.Connection,
    storage: Storage,
    character: str,
    config: SceneConfig,
    plan: list[int],
    committed: dict,
) -> Continuity:
    params = config.segment_params()
    normalise = bool(params.get("colour_anchor", False))
    every = int(params.get("chain_depth_limit", 0) or 0)
    if (not normalise and not every) or len(committed) == len(plan):
        return Continuity(None, None, 1.0, 0)
    stats = colour_stats(first_seed_frame(conn, storage, character, config)[0])
    strength = float(params.get("colour_anchor_strength", 1.0))
    return Continuity(stats, stats if normalise else None, strength, every)


def _metrics_summary(metrics: SegmentMetrics) -> dict[str, Any]:
    """The measurements worth keeping with a take (not every per-frame value)."""
    data = metrics.to_dict()
    return {k: v for k, v in data.items() if not isinstance(v, list) or len(v) <= 64}


@dataclass(frozen=True)
class LoopResult:
    scene: Take
    plan: list[int]
    generated: list[int]  # indices generated by this run
    resumed: bool

    @property
    def frames(self) -> int:
        return sum(self.plan)


Events = Callable[[str, dict[str, Any]], None]


def _no_events(_kind: str, _data: dict[str, Any]) -> None:
    pass


def choose_project(conn: psycopg.Connection, character: str, project: str | None) -> str:
    """The project a take belongs to: the one given, else the character's first project.
    An unknown character or project is NotFound (not "belongs to no project")."""
    id_of(conn, "characters", character, "character")
    if project is not None:
        id_of(conn, "projects", project, "project")
        return project
    row = conn.execute(
        """SELECT p.slug FROM project_characters pc
             JOIN projects p ON p.id = pc.project_id JOIN characters c ON c.id = pc.character_id
            WHERE c.slug = %s ORDER BY pc.added_at, p.slug LIMIT 1""",
        (character,),
    ).fetchone()
    if row is None:
        raise NotReady(f"character {character!r} belongs to no project; add it to one first")
    return row[0]


def seed_for(config: SceneConfig, index: int) -> int:
    """The generation seed of a segment under the scene type's seed policy."""
    if config.seed_policy == "fixed":
        return config.seed
    if config.seed_policy == "random":
        return int(RANDOM_SEEDS.integers(0, 2**31 - 1))
    return config.seed + index


def first_seed_frame(
    conn: psycopg.Connection, storage: Storage, character: str, config: SceneConfig
) -> tuple[np.ndarray, str, str]:
    """Segment 0's seed: the face-centred variant of the primary image at the scene's
    resolution (made on the fly when no stored variant has that size)."""
    primary = next(
        (
            i
            for i in list_source_images(conn, character)
            if i.is_primary and i.qa_status == "passed"
        ),
        None,
    )
    if primary is None:
        raise NotReady(
            f"character {character!r} has no primary image that passed QA; run its "
            "source_images asset or choose one with `trulience characters set-primary`"
        )
    row = conn.execute(
        "SELECT uri, sha256 FROM image_variants WHERE source_image_id = %s AND kind = 'crop' "
        "AND width = %s AND height = %s",
        (primary.id, config.width, config.height),
    ).fetchone()
    if row is not None:
        data = storage.read_bytes(storage.key_of(row[0]))
        pixels = cv2.cvtColor(
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
        )
        return pixels, row[1], "variant"
    face = (primary.qa or {}).get("face")
    if not face:
        raise NotReady(f"character {character!r}: the primary image has no face box from QA")
    variant = face_crop(
        load_image(storage, primary).pixels, tuple(face["box"]), config.width, config.height
    )
    return variant.pixels, _sha256(variant.pixels), "primary image (cropped on the fly)"


def _sha256(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


# Stored, not deflated: on the loop's hot path a 720p frame takes ~5 ms this way against
# ~49 ms at zlib level 1, for 2.7 MB instead of 1.2 MB (benchmarks/loop.py). These frames
# exist to chain segments; time matters more than their size.
_PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 0, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


def png_bytes(pixels: np.ndarray) -> bytes:
    """Lossless PNG of an RGB frame, written for speed."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), _PNG_FAST)
    if not ok:
        raise PermanentBackendError("could not encode the last frame as PNG")
    return data.tobytes()


def _png_pixels(data: bytes) -> np.ndarray:
    return cv2.cvtColor(
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )


def chained_seed(storage: Storage, previous: Any, work_dir: Path) -> tuple[np.ndarray, str, str]:
    """Seed of segment n from committed segment n-1: its lossless last frame, or (only when
    that is missing) its video's last frame, found by seeking near the end."""
    uri = previous.provenance.get("last_frame_uri")
    if uri:
        try:
            data = storage.read_bytes(storage.key_of(uri))
            return _png_pixels(data), previous.provenance["last_frame_sha256"], "lossless"
        except TrulienceError:
            log.warning(
                "lossless last frame of segment %s missing; seeking the video", previous.index
            )
    local = storage.local_file(storage.key_of(previous.uri), work_dir)
    pixels = last_frame(local)
    return pixels, _sha256(pixels), "seek"


def _take_prefix(project: str, character: str, scene_type: str, take: int) -> list[str]:
    return ["scenes", project, character, scene_type, f"take-{take}"]


def _wait_for_control(
    conn: psycopg.Connection, scene: Take, poll_s: float, max_pause_s: float, events: Events
) -> None:
    control, by = scene_repo.take_control(conn, scene.id)
    if control == "run":
        return
    if control == "cancel":
        raise LoopStopped(scene.id, "cancelled", by)
    scene_repo.set_take_state(conn, scene.id, "paused")
    events("paused", {"scene_id": scene.id, "by": by})
    deadline = time.monotonic() + max_pause_s
    while control == "pause":
        if time.monotonic() > deadline:
            raise LoopStopped(scene.id, "paused", by)
        time.sleep(poll_s)
        control, by = scene_repo.take_control(conn, scene.id)
    if control == "cancel":
        raise LoopStopped(scene.id, "cancelled", by)
    scene_repo.set_take_state(conn, scene.id, "generating")
    events("resumed", {"scene_id": scene.id, "by": by})


def open_take(
    conn: psycopg.Connection,
    project: str,
    character: str,
    scene_type: str,
    new_take: bool = True,
) -> tuple[Take, SceneConfig, bool]:
    """The take to work on: an unfinished one (resumed with the settings it started with),
    else a new take on the scene type's current effective configuration (TakeComplete
    when the newest take is finished and `new_take` is False)."""
    take = scene_repo.latest_take(conn, project, character, scene_type)
    if take is not None and take.status not in FINISHED:
        return take, SceneConfig.from_json(take.effective_config), True
    if take is not None and not new_take:
        raise TakeComplete(take, character, scene_type)
    config = resolve(conn, scene_type)
    take = scene_repo.create_take(
        conn,
        project,
        character,
        scene_type,
        effective_config=config.to_json(),
        planned_segments=len(config.frame_plan()),
    )
    return take, config, False


def run_loop(
    conn: psycopg.Connection,
    storage: Storage,
    backend: GenerationBackend,
    character: str,
    scene_type: str,
    work_dir: Path,
    *,
    project: str | None = None,
    run_id: str | None = None,
    poll_s: float = 1.0,
    max_pause_s: float = 3600.0,
    events: Events = _no_events,
    faces: "FaceModelSet | None" = None,
    new_take: bool = True,
) -> LoopResult:
    """Generate (or finish) the current take of a character in a scene type; every take of
    a segment passes the scene type's quality gates or is retaken with another seed (the
    identity gates need `faces` and the character's calibrated identity). With `new_take`
    False a finished newest take raises TakeComplete instead of starting another."""
    project = choose_project(conn, character, project)
    scene, config, resumed = open_take(conn, project, character, scene_type, new_take)
    quality = quality_for(conn, character, config, faces)
    if not conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (0x5CE7E, scene.id)).fetchone()[0]:
        raise TakeBusy(
            f"take {scene.take} of {character}/{scene_type} is being generated by another run"
        )
    try:
        with stop_on_sigterm():
            return _generate(
                conn,
                storage,
                backend,
                scene,
                config,
                resumed,
                project,
                character,
                scene_type,
                work_dir,
                run_id,
                poll_s,
                max_pause_s,
                events,
                quality,
            )
    except LoopStopped as exc:
        scene_repo.set_take_state(conn, scene.id, exc.status, failure=str(exc))
        raise
    except QARefused as exc:
        scene_repo.set_take_state(conn, scene.id, "qa_failed", failure=str(exc))
        raise
    except (PermanentBackendError, NotReady) as exc:
        scene_repo.set_take_state(conn, scene.id, "failed", failure=str(exc))
        raise
    except BaseException as exc:
        if not isinstance(exc, Exception):  # SIGTERM, Dagster's termination, Ctrl-C
            _record_stop(conn, scene, exc)
        raise
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", (0x5CE7E, scene.id))


def _record_stop(conn: psycopg.Connection, scene: Take, exc: BaseException) -> None:
    """Say on the take that its run was stopped from outside; it resumes when run again."""
    how = "SIGTERM" if isinstance(exc, RunTerminated) else type(exc).__name__
    try:
        scene_repo.set_take_state(
            conn,
            scene.id,
            "failed",
            failure=f"the run was stopped from outside ({how}); its committed segments are "
            "kept, and running the take again resumes after the last of them",
        )
    except Exception:  # stopping must not be held up by the record of it
        log.exception("could not record that take %s was stopped", scene.id)


def _generate(
    conn: psycopg.Connection,
    storage: Storage,
    backend: GenerationBackend,
    scene: Take,
    config: SceneConfig,
    resumed: bool,
    project: str,
    character: str,
    scene_type: str,
    work_dir: Path,
    run_id: str | None,
    poll_s: float,
    max_pause_s: float,
    events: Events,
    quality: Quality,
) -> LoopResult:
    plan = config.frame_plan()
    committed = scene_repo.current_segments(conn, scene.id)
    scene_repo.set_take_state(conn, scene.id, "generating")
    events(
        "take",
        {
            "scene_id": scene.id,
            "take": scene.take,
            "resumed": resumed,
            "committed": sorted(committed),
            "plan": plan,
        },
    )
    person = get_character(conn, character)
    prompt, missing = render_prompt(
        config.prompt_template, person.name, person.slug, person.metadata
    )
    negative, _ = render_prompt(config.negative_prompt, person.name, person.slug, person.metadata)
    params = config.segment_params()
    workflow = None
    if config.workflow:  # the exact version the take started with, and its slots
        registered = get_workflow(conn, config.workflow, config.workflow_version)
        workflow, params = registered.graph, {**params, "slots": registered.slots}
    prefix = _take_prefix(project, character, scene_type, scene.take)
    work_dir.mkdir(parents=True, exist_ok=True)
    seed: tuple[np.ndarray, str, str] | None = None
    generated = []
    previous_metrics: SegmentMetrics | None = None
    continuity = _continuity(conn, storage, character, config, plan, committed)
    for index, frames in enumerate(plan):
        if index in committed:
            continue
        _wait_for_control(conn, scene, poll_s, max_pause_s, events)
        if seed is None:
            seed = (
                first_seed_frame(conn, storage, character, config)
                if index == 0
                else chained_seed(storage, committed[index - 1], work_dir)
            )
        seed_pixels, seed_sha, seed_source = seed
        if continuity.reanchor_every and index and index % continuity.reanchor_every == 0:
            # past the chain-depth limit: pull the seed's colour back to the anchor so drift
            # cannot compound through the chain
            seed_pixels = normalise_to_anchor(seed_pixels, continuity.first_stats, 1.0)
            seed_source += ", re-anchored"
        refusals: list[str] = []
        for take in range(quality.max_takes):
            attempt = scene_repo.next_attempt(conn, scene.id, index)
            name = f"segment-{index:03d}-a{attempt}"
            video_key = storage_key(*prefix, f"{name}.mp4")
            frame_key = storage_key(*prefix, f"{name}-last.png")
            for key in (video_key, frame_key):  # left by a run that died before committing
                storage.delete(key)
            segment_dir = work_dir / name
            shutil.rmtree(segment_dir, ignore_errors=True)
            segment_dir.mkdir(parents=True)

            request = SegmentRequest(
                scene=f"{project}/{character}/{scene_type}/take-{scene.take}",
                index=index,
                frames=frames,
                fps=config.fps,
                width=config.width,
                height=config.height,
                # every retake (after a failed gate, or sent back by a reviewer) gets another
                # seed, and so other motion
                seed=seed_for(config, index) + RETAKE_SEED_STEP * (attempt - 1),
                prompt=prompt,
                negative_prompt=negative,
                # a retake may also nudge parameters (qa_rules.retake_params), e.g. less motion
                params=params if take == 0 else {**params, **quality.retake_params},
                workflow=workflow,
                watch=_Watch(conn, scene.id, index),
            )
            events("segment_started", {"index": index, "attempt": attempt})
            result = _generate_segment(conn, backend, scene, seed_pixels, request, segment_dir)
            video, last_pixels, last_source = result.video_path, result.last_frame, "lossless"
            if result.frames > frames:  # a backend that cannot stop exactly: cut to the plan
                video = segment_dir / f"{name}-trimmed.mp4"
                trim_to_frames(result.video_path, video, frames)
                last_pixels, last_source = last_frame(video), "decoded after trim"
            counted = probe(video).frames
            if counted != frames:
                raise PermanentBackendError(
                    f"segment {index} of {request.scene} has {counted} frames, {frames} planned"
                )
            if continuity.anchor is not None:  # colour held to the take's anchor (PRD-26)
                normalised = segment_dir / f"{name}-normalised.mp4"
                normalise_segment(video, normalised, continuity.anchor, continuity.strength)
                video = normalised
                last_pixels = normalise_to_anchor(
                    last_pixels, continuity.anchor, continuity.strength
                )
            metrics = measure_segment(
                video,
                faces=quality.faces,
                identity=quality.identity,
                previous_last_frame=seed_pixels,
            )
            verdict = evaluate_segment(
                metrics,
                quality.rules,
                Expected(config.fps, frames, config.width, config.height),
                previous=previous_metrics,
            )
            qa = {
                "passed": verdict.passed,
                "failed": [g.name for g in verdict.failed],
                **verdict.to_dict(),
                "metrics": _metrics_summary(metrics),
            }

            stored_video = storage.put_file(video_key, video)
            stored_frame = storage.put_bytes(frame_key, png_bytes(last_pixels))
            provenance = {
                "scene_type": scene_type,
                "scene_type_version": config.version,
                "lineage": list(config.lineage),
                # only what ran: a backend that ignores workflows (the preview) made this
                # segment without the scene type's workflow
                "workflow": config.workflow if result.ran_workflow else None,
                "workflow_version": config.workflow_version if result.ran_workflow else None,
                "workflow_sha256": config.workflow_sha256 if result.ran_workflow else None,
                "prompt": prompt,
                "negative_prompt": negative,
                "missing_prompt_fields": missing,
                "seed": request.seed,
                "seed_policy": config.seed_policy,
                "params": request.params,
                "fps": str(config.fps),
                "width": config.width,
                "height": config.height,
                "backend": result.backend,
                "worker": result.worker,
                "seed_frame_sha256": seed_sha,
                "seed_frame_source": seed_source,
                "last_frame_uri": stored_frame.uri,
                "last_frame_sha256": stored_frame.sha256,
                "last_frame_source": last_source,
                "started_at": result.started_at.isoformat(),
                "finished_at": result.finished_at.isoformat(),
                "committed_at": datetime.now(UTC).isoformat(),
                "compute_s": round(result.compute_s, 3),
                "run_id": run_id,
                "backend_metadata": result.metadata,
            }
            row = scene_repo.commit_segment(
                conn,
                scene.id,
                index,
                attempt,
                uri=stored_video.uri,
                sha256=stored_video.sha256,
                frames=frames,
                provenance=provenance,
                qa=qa,
                status="qa_passed" if verdict.passed else "qa_failed",
                current=verdict.passed,
            )
            shutil.rmtree(segment_dir, ignore_errors=True)
            if verdict.passed:
                committed[index] = row
                break
            refusals.append("; ".join(g.message for g in verdict.failed))
            failed_gates = tuple(g.name for g in verdict.failed)
            events("qa_failed", {"index": index, "attempt": attempt, "gates": qa["failed"]})
        else:
            raise QARefused(index, refusals, failed_gates)
        generated.append(index)
        events(
            "segment_committed", {"index": index, "attempt": attempt, "sha256": stored_video.sha256}
        )
        seed = (last_pixels, stored_frame.sha256, last_source)
        previous_metrics = metrics

    final = scene_repo.set_take_state(conn, scene.id, "generated", frames=sum(plan))
    events("take_generated", {"scene_id": scene.id, "frames": sum(plan)})
    return LoopResult(final, plan, generated, resumed)


def _generate_segment(
    conn: psycopg.Connection,
    backend: GenerationBackend,
    scene: Take,
    seed_pixels: np.ndarray,
    request: SegmentRequest,
    segment_dir: Path,
) -> Any:
    """One segment from the backend; a failure while the take is cancelled is the
    operator's interrupt (LoopStopped), whatever the backend called it."""
    try:
        return backend.generate_segment(seed_pixels, request, segment_dir)
    except BackendError as exc:
        control, by = scene_repo.take_control(conn, scene.id)
        if control == "cancel":
            raise LoopStopped(scene.id, "cancelled", by, during=request.index) from exc
        raise
    finally:
        try:
            scene_repo.clear_prompt(conn, scene.id)
        except Exception:  # a stale record is harmless: interrupting checks the worker's queue
            log.exception("could not clear the running prompt of take %s", scene.id)


def find_take(
    conn: psycopg.Connection, character: str, scene_type: str, project: str | None = None
) -> Take:
    """The newest take of a character in a scene type (for control commands)."""
    project = choose_project(conn, character, project)
    id_of(conn, "scene_types", scene_type, "scene type")
    take = scene_repo.latest_take(conn, project, character, scene_type)
    if take is None:
        raise NotFound("take", f"{project}/{character}/{scene_type}")
    return take
