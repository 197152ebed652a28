"""Workflow regression tests (PRD-65) as the catalog holds them: golden takes per workflow,
thresholds per workflow, regression runs per workflow version and model set with each
golden's result, producers' overrides, and the `workflow_clearance` and `regression_due`
views. trulience/production/regression.py decides."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many, one

# The column defaults of regression_thresholds (sql/migrations/0031), for a workflow that
# has no row of its own.
DEFAULT_MIN_SSIM = 0.95
DEFAULT_MIN_PSNR_DB = 30.0
DEFAULT_MAX_IDENTITY_DROP = 0.05


@dataclass(frozen=True, slots=True)
class Golden:
    id: int
    workflow: str
    scene_id: int
    character: str
    scene_type: str
    take: int
    workflow_version: int
    effective_config: dict
    seeds: list
    approved: bool
    chosen_by: str
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewGolden:
    """A golden as the service records it."""

    workflow: str
    scene_id: int
    workflow_version: int
    effective_config: dict
    seeds: list[int]
    approved: bool
    chosen_by: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Thresholds:
    workflow: str
    min_ssim: float
    min_psnr_db: float
    max_identity_drop: float
    qa_must_match: bool
    updated_by: str | None = None
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The figures a run is judged by, as kept with the run."""
        return {
            "min_ssim": self.min_ssim,
            "min_psnr_db": self.min_psnr_db,
            "max_identity_drop": self.max_identity_drop,
            "qa_must_match": self.qa_must_match,
        }


@dataclass(frozen=True, slots=True)
class RegressionRun:
    id: int
    workflow_id: int
    workflow: str
    version: int
    models_fingerprint: str
    status: str
    thresholds: dict
    requested_by: str
    reason: str
    report_uri: str | None
    report_json_uri: str | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class RegressionResult:
    id: int
    run_id: int
    golden_id: int
    verdict: str
    figures: dict
    failures: list
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Clearance:
    """Whether a workflow version may go into production batches, and why (or why not)."""

    workflow_id: int
    workflow: str
    version: int
    models_fingerprint: str
    goldens: int
    last_run_id: int | None
    last_status: str | None
    finished_run_id: int | None
    finished_status: str | None
    cleared: bool
    note: str


@dataclass(frozen=True, slots=True)
class Due:
    """A workflow version whose regression is due (no run on its current model set)."""

    workflow_id: int
    workflow: str
    version: int
    models_fingerprint: str
    note: str


@dataclass(frozen=True, slots=True)
class TakeStanding:
    """What golden-add checks of a take: its planned and current segments, how many of
    those passed QA, and the reviewer's decision on it (None: none yet)."""

    planned_segments: int | None
    current_segments: int
    passed_segments: int
    decision: str | None


_GOLDEN = """SELECT g.id, g.workflow, g.scene_id, c.slug AS character, t.slug AS scene_type,
                    s.take, g.workflow_version, g.effective_config, g.seeds, g.approved,
                    g.chosen_by, g.note, g.created_at
               FROM regression_goldens g
               JOIN scenes s ON s.id = g.scene_id
               JOIN characters c ON c.id = g.character_id
               JOIN scene_types t ON t.id = g.scene_type_id"""

_RUN = """SELECT r.id, r.workflow_id, w.name AS workflow, w.version, r.models_fingerprint,
                 r.status, r.thresholds, r.requested_by, r.reason, r.report_uri,
                 r.report_json_uri, r.error, r.started_at, r.finished_at
            FROM regression_runs r JOIN workflows w ON w.id = r.workflow_id"""

_CLEARANCE = """SELECT workflow_id, workflow, version, models_fingerprint, goldens, last_run_id,
                       last_status, finished_run_id, finished_status, cleared, note
                  FROM workflow_clearance"""


def take_standing(conn: psycopg.Connection, scene_id: int) -> TakeStanding:
    """How complete a take is, and its review decision (NotFound for an unknown take)."""
    return one(
        conn,
        TakeStanding,
        """SELECT s.planned_segments,
                  (SELECT count(*) FROM segments g WHERE g.scene_id = s.id AND g.current)
                      AS current_segments,
                  (SELECT count(*) FROM segments g
                    WHERE g.scene_id = s.id AND g.current AND g.status = 'qa_passed')
                      AS passed_segments,
                  d.decision
             FROM scenes s LEFT JOIN take_decisions d ON d.scene_id = s.id
            WHERE s.id = %s""",
        (scene_id,),
        "take",
        scene_id,
    )


