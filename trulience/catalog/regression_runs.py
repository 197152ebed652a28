"""Workflow regression runs (PRD-65) as the catalog holds them: runs per workflow version
and model set with each golden's result, producers' overrides, and the `workflow_clearance`
and `regression_due` views (one rule for the batch check, the CLI and the sensor)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many, one


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


_RUN = """SELECT r.id, r.workflow_id, w.name AS workflow, w.version, r.models_fingerprint,
                 r.status, r.thresholds, r.requested_by, r.reason, r.report_uri,
                 r.report_json_uri, r.error, r.started_at, r.finished_at
            FROM regression_runs r JOIN workflows w ON w.id = r.workflow_id"""

_CLEARANCE = """SELECT workflow_id, workflow, version, models_fingerprint, goldens, last_run_id,
                       last_status, finished_run_id, finished_status, cleared, note
                  FROM workflow_clearance"""


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
