"""Reviews of a take's revisions: the queue, decisions, their undo and delivery requests.

What is reviewable, and what a take's decision is, is one SQL view (`take_decisions`,
sql/migrations/0014): every function here reads it rather than restating the rule.
"""

from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.catalog.errors import writing
from trulience.catalog.fetch import many

_REVIEW_COLUMNS = (
    "r.id, r.scene_id, r.revision, r.reviewer_id, u.username AS reviewer, r.decision, "
    "r.comment, r.current, r.supersedes, r.undo_until, r.delivery_requested_at, "
    "r.open_notes_acknowledged, r.created_at, "
    "coalesce(r.undo_until > now(), false) AS undoable, "  # the database's clock decides
    "(SELECT v.stage FROM scene_revisions v WHERE v.scene_id = r.scene_id "
    "AND v.revision = r.revision) AS revision_stage"
)


@dataclass(frozen=True, slots=True)
class QueuedTake:
    """An assembled take in the review queue: its newest revision, whether anyone decided
    on it yet, and who is to review it by when."""

    scene_id: int
    project: str
    character: str
    scene_type: str
    take: int
    uri: str | None
    frames: int | None
    created_at: datetime
    revision: int
    # as the review queue (view review_queue, 0020) has them; defaults for a bare listing
    waiting_since: datetime | None = None
    review_status: str = "awaiting"
    assignee: str | None = None
    due_at: datetime | None = None
    assigned_by: str | None = None
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class TakeDecision:
    """A take's newest revision and the decision in force on it (None: undecided)."""

    scene_id: int
    status: str
    revision: int
    revision_sha256: str | None
    review_id: int | None
    decision: str | None
    decided_at: datetime | None
    undo_until: datetime | None
    delivery_requested_at: datetime | None
    awaiting_review: bool


@dataclass(frozen=True, slots=True)
class Review:
    """One stored decision of one reviewer on one revision of a take."""

    id: int
    scene_id: int
    revision: int
    reviewer_id: int
    reviewer: str
    decision: str
    comment: str
    current: bool
    supersedes: int | None
    undo_until: datetime | None
    delivery_requested_at: datetime | None
    open_notes_acknowledged: int
    created_at: datetime
    undoable: bool  # within its undo window now
    revision_stage: str | None = None  # preview / final (0032); None: no preview made


@dataclass(frozen=True, slots=True)
class SegmentAt:
    """A take's current segment and the frame of the take it starts at."""

    segment_id: int
    start_frame: int


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """An approved revision whose undo window has closed, to be delivered."""

    scene_id: int
    revision: int
    character: str
    scene_type: str
    project: str


def awaiting_review(conn: psycopg.Connection, project: str | None = None) -> list[QueuedTake]:
    """Takes awaiting review (newest revision undecided), oldest take first."""
    return many(
        conn,
        QueuedTake,
        """SELECT s.id AS scene_id, p.slug AS project, c.slug AS character,
                  st.slug AS scene_type, s.take, s.uri, s.frames, s.created_at, td.revision
             FROM take_decisions td
             JOIN scenes s ON s.id = td.scene_id
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types st ON st.id = s.scene_type_id
            WHERE td.awaiting_review
              AND (%(project)s::text IS NULL OR p.slug = %(project)s)
            ORDER BY s.created_at, s.id""",
        {"project": project},
    )


