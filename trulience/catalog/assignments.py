"""Takes assigned to reviewers with a due date, and the review queue as the catalog keeps
it (the view review_queue, sql/migrations/0020): its filters and orders, never its rule."""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many, one
from trulience.catalog.reviews import QueuedTake

# Orders the queue can be read in: each ends with the take's id, so ties read the same.
QUEUE_ORDERS = {
    "age": "waiting_since, scene_id",
    "due": "due_at NULLS LAST, waiting_since, scene_id",
    "character": "character, waiting_since, scene_id",
    "status": "(SELECT s.position FROM review_status_order s WHERE s.code = review_status), "
    "waiting_since, scene_id",
}
# Review statuses in the queue, in the order "status" sorts them (awaiting first).
REVIEW_STATUSES = ("awaiting", "flagged", "rejected", "approved")


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue shows: None lets everything through. `assignee` is a username, or
    `unassigned`=True for the takes nobody has; `overdue` only those past their due date."""

    project: str | None = None
    character: str | None = None
    review_status: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who is to review a take, by when, and who said so."""

    scene_id: int
    assignee: str
    due_at: datetime | None
    assigned_by: str
    assigned_at: datetime


def queued_takes(conn: psycopg.Connection, where: QueueFilter, order: str) -> list[QueuedTake]:
    """The review queue's takes that pass `where`, in one of QUEUE_ORDERS."""
    return many(
        conn,
        QueuedTake,
        f"""WITH review_status_order (code, position) AS (
                SELECT * FROM unnest(%(statuses)s::text[]) WITH ORDINALITY)
            SELECT scene_id, project, character, scene_type, take, uri, frames, created_at,
                   revision, waiting_since, review_status, assignee, due_at, assigned_by,
                   overdue
              FROM review_queue
             WHERE (%(project)s::text IS NULL OR project = %(project)s)
               AND (%(character)s::text IS NULL OR character = %(character)s)
               AND (%(status)s::text IS NULL OR review_status = %(status)s)
               AND (%(assignee)s::text IS NULL OR assignee = %(assignee)s)
               AND (NOT %(unassigned)s OR assignee IS NULL)
               AND (NOT %(overdue)s OR overdue)
             ORDER BY {QUEUE_ORDERS[order]}""",
        {
            "statuses": list(REVIEW_STATUSES),
            "project": where.project,
            "character": where.character,
            "status": where.review_status,
            "assignee": where.assignee,
            "unassigned": where.unassigned,
            "overdue": where.overdue,
        },
    )


def queued_take(conn: psycopg.Connection, scene_id: int) -> QueuedTake | None:
    """One take as the queue shows it (None: no such take, or it is not assembled)."""
    found = many(
        conn,
        QueuedTake,
        """SELECT scene_id, project, character, scene_type, take, uri, frames, created_at,
                  revision, waiting_since, review_status, assignee, due_at, assigned_by, overdue
             FROM review_queue WHERE scene_id = %s""",
        (scene_id,),
    )
    return found[0] if found else None


_ASSIGNMENT = """SELECT a.scene_id, u.username AS assignee, a.due_at, b.username AS assigned_by,
                        a.assigned_at
                   FROM take_assignments a
                   JOIN users u ON u.id = a.assignee_id JOIN users b ON b.id = a.assigned_by"""


def set_assignment(
    conn: psycopg.Connection,
    scene_id: int,
    assignee_id: int,
    due_at: datetime | None,
    assigned_by: int,
) -> Assignment:
    """Assign the take (replacing any earlier assignment); NotFound for no such take."""
    if conn.execute("SELECT 1 FROM scenes WHERE id = %s", (scene_id,)).fetchone() is None:
        raise NotFound("take", scene_id)
    with writing(conn, {"due_at": due_at}):
        conn.execute(
            """INSERT INTO take_assignments (scene_id, assignee_id, due_at, assigned_by)
               VALUES (%s, %s, %s, %s)
               ON CONFLICT ON CONSTRAINT take_assignments_one_per_take DO UPDATE
               SET assignee_id = EXCLUDED.assignee_id, due_at = EXCLUDED.due_at,
                   assigned_by = EXCLUDED.assigned_by, assigned_at = now()""",
            (scene_id, assignee_id, due_at, assigned_by),
        )
    return one(
        conn, Assignment, f"{_ASSIGNMENT} WHERE a.scene_id = %s", (scene_id,), "take", scene_id
    )


def clear_assignment(conn: psycopg.Connection, scene_id: int) -> bool:
    """Nobody is to review the take any more; True if it had an assignment."""
    with writing(conn):
        cur = conn.execute("DELETE FROM take_assignments WHERE scene_id = %s", (scene_id,))
    return cur.rowcount > 0
