"""Batches (PRD-57): one take of each character x scene type of a project, estimated and
checked against the project's budget before anything starts, then launched as one Dagster
backfill (by the code location; the core only records it) and followed to delivery.

An item's state is read from the catalog (view `batch_item_states`): queued, pending,
generating, generated, assembled (waiting for a reviewer), in_review (notes, a flag or a
rejection), approved, delivered, failed, cancelled. Its take is the first take of its
character and scene type made after the batch was launched, linked once found.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

import psycopg

from trulience.catalog import batches as catalog
from trulience.catalog.batches import Batch, ItemState, NewBatch, get_batch
from trulience.catalog.batches import batch_targets as batch_targets  # re-exported
from trulience.catalog.errors import InvalidValue, NotFound, writing
from trulience.catalog.fetch import id_of
from trulience.catalog.projects import get_project
from trulience.catalog.readiness import Readiness, readiness
from trulience.catalog.scene_types import get_scene_type
from trulience.errors import TrulienceError
from trulience.generation.loop import FINISHED
from trulience.generation.scene_config import InvalidSceneType, resolve
from trulience.production.budget import Verdict, judge
from trulience.production.cost import Estimate, estimate_batch
from trulience.production.regression import record_overrides, still_blocked, uncleared

PRIORITY_RANGE = (-100, 100)
TERMINAL_STATES = ("delivered", "failed", "cancelled")
STATES = (
    "queued",
    "pending",
    "generating",
    "generated",
    "assembled",
    "in_review",
    "approved",
    "delivered",
    "failed",
    "cancelled",
)


class InvalidBatch(TrulienceError):
    """A batch request names things that do not exist or cannot be made; lists each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("batch refused, nothing stored: " + "; ".join(problems))