def take_decisions(
    conn: psycopg.Connection, scene_ids: list[int], lock: bool = False
) -> dict[int, TakeDecision]:
    """The newest revision and decision in force of each take found, by scene id. With
    `lock`, the takes' rows are locked until the transaction ends (nothing can assemble a
    new revision or change their status between this read and a decision)."""
    if lock:
        conn.execute("SELECT 1 FROM scenes WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (scene_ids,))
    rows = many(
        conn,
        TakeDecision,
        """SELECT td.scene_id, s.status, td.revision, td.revision_sha256, td.review_id,
                  td.decision, td.decided_at, td.undo_until, td.delivery_requested_at,
                  td.awaiting_review
             FROM take_decisions td JOIN scenes s ON s.id = td.scene_id
            WHERE td.scene_id = ANY(%s)""",
        (scene_ids,),
    )
    return {row.scene_id: row for row in rows}


def newest_revision(conn: psycopg.Connection, scene_id: int) -> int:
    """The number of a take's newest revision (0: never assembled)."""
    row = conn.execute(
        "SELECT coalesce(max(revision), 0) FROM scene_revisions WHERE scene_id = %s",
        (scene_id,),
    ).fetchone()
    return int(row[0])


def current_review(
    conn: psycopg.Connection, scene_id: int, revision: int, reviewer_id: int
) -> Review | None:
    """The reviewer's decision in force on a revision, if any."""
    rows = many(
        conn,
        Review,
        f"""SELECT {_REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.reviewer_id
             WHERE r.scene_id = %s AND r.revision = %s AND r.reviewer_id = %s AND r.current""",
        (scene_id, revision, reviewer_id),
    )
    return rows[0] if rows else None


def get_review(conn: psycopg.Connection, review_id: int, lock: bool = False) -> Review | None:
    """One stored review (locked until the transaction ends with `lock`), if it exists."""
    rows = many(
        conn,
        Review,
        f"""SELECT {_REVIEW_COLUMNS} FROM reviews r JOIN users u ON u.id = r.reviewer_id
             WHERE r.id = %s {"FOR UPDATE OF r" if lock else ""}""",
        (review_id,),
    )
    return rows[0] if rows else None


def record_review(
    conn: psycopg.Connection,
    scene_id: int,
    revision: int,
    reviewer_id: int,
    decision: str,
    comment: str,
    undo_window_s: float,
    open_notes_acknowledged: int = 0,
) -> Review:
    """Store a decision on a revision; the catalog makes it the reviewer's current one and
    marks their previous one on that revision superseded (trigger `reviews_supersede`)."""
    with writing(conn, {"decision": decision, "comment": comment}):
        (review_id,) = conn.execute(
            """INSERT INTO reviews (scene_id, revision, reviewer_id, decision, comment,
                                    undo_until, open_notes_acknowledged)
               VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s), %s)
               RETURNING id""",
            (
                scene_id,
                revision,
                reviewer_id,
                decision,
                comment,
                undo_window_s,
                open_notes_acknowledged,
            ),
        ).fetchone()
    review = get_review(conn, review_id)
    assert review is not None
    return review


def delivery_started(conn: psycopg.Connection, review: Review) -> str | None:
    """Why the review's revision can no longer be withdrawn from delivery (None: it can)."""
    if review.delivery_requested_at is not None:
        return f"delivery was requested at {review.delivery_requested_at:%H:%M:%S}"
    row = conn.execute(
        "SELECT status FROM deliverables WHERE scene_id = %s AND revision = %s "
        "ORDER BY id DESC LIMIT 1",
        (review.scene_id, review.revision),
    ).fetchone()
    return None if row is None else f"it was already delivered (deliverable {row[0]})"


def withdraw_review(conn: psycopg.Connection, review: Review) -> None:
    """Remove a decision as if it had not been made: the reviewer's decision it superseded
    is theirs again. The audit log keeps the removed row."""
    with writing(conn):
        conn.execute("DELETE FROM reviews WHERE id = %s", (review.id,))
        if review.supersedes is not None:
            conn.execute("UPDATE reviews SET current = true WHERE id = %s", (review.supersedes,))


def request_deliveries(conn: psycopg.Connection) -> list[DeliveryRequest]:
    """Approved newest revisions of assembled takes (never a preview: PRD-59), past their
    undo window and not yet delivered; each is marked as requested the first time (from
    then on it cannot be undone), and listed again until its deliverable is recorded."""
    with writing(conn):
        return many(
            conn,
            DeliveryRequest,
            """WITH due AS (
                   SELECT td.review_id, td.scene_id, td.revision, td.delivery_requested_at
                     FROM take_decisions td
                     JOIN scenes s ON s.id = td.scene_id
                    WHERE s.status = 'assembled' AND td.decision = 'approved'
                      -- a preview is never delivered: its approval makes its final (0032)
                      AND td.revision_stage IS DISTINCT FROM 'preview'
                      AND s.stage IS DISTINCT FROM 'preview'
                      AND coalesce(td.undo_until, '-infinity') <= now()
                      AND NOT EXISTS (
                          SELECT 1 FROM deliverables d
                           WHERE d.scene_id = td.scene_id
                             AND (d.revision = td.revision OR d.revision IS NULL))
               ), marked AS (
                   -- waits for an undo in progress; a row it removed is skipped
                   UPDATE reviews r SET delivery_requested_at = now()
                     FROM due WHERE r.id = due.review_id AND due.delivery_requested_at IS NULL
                   RETURNING r.scene_id, r.revision
               ), chosen AS (
                   SELECT scene_id, revision FROM due WHERE delivery_requested_at IS NOT NULL
                   UNION ALL
                   SELECT scene_id, revision FROM marked
               )
               SELECT m.scene_id, m.revision, c.slug AS character, t.slug AS scene_type,
                      p.slug AS project
                 FROM chosen m
                 JOIN scenes s ON s.id = m.scene_id
                 JOIN characters c ON c.id = s.character_id
                 JOIN scene_types t ON t.id = s.scene_type_id
                 JOIN projects p ON p.id = s.project_id
                ORDER BY m.scene_id""",
        )


def sent_back_for_regeneration(conn: psycopg.Connection) -> list[tuple[str, str, str, int, int]]:
    """Takes a reviewer rejected with a segment sent back, waiting to be regenerated:
    (character, scene type, project, scene id, superseded segment count)."""
    return conn.execute(
        """SELECT c.slug, t.slug, p.slug, s.id, count(g.id)::int FROM take_decisions td
             JOIN scenes s ON s.id = td.scene_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types t ON t.id = s.scene_type_id
             JOIN projects p ON p.id = s.project_id
             JOIN segments g ON g.scene_id = s.id AND g.status = 'superseded'
            WHERE s.status = 'generating' AND td.decision = 'rejected'
            GROUP BY 1, 2, 3, 4 ORDER BY 4"""
    ).fetchall()


def current_segment_at(conn: psycopg.Connection, scene_id: int, index: int) -> SegmentAt | None:
    """The take's current segment `index` and its first frame (None: there is none)."""
    rows = many(
        conn,
        SegmentAt,
        """SELECT g.id AS segment_id,
                  (SELECT coalesce(sum(p.frames), 0)::int FROM current_segment_frames p
                    WHERE p.scene_id = g.scene_id AND p.index < g.index)
                  AS start_frame
             FROM segments g WHERE g.scene_id = %s AND g.index = %s AND g.current""",
        (scene_id, index),
    )
    return rows[0] if rows else None


def send_segment_back(conn: psycopg.Connection, scene_id: int, segment_id: int) -> None:
    """Supersede the take's segment and put the take back to generating (its file gone),
    so the loop regenerates that segment."""
    with writing(conn):
        conn.execute(
            "UPDATE segments SET current = false, status = 'superseded' WHERE id = %s",
            (segment_id,),
        )
        conn.execute(
            "UPDATE scenes SET status = 'generating', uri = NULL, sha256 = NULL WHERE id = %s",
            (scene_id,),
        )
