"""Previews and their finals (PRD-59, sql/migrations/0032): which approved previews wait for
their final, which finals are to be made, and starting one (the same take, made again at
full size: its next revision)."""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from trulience.catalog.errors import NotFound, writing
from trulience.catalog.fetch import many
from trulience.catalog.records import Take
from trulience.catalog.scenes import list_takes


@dataclass(frozen=True, slots=True)
class DuePreview:
    """An approved preview whose undo window has closed and that has no final yet."""

    scene_id: int
    revision: int
    review_id: int
    character: str
    scene_type: str
    project: str


@dataclass(frozen=True, slots=True)
class FinalRun:
    """A started final still to be made (or finished) by a scenes run."""

    final_id: int
    scene_id: int
    character: str
    scene_type: str
    project: str


@dataclass(frozen=True, slots=True)
class TakeStage:
    """What a take is (preview / final) and, once started, its final: from which revision
    and review, how, at what sizes, and the revision the final was assembled as."""

    scene_id: int
    stage: str
    final_id: int | None
    preview_revision: int | None
    review_id: int | None
    reviewer: str | None
    method: str | None
    workflow: str | None
    preview_width: int | None
    preview_height: int | None
    width: int | None
    height: int | None
    final_started_at: datetime | None
    final_revision: int | None


def previews_due(conn: psycopg.Connection) -> list[DuePreview]:
    """Assembled previews whose newest revision is approved, past its undo window, with no
    final started."""
    return many(
        conn,
        DuePreview,
        """SELECT td.scene_id, td.revision, td.review_id, c.slug AS character,
                  t.slug AS scene_type, p.slug AS project
             FROM take_decisions td
             JOIN scenes s ON s.id = td.scene_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
             JOIN projects p ON p.id = s.project_id
            WHERE s.stage = 'preview' AND s.status = 'assembled' AND td.decision = 'approved'
              AND coalesce(td.undo_until, '-infinity') <= now()
              AND NOT EXISTS (SELECT 1 FROM take_finals f WHERE f.scene_id = s.id)
            ORDER BY td.scene_id""",
    )


def finals_to_make(conn: psycopg.Connection) -> list[FinalRun]:
    """Started finals whose take is not yet generated again (each wants a scenes run)."""
    return many(
        conn,
        FinalRun,
        """SELECT f.id AS final_id, s.id AS scene_id, c.slug AS character,
                  t.slug AS scene_type, p.slug AS project
             FROM take_finals f
             JOIN scenes s ON s.id = f.scene_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
             JOIN projects p ON p.id = s.project_id
            WHERE s.stage = 'final' AND s.status NOT IN ('generated', 'assembled', 'cancelled')
            ORDER BY f.id""",
    )


def take_stage(conn: psycopg.Connection, scene_id: int) -> TakeStage | None:
    """The take's stage and its final (None: its scene type makes no preview)."""
    rows = many(
        conn,
        TakeStage,
        """SELECT g.scene_id, g.stage, g.final_id, g.preview_revision, g.review_id,
                  u.username AS reviewer, g.method, w.name AS workflow, g.preview_width,
                  g.preview_height, g.width, g.height, g.final_started_at, g.final_revision
             FROM take_stages g
             LEFT JOIN reviews r ON r.id = g.review_id
             LEFT JOIN users u ON u.id = r.reviewer_id
             LEFT JOIN workflows w ON w.id = g.workflow_id
            WHERE g.scene_id = %s""",
        (scene_id,),
    )
    return rows[0] if rows else None


def lock_take(conn: psycopg.Connection, scene_id: int) -> None:
    """Hold the take's row until the transaction ends (one final start at a time)."""
    conn.execute("SELECT 1 FROM scenes WHERE id = %s FOR UPDATE", (scene_id,))


def begin_final(
    conn: psycopg.Connection,
    scene_id: int,
    *,
    preview_revision: int,
    review_id: int | None,
    method: str,
    workflow_id: int | None,
    preview_size: tuple[int, int],
    size: tuple[int, int],
    effective_config: dict,
    created_by: str,
) -> int | None:
    """Record the take's final and turn the take into it: its current (preview) segments
    superseded, its configuration the final's, back to generating. Returns the final's id,
    or None when the take already has one (nothing changed)."""
    with writing(conn, {"method": method}):
        row = conn.execute(
            """INSERT INTO take_finals (scene_id, preview_revision, review_id, method,
                                        workflow_id, preview_width, preview_height, width,
                                        height, created_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (scene_id) DO NOTHING RETURNING id""",
            (
                scene_id,
                preview_revision,
                review_id,
                method,
                workflow_id,
                *preview_size,
                *size,
                created_by,
            ),
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE segments SET current = false, status = 'superseded' "
            "WHERE scene_id = %s AND current",
            (scene_id,),
        )
        conn.execute(
            """UPDATE scenes SET stage = 'final', status = 'generating', uri = NULL,
                      sha256 = NULL, effective_config = %s
                WHERE id = %s""",
            (Jsonb(effective_config), scene_id),
        )
        return row[0]


@dataclass(frozen=True, slots=True)
class RevisionStage:
    """One revision of a take: its number, stage (None: no preview), size and decision."""

    revision: int
    stage: str | None
    frames: int | None
    sha256: str | None
    decision: str | None
    created_at: datetime


def revisions_of(conn: psycopg.Connection, scene_id: int) -> list[RevisionStage]:
    """Every revision of a take, oldest first, with its stage and the decision in force."""
    return many(
        conn,
        RevisionStage,
        """SELECT v.revision, v.stage, v.frames, v.sha256,
                  (SELECT r.decision FROM reviews r
                    WHERE r.scene_id = v.scene_id AND r.revision = v.revision AND r.current
                    ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS decision,
                  v.created_at
             FROM scene_revisions v WHERE v.scene_id = %s ORDER BY v.revision""",
        (scene_id,),
    )


def take_cell(conn: psycopg.Connection, scene_id: int) -> str:
    """The take's cell as the studio writes it: project/character/scene type."""
    row = conn.execute(
        """SELECT p.slug || '/' || c.slug || '/' || t.slug FROM scenes s
             JOIN projects p ON p.id = s.project_id JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id WHERE s.id = %s""",
        (scene_id,),
    ).fetchone()
    if row is None:
        raise NotFound("scene", scene_id)
    return row[0]


def final_in_progress(
    conn: psycopg.Connection, project: str, character: str, scene_type: str
) -> Take | None:
    """The cell's take whose final is being made (started, not yet assembled), if any: the
    take the cell's runs generate and assemble, even when a newer take stands beside it."""
    takes = [
        t
        for t in list_takes(conn, project, character, scene_type)
        if t.stage == "final" and t.status not in ("assembled", "cancelled")
    ]
    return takes[-1] if takes else None
