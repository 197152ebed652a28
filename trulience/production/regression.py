"""Workflow regression tests (PRD-65): golden takes per workflow, re-run when the workflow gets
a new version or a model it loads changes, compared against the workflow's thresholds; and
the check that keeps a workflow version out of production batches until it is cleared.

A golden is a complete take (every planned segment committed and past QA, not rejected)
made with the workflow; it is chosen by someone (`trulience workflows golden add`), approved
by review or not. A run re-runs every golden of the workflow on one version under the
current model files (regression_rerun.py), stores each golden's result and a report
(regression_report.py) and its verdict: passed, failed (a figure missed its threshold) or
error (a golden could not be re-run). The view `workflow_clearance` is the one rule for
whether a version is cleared."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from trulience.catalog import regression as catalog
from trulience.catalog import regression_runs as run_catalog
from trulience.catalog.errors import InvalidValue
from trulience.catalog.regression import Golden, NewGolden, Thresholds
from trulience.catalog.regression_runs import Clearance, RegressionRun
from trulience.catalog.scenes import get_take
from trulience.catalog.segments import current_segments
from trulience.catalog.workflows import get_workflow
from trulience.errors import TrulienceError
from trulience.generation.backend import GenerationBackend
from trulience.generation.scene_config import InvalidSceneType, resolve
from trulience.production.regression_report import encoded, report_json, report_markdown
from trulience.production.regression_rerun import GoldenResult, rerun_golden
from trulience.storage import Storage, storage_key

if TYPE_CHECKING:  # annotations only: the face models' code is loaded where it runs
    from trulience.faces.model_set import FaceModelSet

log = logging.getLogger(__name__)

COMPLETE = ("generated", "assembled")  # take states whose segments are all made


class InvalidGolden(TrulienceError):
    """A take that cannot be a golden of a workflow (the message says which and why)."""


class NoGoldens(TrulienceError):
    """A regression was asked of a workflow that has no goldens."""


def add_golden(
    conn: psycopg.Connection, workflow: str, scene_id: int, chosen_by: str, note: str = ""
) -> Golden:
    """Make a complete take made with `workflow` one of its goldens, recording its settings
    and each segment's seed so it can be re-run exactly."""
    get_workflow(conn, workflow)  # NotFound names an unknown workflow
    take = get_take(conn, scene_id)
    config = take.effective_config
    made_with = config.get("workflow")
    where = f"take {scene_id} (take {take.take})"
    if made_with != workflow:
        raise InvalidGolden(
            f"{where} was made with "
            + (f"workflow {made_with!r}" if made_with else "no workflow")
            + f", not {workflow!r}; a golden must be a take of the workflow it guards"
        )
    standing = catalog.take_standing(conn, scene_id)
    planned = standing.planned_segments
    if take.status not in COMPLETE or planned is None or standing.passed_segments != planned:
        raise InvalidGolden(
            f"{where} is not complete: status {take.status}, {standing.passed_segments} of "
            f"{planned if planned is not None else '?'} planned segments committed past QA; "
            "a golden must be a finished take"
        )
    if standing.decision == "rejected":
        raise InvalidGolden(f"{where} was rejected in review; a golden must be a good take")
    segments = current_segments(conn, scene_id)
    seeds = [int(segments[i].provenance.get("seed", 0)) for i in sorted(segments)]
    return catalog.insert_golden(
        conn,
        NewGolden(
            workflow,
            scene_id,
            int(config.get("workflow_version") or 1),
            config,
            seeds,
            standing.decision == "approved",
            chosen_by,
            note,
        ),
    )


def list_goldens(conn: psycopg.Connection, workflow: str | None = None) -> list[Golden]:
    """Goldens of a workflow (NotFound for an unknown one), or of every workflow."""
    if workflow is not None:
        get_workflow(conn, workflow)
    return catalog.list_goldens(conn, workflow)


def remove_golden(conn: psycopg.Connection, golden_id: int) -> Golden:
    """Stop using a golden (its results in earlier runs go with it); the golden removed."""
    golden = catalog.get_golden(conn, golden_id)
    catalog.delete_golden(conn, golden_id)
    return golden


