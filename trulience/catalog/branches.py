"""Branches of a take (PRD-50): alternative takes of one cell (project × character × scene
type) recorded with their branch name and overrides, and the promoted (current) take of a
cell. Which take is current is the view `current_takes` (migration 0021)."""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many, one


@dataclass(frozen=True, slots=True)
class Cell:
    """The project, character and scene type a take belongs to (slugs)."""

    project: str
    character: str
    scene_type: str


@dataclass(frozen=True, slots=True)
class BranchRow:
    """One take of a cell as a branch: its overrides, machine state, QA of its current
    segments, the decision on its newest revision and whether it is the cell's current."""

    scene_id: int
    take: int
    branch: str
    overrides: dict
    status: str
    segments: int
    qa_passed: int
    qa_failed: int
    decision: str | None
    revision: int
    promoted: bool
    current: bool
    created_at: datetime


def cell_of(conn: psycopg.Connection, scene_id: int) -> Cell:
    """The cell of a take."""
    return one(
        conn,
        Cell,
        """SELECT p.slug AS project, c.slug AS character, t.slug AS scene_type
             FROM scenes s JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
            WHERE s.id = %s""",
        (scene_id,),
        "take",
        scene_id,
    )


def unfinished_take(
    conn: psycopg.Connection, scene_id: int, finished: tuple[str, ...]
) -> int | None:
    """The take number of an unfinished take in `scene_id`'s cell (None: all finished)."""
    row = conn.execute(
        """SELECT o.take FROM scenes s JOIN scenes o
               ON o.project_id = s.project_id AND o.character_id = s.character_id
              AND o.scene_type_id = s.scene_type_id
            WHERE s.id = %s AND o.status <> ALL(%s) ORDER BY o.take LIMIT 1""",
        (scene_id, list(finished)),
    ).fetchone()
    return None if row is None else row[0]


def lock_cell(conn: psycopg.Connection, scene_id: int) -> tuple[int, int, int]:
    """Lock every take of `scene_id`'s cell until the transaction ends (branching and
    promoting in one cell take turns); the cell's project, character and scene type ids."""
    found = conn.execute(
        "SELECT project_id, character_id, scene_type_id FROM scenes WHERE id = %s", (scene_id,)
    ).fetchone()
    if found is None:
        raise NotFound("take", scene_id)
    conn.execute(
        """SELECT 1 FROM scenes WHERE project_id = %s AND character_id = %s
              AND scene_type_id = %s FOR UPDATE""",
        found,
    )
    return found


def set_branch(conn: psycopg.Connection, scene_id: int, branch: str, overrides: dict) -> None:
    """Name a (new) take's branch and record what it overrides."""
    with writing(conn, {"branch": branch}):
        conn.execute(
            "UPDATE scenes SET branch = %s, branch_overrides = %s WHERE id = %s",
            (branch, Jsonb(overrides), scene_id),
        )


def promote(conn: psycopg.Connection, scene_id: int, by: str) -> None:
    """Make a take its cell's current one (the cell's earlier promotion is withdrawn)."""
    with writing(conn):
        found = lock_cell(conn, scene_id)
        conn.execute(
            """UPDATE scenes SET promoted = false, promoted_by = NULL, promoted_at = NULL
                WHERE project_id = %s AND character_id = %s AND scene_type_id = %s
                  AND promoted AND id <> %s""",
            (*found, scene_id),
        )
        conn.execute(
            """UPDATE scenes SET promoted = true, promoted_by = %s, promoted_at = now()
                WHERE id = %s""",
            (by, scene_id),
        )


def current_take(conn: psycopg.Connection, scene_id: int) -> int | None:
    """The scene id of the current take of `scene_id`'s cell (None: the cell has none)."""
    row = conn.execute(
        """SELECT k.scene_id FROM scenes s JOIN current_takes k
               ON k.project_id = s.project_id AND k.character_id = s.character_id
              AND k.scene_type_id = s.scene_type_id
            WHERE s.id = %s""",
        (scene_id,),
    ).fetchone()
    return None if row is None else row[0]


def branches_of(conn: psycopg.Connection, scene_id: int) -> list[BranchRow]:
    """Every take of `scene_id`'s cell, oldest first, as a branch."""
    return many(
        conn,
        BranchRow,
        """SELECT o.id AS scene_id, o.take, o.branch, o.branch_overrides AS overrides,
                  o.status,
                  count(g.id)::int AS segments,
                  (count(g.id) FILTER (WHERE g.status = 'qa_passed'))::int AS qa_passed,
                  (count(g.id) FILTER (WHERE g.status = 'qa_failed'))::int AS qa_failed,
                  d.decision, d.revision, o.promoted,
                  (k.scene_id IS NOT NULL) AS current, o.created_at
             FROM scenes s
             JOIN scenes o ON o.project_id = s.project_id AND o.character_id = s.character_id
                          AND o.scene_type_id = s.scene_type_id
             JOIN take_decisions d ON d.scene_id = o.id
             LEFT JOIN current_takes k ON k.scene_id = o.id
             LEFT JOIN segments g ON g.scene_id = o.id AND g.current
            WHERE s.id = %s
            GROUP BY o.id, d.decision, d.revision, k.scene_id
            ORDER BY o.take""",
        (scene_id,),
    )


def branch_marks(conn: psycopg.Connection, scene_ids: list[int]) -> dict[int, tuple[str, bool]]:
    """Each take's branch and whether it is its cell's current take, by scene id."""
    rows = conn.execute(
        """SELECT s.id, s.branch, (k.scene_id IS NOT NULL)
             FROM scenes s LEFT JOIN current_takes k ON k.scene_id = s.id
            WHERE s.id = ANY(%s)""",
        (scene_ids,),
    ).fetchall()
    return {scene_id: (branch, current) for scene_id, branch, current in rows}