class BatchRefused(TrulienceError):
    """The project's budget refuses the batch (the message names project, estimate and
    remaining budget); nothing was stored."""


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """What a producer asks for: a take of each character in each scene type."""

    project: str
    characters: tuple[str, ...]
    scene_types: tuple[str, ...]
    priority: int = 0
    requested_by: str = "unknown"
    # why the batch may use workflow versions not cleared by their regression tests (PRD-65);
    # None: it may not. Recorded, with who asked, on the batch's regression overrides.
    override_regression: str | None = None

    def normalised(self) -> "BatchRequest":
        """Each character and scene type once, in the order given."""
        return replace(
            self,
            characters=tuple(dict.fromkeys(c.strip() for c in self.characters if c.strip())),
            scene_types=tuple(dict.fromkeys(t.strip() for t in self.scene_types if t.strip())),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked request, its estimate and what the budget says about it."""

    request: BatchRequest
    estimate: Estimate
    verdict: Verdict


def _why_not_ready(r: Readiness) -> str:
    missing = []
    if not r.has_primary:
        missing.append("no primary image that passed QA")
    if not r.identity_models:
        missing.append("no face identity")
    if r.variants == 0:
        missing.append("no image variants")
    if r.open_duplicates:
        missing.append(
            f"{r.open_duplicates} open duplicate question(s) (`trulience characters duplicates`)"
        )
    return ", ".join(missing) or "not ready"


def validate(conn: psycopg.Connection, request: BatchRequest) -> None:
    """Refuse a request naming each bad value: unknown project, character or scene type, a
    character outside the project or not ready, an incomplete scene type, a workflow version
    not cleared by its regression tests (unless overridden), a priority out of range. Nothing
    is written."""
    problems: list[str] = []
    low, high = PRIORITY_RANGE
    if not low <= request.priority <= high:
        problems.append(
            f"priority {request.priority}: must be a whole number from {low} to {high} "
            "(higher runs first)"
        )
    try:
        project = get_project(conn, request.project)
    except NotFound:
        project = None
        problems.append(f"project {request.project!r} does not exist")
    else:
        if project.status != "active":
            problems.append(f"project {request.project!r} is {project.status}, not active")
    if not request.characters:
        problems.append("no characters given")
    if not request.scene_types:
        problems.append("no scene types given")
    for slug in request.characters:
        member = catalog.character_in_project(conn, slug, project.id if project else None)
        if member is None:
            problems.append(f"character {slug!r} does not exist")
        elif project is not None and not member:
            problems.append(f"character {slug!r} is not in project {request.project!r}")
        else:
            state = readiness(conn, slug)
            if not state.ready:
                problems.append(f"character {slug!r} is not ready: {_why_not_ready(state)}")
    resolved = []
    for slug in request.scene_types:
        try:
            get_scene_type(conn, slug)
        except NotFound:
            problems.append(f"scene type {slug!r} does not exist")
            continue
        try:
            resolve(conn, slug)
        except (InvalidSceneType, NotFound) as exc:
            problems.append(f"scene type {slug!r} cannot be generated: {exc}")
            continue
        resolved.append(slug)
    if request.override_regression is not None and not request.override_regression.strip():
        problems.append("a regression override must say why")
    elif request.override_regression is None:
        problems += [str(u) for u in uncleared(conn, tuple(resolved))]
    if problems:
        raise InvalidBatch(problems)


def plan(
    conn: psycopg.Connection,
    request: BatchRequest,
    lock: bool = False,
    estimate: Estimate | None = None,
) -> Plan:
    """Check a request, estimate it (unless given its estimate) and ask the budget;
    writes nothing."""
    request = request.normalised()
    validate(conn, request)
    if estimate is None:
        takes = {t: len(request.characters) for t in request.scene_types}
        estimate = estimate_batch(conn, takes)
    verdict = judge(conn, request.project, estimate, request.priority, lock=lock)
    return Plan(request, estimate, verdict)


def create_batch(
    conn: psycopg.Connection, request: BatchRequest, estimate: Estimate | None = None
) -> tuple[Batch, Plan]:
    """Record a batch and its items as queued (launching is the caller's next step when the
    verdict is `launch`), with its estimate (the one shown to the producer, when given). A
    refusal raises BatchRefused and stores nothing. The budget row is locked meanwhile, so
    two batches cannot both take its last hours."""
    with writing(conn):
        checked = plan(conn, request, lock=True, estimate=estimate)
        if checked.verdict.decision == "refuse":
            raise BatchRefused(checked.verdict.reason)
        e = checked.estimate
        r = checked.request
        recorded = NewBatch(
            r.project,
            r.priority,
            r.requested_by,
            _rounded(e.gpu_seconds),
            _rounded(e.low),
            _rounded(e.high),
            e.basis_json(),
        )
        batch_id = catalog.insert_batch(conn, recorded)
        catalog.insert_items(conn, batch_id, r.characters, r.scene_types)
        if r.override_regression is not None:
            blocked = uncleared(conn, r.scene_types)
            record_overrides(conn, batch_id, blocked, r.requested_by, r.override_regression)
    return get_batch(conn, batch_id), checked


def _rounded(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.1f}")


def list_batches(
    conn: psycopg.Connection, project: str | None = None, status: str | None = None
) -> list[Batch]:
    """Batches, newest first (optionally of one project, or in one status; NotFound for a
    project the catalog does not hold)."""
    if project is not None:
        id_of(conn, "projects", project, "project")
    return catalog.list_batches(conn, project, status)


def record_launch(conn: psycopg.Connection, batch_id: int, backfill_id: str) -> Batch:
    """Mark a queued batch running under its Dagster backfill, and note for each item the
    newest take already made (a take left unfinished is resumed by the batch, so it counts
    as not made), so that its own take can be told apart later. A batch using a workflow
    version not cleared by its regression tests (and not overridden) is refused, naming it."""
    with writing(conn, {"dagster_backfill_id": backfill_id}):
        batch = _locked(conn, batch_id)
        if batch.status != "queued":
            raise InvalidValue(
                "batch", "status", batch.status, f"batch {batch_id} is not queued; not launched"
            )
        scene_types = tuple(dict.fromkeys(t for _c, t in batch_targets(conn, batch_id)))
        blocked = still_blocked(conn, batch_id, scene_types)
        if blocked:
            raise BatchRefused(
                f"batch {batch_id} not launched: " + "; ".join(str(u) for u in blocked)
            )
        catalog.note_takes_before_launch(conn, batch_id, FINISHED)
        catalog.mark_running(conn, batch_id, backfill_id)
    return get_batch(conn, batch_id)


def _locked(conn: psycopg.Connection, batch_id: int) -> Batch:
    catalog.lock_batch_for_update(conn, batch_id)
    return get_batch(conn, batch_id)


def mark_failed(conn: psycopg.Connection, batch_id: int, reason: str) -> Batch:
    """A queued batch that could not be launched: recorded with the reason (it reserves no
    budget any more)."""
    with writing(conn, {"failure": reason}):
        catalog.mark_queued_failed(conn, batch_id, reason)
    return get_batch(conn, batch_id)


def cancel_batch(conn: psycopg.Connection, batch_id: int) -> Batch:
    """Cancel a queued batch (a running one is cancelled in Dagster, as its backfill)."""
    with writing(conn):
        batch = _locked(conn, batch_id)
        if batch.status != "queued":
            raise InvalidValue(
                "batch",
                "status",
                batch.status,
                "only a queued batch can be cancelled here; cancel a running batch's "
                f"backfill {batch.dagster_backfill_id} in the Dagster UI",
            )
        catalog.mark_cancelled(conn, batch_id)
    return get_batch(conn, batch_id)


def set_priority(conn: psycopg.Connection, batch_id: int, priority: int) -> Batch:
    """Reorder: the batch's runs still queued in Dagster (the run priority sensor retags
    them) and its takes' segments waiting for a GPU go by `priority` from now on."""
    low, high = PRIORITY_RANGE
    if not low <= priority <= high:
        raise InvalidValue(
            "batch", "priority", priority, f"must be a whole number from {low} to {high}"
        )
    with writing(conn, {"priority": priority}):
        _locked(conn, batch_id)
        catalog.set_priority(conn, batch_id, priority)
    return get_batch(conn, batch_id)