def thresholds(conn: psycopg.Connection, workflow: str) -> Thresholds:
    """A workflow's regression thresholds (the defaults until set)."""
    get_workflow(conn, workflow)
    return catalog.get_thresholds(conn, workflow)


def set_thresholds(
    conn: psycopg.Connection,
    workflow: str,
    by: str,
    *,
    min_ssim: float | None = None,
    min_psnr_db: float | None = None,
    max_identity_drop: float | None = None,
    qa_must_match: bool | None = None,
) -> Thresholds:
    """Change some of a workflow's thresholds (the others stay); a value out of range is
    refused naming it and its range, nothing written."""
    current = thresholds(conn, workflow)
    checks = [
        ("min_ssim", min_ssim, 0.0, 1.0, "a mean SSIM above 0 and at most 1"),
        ("min_psnr_db", min_psnr_db, 0.0, 100.0, "a PSNR above 0 dB and at most 100 dB"),
        ("max_identity_drop", max_identity_drop, -1e-12, 1.0, "an identity drop from 0 to 1"),
    ]
    for name, value, low, high, what in checks:
        if value is not None and not (low < value <= high):
            raise InvalidValue("regression thresholds", name, value, f"must be {what}")
    changed = replace(
        current,
        min_ssim=current.min_ssim if min_ssim is None else float(min_ssim),
        min_psnr_db=current.min_psnr_db if min_psnr_db is None else float(min_psnr_db),
        max_identity_drop=(
            current.max_identity_drop if max_identity_drop is None else float(max_identity_drop)
        ),
        qa_must_match=current.qa_must_match if qa_must_match is None else qa_must_match,
    )
    return catalog.set_thresholds(conn, changed, by)


@dataclass(frozen=True)
class RunOutcome:
    """A finished regression run and each golden's result."""

    run: RegressionRun
    results: list[GoldenResult]
    report: str  # the markdown report


def run_regression(
    conn: psycopg.Connection,
    storage: Storage,
    backend: GenerationBackend,
    workflow: str,
    work_dir: Path,
    *,
    version: int | None = None,
    requested_by: str,
    reason: str = "",
    faces: "FaceModelSet | None" = None,
    load_faces: "Callable[[], FaceModelSet] | None" = None,
) -> RunOutcome:
    """Re-run every golden of `workflow` on `version` (default: the newest) through
    `backend`, judge each against the workflow's thresholds, and store the results and the
    report. A golden that cannot be re-run is an error result, not a crash of the run.
    Identity is judged with `faces` (or what `load_faces` loads, once the request is known
    to be good); without either it is not compared."""
    target = get_workflow(conn, workflow, version)
    goldens = catalog.list_goldens(conn, workflow)
    if not goldens:
        raise NoGoldens(
            f"workflow {workflow!r} has no goldens; add one with "
            "`trulience workflows golden add` (a version without goldens is cleared as it is)"
        )
    if faces is None and load_faces is not None:
        faces = load_faces()
    limits = catalog.get_thresholds(conn, workflow)
    fingerprint = run_catalog.models_fingerprint(conn, target.id)
    run = run_catalog.insert_run(
        conn, target.id, fingerprint, limits.to_json(), requested_by, reason
    )
    prefix = ["regression", workflow, f"v{target.version}", f"run-{run.id}"]
    results: list[GoldenResult] = []
    for golden in goldens:
        try:
            result = rerun_golden(
                conn, storage, backend, golden, target, limits, work_dir, prefix, faces
            )
        except (TrulienceError, OSError) as exc:
            log.warning("golden %s could not be re-run: %s", golden.id, exc)
            result = GoldenResult(golden, "error", {}, [f"could not be re-run: {exc}"])
        run_catalog.insert_result(
            conn, run.id, golden.id, result.verdict, result.figures, result.failures
        )
        results.append(result)
    verdicts = {r.verdict for r in results}
    status = "failed" if "failed" in verdicts else "error" if "error" in verdicts else "passed"
    data = report_json(run, status, results)
    markdown = report_markdown(data)
    md = storage.put_bytes(storage_key(*prefix, "report.md"), markdown.encode())
    js = storage.put_bytes(storage_key(*prefix, "report.json"), encoded(data))
    finished = run_catalog.finish_run(conn, run.id, status, md.uri, js.uri)
    return RunOutcome(finished, results, markdown)