def insert_golden(conn: psycopg.Connection, golden: NewGolden) -> Golden:
    with writing(conn, {"workflow": golden.workflow, "scene_id": golden.scene_id}):
        row = conn.execute(
            """INSERT INTO regression_goldens (workflow, scene_id, character_id, scene_type_id,
                       workflow_version, effective_config, seeds, approved, chosen_by, note)
               SELECT %s, s.id, s.character_id, s.scene_type_id, %s, %s, %s, %s, %s, %s
                 FROM scenes s WHERE s.id = %s
               RETURNING id""",
            (
                golden.workflow,
                golden.workflow_version,
                Jsonb(golden.effective_config),
                Jsonb(golden.seeds),
                golden.approved,
                golden.chosen_by,
                golden.note,
                golden.scene_id,
            ),
        ).fetchone()
    if row is None:
        raise NotFound("take", golden.scene_id)
    return get_golden(conn, row[0])


def get_golden(conn: psycopg.Connection, golden_id: int) -> Golden:
    return one(conn, Golden, f"{_GOLDEN} WHERE g.id = %s", (golden_id,), "golden take", golden_id)


def list_goldens(conn: psycopg.Connection, workflow: str | None = None) -> list[Golden]:
    """Goldens of one workflow (or of all), oldest first."""
    return many(
        conn,
        Golden,
        f"{_GOLDEN} WHERE %(w)s::text IS NULL OR g.workflow = %(w)s ORDER BY g.workflow, g.id",
        {"w": workflow},
    )


def delete_golden(conn: psycopg.Connection, golden_id: int) -> None:
    with writing(conn):
        found = conn.execute(
            "DELETE FROM regression_goldens WHERE id = %s RETURNING id", (golden_id,)
        ).fetchone()
    if found is None:
        raise NotFound("golden take", golden_id)


def get_thresholds(conn: psycopg.Connection, workflow: str) -> Thresholds:
    """The workflow's thresholds (the defaults when none were set)."""
    found = many(
        conn,
        Thresholds,
        """SELECT workflow, min_ssim, min_psnr_db, max_identity_drop, qa_must_match,
                  updated_by, updated_at
             FROM regression_thresholds WHERE workflow = %s""",
        (workflow,),
    )
    if found:
        return found[0]
    return Thresholds(
        workflow, DEFAULT_MIN_SSIM, DEFAULT_MIN_PSNR_DB, DEFAULT_MAX_IDENTITY_DROP, True
    )


def set_thresholds(conn: psycopg.Connection, thresholds: Thresholds, by: str) -> Thresholds:
    with writing(conn, {"workflow": thresholds.workflow, **thresholds.to_json()}):
        conn.execute(
            """INSERT INTO regression_thresholds (workflow, min_ssim, min_psnr_db,
                       max_identity_drop, qa_must_match, updated_by)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (workflow) DO UPDATE SET min_ssim = excluded.min_ssim,
                   min_psnr_db = excluded.min_psnr_db,
                   max_identity_drop = excluded.max_identity_drop,
                   qa_must_match = excluded.qa_must_match,
                   updated_by = excluded.updated_by, updated_at = now()""",
            (
                thresholds.workflow,
                thresholds.min_ssim,
                thresholds.min_psnr_db,
                thresholds.max_identity_drop,
                thresholds.qa_must_match,
                by,
            ),
        )
    return get_thresholds(conn, thresholds.workflow)


def models_fingerprint(conn: psycopg.Connection, workflow_id: int) -> str:
    """The fingerprint of the model files (and their checksums) a workflow version loads."""
    row = conn.execute(
        "SELECT models_fingerprint FROM workflow_model_sets WHERE workflow_id = %s",
        (workflow_id,),
    ).fetchone()
    if row is None:
        raise NotFound("workflow", workflow_id)
    return row[0]


