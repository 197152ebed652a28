"""Batches and their items (PRD-57) as the catalog holds them. trulience/production/batch.py
decides what may be recorded, launched or cancelled; these functions run its statements.

An item's state is the view `batch_item_states`' (the one rule every reader uses)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.fetch import many, one


@dataclass(frozen=True, slots=True)
class Batch:
    """A recorded batch, with its estimate as shown before it started."""

    id: int
    project: str
    priority: int
    requested_by: str
    status: str
    estimate_gpu_s: Decimal | None
    estimate_low_s: Decimal | None
    estimate_high_s: Decimal | None
    estimate_basis: dict
    dagster_backfill_id: str | None
    launched_at: datetime | None
    failure: str | None
    created_at: datetime
    items: int


@dataclass(frozen=True, slots=True)
class ItemState:
    """One character x scene type of a batch: its take, where it stands, its GPU time."""

    character: str
    scene_type: str
    scene_id: int | None
    take: int | None
    scene_status: str | None
    scene_failure: str | None
    decision: str | None
    deliverable_status: str | None
    gpu_seconds: Decimal
    state: str


@dataclass(frozen=True, slots=True)
class NewBatch:
    """What a batch is recorded with: its request and its estimate (GPU seconds)."""

    project: str
    priority: int
    requested_by: str
    estimate_gpu_s: Decimal | None
    estimate_low_s: Decimal | None
    estimate_high_s: Decimal | None
    estimate_basis: dict


_BATCH_COLUMNS = """b.id, p.slug AS project, b.priority, b.requested_by, b.status,
    b.estimate_gpu_s, b.estimate_low_s, b.estimate_high_s, b.estimate_basis,
    b.dagster_backfill_id, b.launched_at, b.failure, b.created_at,
    (SELECT count(*) FROM batch_items i WHERE i.batch_id = b.id)::int AS items"""


def character_in_project(
    conn: psycopg.Connection, character: str, project_id: int | None
) -> bool | None:
    """Whether the character belongs to the project; None when there is no such character."""
    row = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM project_characters pc
                           WHERE pc.character_id = c.id AND pc.project_id = %s)
             FROM characters c WHERE c.slug = %s""",
        (project_id, character),
    ).fetchone()
    return None if row is None else row[0]


def insert_batch(conn: psycopg.Connection, batch: NewBatch) -> int:
    """Record a queued batch of the project; its id."""
    return conn.execute(
        """INSERT INTO batches (project_id, priority, requested_by, estimate_gpu_s,
                                estimate_low_s, estimate_high_s, estimate_basis)
           SELECT id, %s, %s, %s, %s, %s, %s FROM projects WHERE slug = %s
           RETURNING id""",
        (
            batch.priority,
            batch.requested_by,
            batch.estimate_gpu_s,
            batch.estimate_low_s,
            batch.estimate_high_s,
            Jsonb(batch.estimate_basis),
            batch.project,
        ),
    ).fetchone()[0]


def insert_items(
    conn: psycopg.Connection,
    batch_id: int,
    characters: Sequence[str],
    scene_types: Sequence[str],
) -> None:
    """An item for each character x scene type, in the order given (characters first)."""
    conn.execute(
        """INSERT INTO batch_items (batch_id, project_id, character_id, scene_type_id)
           SELECT b.id, b.project_id, c.id, t.id
             FROM batches b
             CROSS JOIN unnest(%s::text[]) WITH ORDINALITY AS cs(slug, n)
             JOIN characters c ON c.slug = cs.slug
             CROSS JOIN unnest(%s::text[]) WITH ORDINALITY AS ts(slug, m)
             JOIN scene_types t ON t.slug = ts.slug
            WHERE b.id = %s ORDER BY cs.n, ts.m""",
        (list(characters), list(scene_types), batch_id),
    )


def get_batch(conn: psycopg.Connection, batch_id: int) -> Batch:
    """A batch by id; NotFound when there is none."""
    return one(
        conn,
        Batch,
        f"SELECT {_BATCH_COLUMNS} FROM batches b JOIN projects p ON p.id = b.project_id "
        "WHERE b.id = %s",
        (batch_id,),
        "batch",
        batch_id,
    )


def list_batches(
    conn: psycopg.Connection, project: str | None = None, status: str | None = None
) -> list[Batch]:
    """Batches, newest first (optionally of one project, or in one status)."""
    return many(
        conn,
        Batch,
        f"""SELECT {_BATCH_COLUMNS} FROM batches b JOIN projects p ON p.id = b.project_id
             WHERE (%(p)s::text IS NULL OR p.slug = %(p)s)
               AND (%(s)s::text IS NULL OR b.status = %(s)s)
             ORDER BY b.id DESC""",
        {"p": project, "s": status},
    )