def runs(conn: psycopg.Connection, workflow: str | None = None) -> list[RegressionRun]:
    """Regression runs, newest first (of one workflow, or of all)."""
    if workflow is not None:
        get_workflow(conn, workflow)
    return run_catalog.list_runs(conn, workflow)


def clearance_of(conn: psycopg.Connection, workflow: str, version: int | None = None) -> Clearance:
    """Whether a workflow version (default: the newest) is cleared for production."""
    return run_catalog.clearance(conn, get_workflow(conn, workflow, version).id)


def clearances(conn: psycopg.Connection, workflow: str | None = None) -> list[Clearance]:
    """Every workflow version's clearance (of one workflow, or of all)."""
    if workflow is not None:
        get_workflow(conn, workflow)
    return run_catalog.clearances(conn, workflow)


def due(conn: psycopg.Connection) -> list[run_catalog.Due]:
    """Versions whose regression is due: new, or their models changed since their last run."""
    return run_catalog.due_versions(conn)


def why_not_cleared(conn: psycopg.Connection, c: Clearance) -> str:
    """A version's note, with the failing figures of its last finished run."""
    failing: list[str] = []
    if c.finished_run_id is not None and c.finished_status != "passed":
        for r in run_catalog.results_of(conn, c.finished_run_id):
            failing += [f"golden {r.golden_id}: {f}" for f in r.failures]
    shown = failing[:5] + ([f"and {len(failing) - 5} more"] if len(failing) > 5 else [])
    return c.note + (f" ({'; '.join(shown)})" if shown else "")


@dataclass(frozen=True)
class Uncleared:
    """A scene type whose workflow version is not cleared for production, and why."""

    scene_type: str
    clearance: Clearance
    why: str

    def __str__(self) -> str:
        c = self.clearance
        return (
            f"scene type {self.scene_type!r}: workflow {c.workflow} v{c.version} is not "
            f"cleared for production: {self.why}; run `trulience workflows regress "
            f"{c.workflow} --version {c.version}` or override, saying why"
        )


def uncleared(conn: psycopg.Connection, scene_types: tuple[str, ...]) -> list[Uncleared]:
    """The scene types (of those given) whose current workflow version is not cleared; one
    that cannot be resolved uses no workflow version yet, so none holds it back here (what it
    lacks is the batch's own check, at create, and its take's, at generation)."""
    found = []
    for slug in scene_types:
        try:
            config = resolve(conn, slug)
        except InvalidSceneType:
            continue
        if not config.workflow:
            continue
        c = clearance_of(conn, config.workflow, config.workflow_version)
        if not c.cleared:
            found.append(Uncleared(slug, c, why_not_cleared(conn, c)))
    return found


def record_overrides(
    conn: psycopg.Connection, batch_id: int, blocked: list[Uncleared], by: str, reason: str
) -> None:
    """Record that a batch was allowed to use these uncleared versions, by whom and why."""
    if not reason.strip():
        raise InvalidValue("regression override", "reason", reason, "say why the override")
    for u in blocked:
        c = u.clearance
        run_catalog.insert_override(
            conn, batch_id, c.workflow_id, c.models_fingerprint, by, reason, u.why
        )


def still_blocked(
    conn: psycopg.Connection, batch_id: int, scene_types: tuple[str, ...]
) -> list[Uncleared]:
    """What keeps a batch from launching now: uncleared versions it has no override for."""
    allowed = run_catalog.overridden_workflows(conn, batch_id)
    return [
        u
        for u in uncleared(conn, scene_types)
        if (u.clearance.workflow_id, u.clearance.models_fingerprint) not in allowed
    ]