def insert_run(
    conn: psycopg.Connection,
    workflow_id: int,
    fingerprint: str,
    thresholds: dict[str, Any],
    requested_by: str,
    reason: str,
) -> RegressionRun:
    with writing(conn, {"requested_by": requested_by}):
        row = conn.execute(
            """INSERT INTO regression_runs (workflow_id, models_fingerprint, thresholds,
                       requested_by, reason)
               VALUES (%s, %s, %s, %s, %s) RETURNING id""",
            (workflow_id, fingerprint, Jsonb(thresholds), requested_by, reason),
        ).fetchone()
    return get_run(conn, row[0])


def insert_result(
    conn: psycopg.Connection,
    run_id: int,
    golden_id: int,
    verdict: str,
    figures: dict[str, Any],
    failures: list[str],
) -> None:
    with writing(conn):
        conn.execute(
            """INSERT INTO regression_results (run_id, golden_id, verdict, figures, failures)
               VALUES (%s, %s, %s, %s, %s)""",
            (run_id, golden_id, verdict, Jsonb(figures), Jsonb(failures)),
        )


def finish_run(
    conn: psycopg.Connection,
    run_id: int,
    status: str,
    report_uri: str | None = None,
    report_json_uri: str | None = None,
    error: str | None = None,
) -> RegressionRun:
    with writing(conn, {"status": status}):
        conn.execute(
            """UPDATE regression_runs SET status = %s, report_uri = %s, report_json_uri = %s,
                      error = %s, finished_at = now()
                WHERE id = %s""",
            (status, report_uri, report_json_uri, error, run_id),
        )
    return get_run(conn, run_id)


def get_run(conn: psycopg.Connection, run_id: int) -> RegressionRun:
    return one(conn, RegressionRun, f"{_RUN} WHERE r.id = %s", (run_id,), "regression run", run_id)


def list_runs(conn: psycopg.Connection, workflow: str | None = None) -> list[RegressionRun]:
    """Regression runs, newest first (of one workflow, or of all)."""
    return many(
        conn,
        RegressionRun,
        f"{_RUN} WHERE %(w)s::text IS NULL OR w.name = %(w)s ORDER BY r.id DESC",
        {"w": workflow},
    )


def results_of(conn: psycopg.Connection, run_id: int) -> list[RegressionResult]:
    return many(
        conn,
        RegressionResult,
        """SELECT id, run_id, golden_id, verdict, figures, failures, created_at
             FROM regression_results WHERE run_id = %s ORDER BY golden_id""",
        (run_id,),
    )


def clearance(conn: psycopg.Connection, workflow_id: int) -> Clearance:
    """Whether this workflow version is cleared for production, as the view says."""
    return one(
        conn,
        Clearance,
        f"{_CLEARANCE} WHERE workflow_id = %s",
        (workflow_id,),
        "workflow",
        workflow_id,
    )


def clearances(conn: psycopg.Connection, workflow: str | None = None) -> list[Clearance]:
    return many(
        conn,
        Clearance,
        f"{_CLEARANCE} WHERE %(w)s::text IS NULL OR workflow = %(w)s ORDER BY workflow, version",
        {"w": workflow},
    )


def due_versions(conn: psycopg.Connection) -> list[Due]:
    """Workflow versions whose regression is due, oldest workflow version first."""
    return many(
        conn,
        Due,
        """SELECT workflow_id, workflow, version, models_fingerprint, note
             FROM regression_due ORDER BY workflow_id""",
    )


def insert_override(
    conn: psycopg.Connection,
    batch_id: int,
    workflow_id: int,
    fingerprint: str,
    by: str,
    reason: str,
    not_cleared: str,
) -> None:
    with writing(conn, {"overridden_by": by, "reason": reason}):
        conn.execute(
            """INSERT INTO regression_overrides (batch_id, workflow_id, models_fingerprint,
                       overridden_by, reason, not_cleared)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (batch_id, workflow_id) DO NOTHING""",
            (batch_id, workflow_id, fingerprint, by, reason, not_cleared),
        )


def overridden_workflows(conn: psycopg.Connection, batch_id: int) -> set[tuple[int, str]]:
    """(workflow version id, models fingerprint) a batch was allowed to use uncleared."""
    return {
        (r[0], r[1])
        for r in conn.execute(
            "SELECT workflow_id, models_fingerprint FROM regression_overrides WHERE batch_id = %s",
            (batch_id,),
        )
    }
