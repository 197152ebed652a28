"""Workflow regression tests (PRD-65) as the catalog holds them: golden takes per workflow
and thresholds per workflow (the runs, results, overrides and clearance are in
regression_runs.py). trulience/production/regression.py decides."""

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