def batch_priorities(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, int]:
    """Each of these batches' priority now (a batch that no longer exists is left out)."""
    return catalog.priorities(conn, batch_ids)


def item_states(conn: psycopg.Connection, batch_id: int) -> list[ItemState]:
    """Where each item of a batch stands, from the catalog."""
    get_batch(conn, batch_id)
    return catalog.item_states(conn, batch_id)


def refresh(conn: psycopg.Connection, batch_id: int) -> Batch:
    """Link each item to its take once it exists, and mark a running batch completed when
    every item is delivered or failed."""
    with writing(conn):
        catalog.link_found_takes(conn, batch_id)
        catalog.complete_if_settled(conn, batch_id, TERMINAL_STATES)
    return get_batch(conn, batch_id)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A queued batch that does not fit yet, and the budget's reason."""

    batch: Batch
    verdict: Verdict


def next_release(
    conn: psycopg.Connection, project: str | None = None
) -> tuple[Batch | None, list[Waiting]]:
    """The first queued batch, in priority order (then oldest first), that now fits its
    project's budget; and the queued batches ahead of it or left waiting, with why. A
    batch that does not fit holds the batches of its project behind it."""
    queued = sorted(list_batches(conn, project, "queued"), key=lambda b: (-b.priority, b.id))
    waiting = []
    for batch in queued:
        estimate = _stored_estimate(batch)
        verdict = judge(conn, batch.project, estimate, batch.priority, batch_id=batch.id)
        if verdict.decision == "launch":
            return batch, waiting
        waiting.append(Waiting(batch, verdict))
    return None, waiting


def _stored_estimate(batch: Batch) -> Estimate:
    if batch.estimate_gpu_s is None:
        return Estimate(
            (), None, None, None, None, batch.estimate_basis.get("missing", "no estimate")
        )
    return Estimate(
        (),
        float(batch.estimate_gpu_s),
        float(batch.estimate_low_s),
        float(batch.estimate_high_s),
        batch.estimate_basis.get("expected_retakes"),
    )