def batch_targets(conn: psycopg.Connection, batch_id: int) -> list[tuple[str, str]]:
    """The (character, scene type) slugs of a batch's items, in the order requested."""
    return conn.execute(
        """SELECT c.slug, t.slug FROM batch_items i
             JOIN characters c ON c.id = i.character_id
             JOIN scene_types t ON t.id = i.scene_type_id
            WHERE i.batch_id = %s ORDER BY i.id""",
        (batch_id,),
    ).fetchall()


def lock_batch_for_update(conn: psycopg.Connection, batch_id: int) -> None:
    """Hold the batch's row (FOR UPDATE) until the transaction ends."""
    conn.execute("SELECT 1 FROM batches WHERE id = %s FOR UPDATE", (batch_id,))


def note_takes_before_launch(
    conn: psycopg.Connection, batch_id: int, finished_states: Sequence[str]
) -> None:
    """For each item, the newest take of its character and scene type already made: the
    newest take when it is in one of `finished_states`, else the one before it (0 if none)."""
    conn.execute(
        """UPDATE batch_items i SET after_take = coalesce((
               SELECT CASE WHEN s.status = ANY(%s) THEN s.take ELSE s.take - 1 END
                 FROM scenes s
                WHERE s.project_id = i.project_id AND s.character_id = i.character_id
                  AND s.scene_type_id = i.scene_type_id
                ORDER BY s.take DESC LIMIT 1), 0)
            WHERE i.batch_id = %s""",
        (list(finished_states), batch_id),
    )


def mark_running(conn: psycopg.Connection, batch_id: int, backfill_id: str) -> None:
    """The batch runs, launched now under its Dagster backfill (any failure forgotten)."""
    conn.execute(
        """UPDATE batches SET status = 'running', dagster_backfill_id = %s,
                  launched_at = now(), failure = NULL WHERE id = %s""",
        (backfill_id, batch_id),
    )


def mark_queued_failed(conn: psycopg.Connection, batch_id: int, reason: str) -> None:
    """A batch still queued failed, for `reason` (a batch in any other status is left)."""
    conn.execute(
        "UPDATE batches SET status = 'failed', failure = %s WHERE id = %s AND status = 'queued'",
        (reason, batch_id),
    )


def mark_cancelled(conn: psycopg.Connection, batch_id: int) -> None:
    conn.execute("UPDATE batches SET status = 'cancelled' WHERE id = %s", (batch_id,))


def item_states(conn: psycopg.Connection, batch_id: int) -> list[ItemState]:
    """Where each item of a batch stands (view batch_item_states), in the order requested."""
    return many(
        conn,
        ItemState,
        """SELECT c.slug AS character, t.slug AS scene_type, v.scene_id, v.take,
                  v.scene_status, v.scene_failure, v.decision, v.deliverable_status,
                  v.gpu_seconds, v.state
             FROM batch_item_states v
             JOIN characters c ON c.id = v.character_id
             JOIN scene_types t ON t.id = v.scene_type_id
            WHERE v.batch_id = %s ORDER BY v.item_id""",
        (batch_id,),
    )


def link_found_takes(conn: psycopg.Connection, batch_id: int) -> None:
    """Link each item not linked yet to the take the view found for it, if any."""
    conn.execute(
        """UPDATE batch_items i SET scene_id = v.scene_id FROM batch_item_states v
            WHERE v.item_id = i.id AND i.batch_id = %s AND i.scene_id IS NULL
              AND v.scene_id IS NOT NULL""",
        (batch_id,),
    )


def complete_if_settled(
    conn: psycopg.Connection, batch_id: int, terminal_states: Sequence[str]
) -> None:
    """A running batch whose every item is in one of `terminal_states` is completed."""
    conn.execute(
        """UPDATE batches b SET status = 'completed' WHERE b.id = %s AND b.status = 'running'
             AND NOT EXISTS (SELECT 1 FROM batch_item_states v
                              WHERE v.batch_id = b.id AND v.state <> ALL(%s))""",
        (batch_id, list(terminal_states)),
    )


def set_priority(conn: psycopg.Connection, batch_id: int, priority: int) -> None:
    """A batch's priority: its queued runs and its takes' waiting segments follow it."""
    conn.execute("UPDATE batches SET priority = %s WHERE id = %s", (priority, batch_id))


def priorities(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, int]:
    """The priority of each of these batches (those that exist)."""
    return dict(
        conn.execute("SELECT id, priority FROM batches WHERE id = ANY(%s)", (batch_ids,)).fetchall()
    )
