"""The take plan, worked out once before a take's first segment: where the take belongs, the
scene type's settings it is made with, the rendered prompts, the workflow, the quality gates
and the colour continuity; and how this run of the loop goes (its work folder, id, waiting
and events)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

from trulience.catalog.characters import get_character
from trulience.catalog.records import Segment, Take
from trulience.catalog.scenes import character_identity
from trulience.catalog.workflows import get_workflow
from trulience.faces.identity import IdentityBand
from trulience.generation.continuity import LabStats, colour_stats
from trulience.generation.scene_config import SceneConfig, render_prompt
from trulience.generation.seed import first_seed_frame
from trulience.qa.video_rules import Expected, QARules
from trulience.storage import Storage

if TYPE_CHECKING:  # annotations only: the face models' code is loaded where it runs
    from trulience.faces.model_set import FaceModelSet

DEFAULT_MAX_ATTEMPTS = 3

Events = Callable[[str, dict[str, Any]], None]


def no_events(_kind: str, _data: dict[str, Any]) -> None:
    pass


@dataclass(frozen=True)
class Run:
    """This run of the loop: its work folder, its id (kept in provenance), how often it
    looks at a paused take and for how long, and who hears its events."""

    work_dir: Path
    run_id: str | None = None
    poll_s: float = 1.0
    max_pause_s: float = 3600.0
    events: Events = no_events


@dataclass(frozen=True)
class Cell:
    """Where takes belong: a character in a scene type, within a project."""

    project: str
    character: str
    scene_type: str


@dataclass(frozen=True)
class Quality:
    """How the loop judges each attempt: the gates, how many attempts a segment gets, and
    the face model and character identity for the identity gates (None: not checked)."""

    rules: QARules = field(default_factory=QARules)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
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
    its attempt budget (`qa_rules.max_takes`), and the character's identity for `faces`."""
    rules = QARules.from_config(config.qa_rules.get("video_qa", {}))
    max_attempts = int(config.qa_rules.get("max_takes", DEFAULT_MAX_ATTEMPTS))
    identity = None
    if faces is not None:
        stored = character_identity(conn, character, faces.code)
        if stored is not None:
            band = IdentityBand(
                stored.samples,
                stored.same_min,
                stored.same_p05,
                stored.same_median,
                stored.threshold,
            )
            identity = (np.array(stored.centroid, dtype=np.float32), band)
    retake_params = dict(config.qa_rules.get("retake_params", {}))
    return Quality(rules, max(1, max_attempts), faces, identity, retake_params)


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

    def reanchors(self, index: int) -> bool:
        """Whether segment `index` is past the chain-depth limit (its seed re-anchored)."""
        return bool(self.reanchor_every and index and index % self.reanchor_every == 0)


def continuity_for(
    conn: psycopg.Connection,
    storage: Storage,
    character: str,
    config: SceneConfig,
    unfinished: bool,
) -> Continuity:
    """The take's colour continuity; the anchor is measured only when it is wanted and some
    segment is still to be made."""
    params = config.segment_params()
    normalise = bool(params.get("colour_anchor", False))
    every = int(params.get("chain_depth_limit", 0) or 0)
    if (not normalise and not every) or not unfinished:
        return Continuity(None, None, 1.0, 0)
    stats = colour_stats(first_seed_frame(conn, storage, character, config).pixels)
    strength = float(params.get("colour_anchor_strength", 1.0))
    return Continuity(stats, stats if normalise else None, strength, every)


@dataclass(frozen=True)
class TakePlan:
    """Everything a take's segments are made with, the same for each of them."""

    cell: Cell
    take: Take
    config: SceneConfig
    frame_plan: list[int]  # frames of each segment
    prompt: str
    negative_prompt: str
    missing_prompt_fields: list[str]
    params: dict[str, Any]
    workflow: dict[str, Any] | None
    quality: Quality
    continuity: Continuity
    run: Run

    @property
    def name(self) -> str:
        """How backends and messages name the take: project/character/scene type/take-n."""
        c = self.cell
        return f"{c.project}/{c.character}/{c.scene_type}/take-{self.take.take}"

    @property
    def key_prefix(self) -> list[str]:
        """Where the take's segment files are stored."""
        c = self.cell
        return ["scenes", c.project, c.character, c.scene_type, f"take-{self.take.take}"]

    def expected(self, frames: int) -> Expected:
        """What a segment of `frames` frames must be: the scene's rate, length and size."""
        return Expected(self.config.fps, frames, self.config.width, self.config.height)


def plan_take(
    conn: psycopg.Connection,
    storage: Storage,
    cell: Cell,
    take: Take,
    config: SceneConfig,
    quality: Quality,
    committed: dict[int, Segment],
    run: Run,
) -> TakePlan:
    """The take's plan: prompts rendered for its character, the exact workflow version the
    take started with and its slots, and the colour anchor (the work folder made too)."""
    frame_plan = config.frame_plan()
    person = get_character(conn, cell.character)
    prompt, missing = render_prompt(
        config.prompt_template, person.name, person.slug, person.metadata
    )
    negative, _ = render_prompt(config.negative_prompt, person.name, person.slug, person.metadata)
    params, workflow = config.segment_params(), None
    if config.workflow:
        registered = get_workflow(conn, config.workflow, config.workflow_version)
        workflow, params = registered.graph, {**params, "slots": registered.slots}
    run.work_dir.mkdir(parents=True, exist_ok=True)
    unfinished = len(committed) != len(frame_plan)
    continuity = continuity_for(conn, storage, cell.character, config, unfinished)
    return TakePlan(
        cell,
        take,
        config,
        frame_plan,
        prompt,
        negative,
        missing,
        params,
        workflow,
        quality,
        continuity,
        run,
    )
