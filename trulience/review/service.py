"""Review of assembled takes: the queue, decisions and frame notes (PRD-10, PRD-12, PRD-38).

Every function takes the acting user (a User, re-read from the database, or a session
token) and checks the permission here, not in the app: a request forged past any UI is
refused the same way. Changes are attributed to `user:<username>` in the audit log.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg

from trulience.auth.permissions import Permission, require
from trulience.auth.users import acting_user
from trulience.catalog import notes as catalog_notes
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue, writing
from trulience.catalog.fetch import many, one
from trulience.catalog.records import Note, User
from trulience.catalog.tags import Subject
from trulience.errors import TrulienceError
from trulience.notify.notifications import default_recipients, notify

Actor = User | str  # a User, or the token of a session

# The verbs a reviewer uses, and the review_decisions codes they record.
DECISIONS = {
    "approve": "approved",
    "reject": "rejected",
    "flag": "flagged",
    "approved": "approved",
    "rejected": "rejected",
    "flagged": "flagged",
}
REVIEWABLE_STATUS = "assembled"


class NotReviewable(TrulienceError):
    """A decision on scenes that do not exist or are not assembled takes."""

    def __init__(self, problems: dict[int, str]):
        self.problems = problems
        listed = "; ".join(f"scene {sid}: {why}" for sid, why in problems.items())
        super().__init__(f"nothing was decided: {listed}")


@dataclass(frozen=True, slots=True)
class Take:
    """An assembled take waiting for a decision."""

    scene_id: int
    project: str
    character: str
    scene_type: str
    take: int
    uri: str | None
    frames: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """A recorded review; `request_delivery` tells the caller to start delivery."""

    review_id: int
    scene_id: int
    decision: str
    reviewer: str
    comment: str
    request_delivery: bool


@dataclass(frozen=True, slots=True)
class ThreadedNote:
    """A note in reading order: `depth` is 0 for a thread's first note, 1 for a reply..."""

    id: int
    parent_id: int | None
    author: str
    body: str
    frame: int | None
    status: str
    depth: int
    created_at: datetime


@contextmanager
def _as(conn: psycopg.Connection, actor: Actor, permission: Permission) -> Iterator[User]:
    """One transaction acting as the checked user, attributed to them in the audit log."""
    user = acting_user(conn, actor)
    require(user, permission)
    with acting_as(conn, f"user:{user.username}"):
        yield user


def review_queue(conn: psycopg.Connection, actor: Actor, project: str | None = None) -> list[Take]:
    """Assembled takes with no decision yet, oldest first (optionally of one project)."""
    require(acting_user(conn, actor), Permission.VIEW)
    return many(
        conn,
        Take,
        """SELECT s.id AS scene_id, p.slug AS project, c.slug AS character,
                  st.slug AS scene_type, s.take, s.uri, s.frames, s.created_at
             FROM scenes s
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types st ON st.id = s.scene_type_id
            WHERE s.status = %(status)s
              AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.scene_id = s.id)
              AND (%(project)s::text IS NULL OR p.slug = %(project)s)
            ORDER BY s.created_at, s.id""",
        {"status": REVIEWABLE_STATUS, "project": project},
    )


def _decision_code(decision: str) -> str:
    code = DECISIONS.get(decision.strip().lower())
    if code is None:
        raise InvalidValue("review", "decision", decision, "must be approve, reject or flag")
    return code


def _refuse_unreviewable(conn: psycopg.Connection, scene_ids: list[int]) -> None:
    # FOR UPDATE: a take cannot leave "assembled" between this check and the decision
    rows = dict(
        conn.execute(
            "SELECT id, status FROM scenes WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            (scene_ids,),
        ).fetchall()
    )
    problems = {
        sid: "no such scene" if sid not in rows else f"status is {rows[sid]!r}, not assembled"
        for sid in scene_ids
        if rows.get(sid) != REVIEWABLE_STATUS
    }
    if problems:
        raise NotReviewable(problems)


def _record(
    conn: psycopg.Connection, user: User, scene_id: int, code: str, comment: str
) -> Decision:
    with writing(conn, {"decision": code, "comment": comment}):
        review_id = conn.execute(
            "INSERT INTO reviews (scene_id, reviewer_id, decision, comment) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            (scene_id, user.id, code, comment),
        ).fetchone()[0]
    approved = code == "approved"
    if approved:
        notify(
            conn,
            "approved",
            {"scene_id": scene_id, "review_id": review_id},
            f"scene {scene_id} was approved by {user.username} and is ready for delivery",
        )
    return Decision(review_id, scene_id, code, user.username, comment, approved)


def decide(
    conn: psycopg.Connection, actor: Actor, scene_id: int, decision: str, comment: str = ""
) -> Decision:
    """Approve, reject or flag one assembled take (a later decision supersedes an earlier)."""
    code = _decision_code(decision)
    with _as(conn, actor, Permission.REVIEW) as user:
        _refuse_unreviewable(conn, [scene_id])
        return _record(conn, user, scene_id, code, comment)


def batch_decide(
    conn: psycopg.Connection,
    actor: Actor,
    scene_ids: Iterable[int],
    decision: str,
    comment: str = "",
) -> list[Decision]:
    """The same decision on several takes, all or nothing: one bad id and none is decided."""
    code = _decision_code(decision)
    ids = list(dict.fromkeys(scene_ids))  # once each, in the order given
    with _as(conn, actor, Permission.REVIEW) as user:
        _refuse_unreviewable(conn, ids)
        return [_record(conn, user, sid, code, comment) for sid in ids]


def add_note(
    conn: psycopg.Connection,
    actor: Actor,
    scene_id: int,
    body: str,
    frame: int | None = None,
    reply_to: int | None = None,
) -> Note:
    """Write a note on a take, optionally at a frame or as a reply within the same take."""
    with _as(conn, actor, Permission.WRITE_NOTES) as user:
        if reply_to is not None:
            parent = conn.execute("SELECT scene_id FROM notes WHERE id = %s", (reply_to,))
            row = parent.fetchone()
            if row is None or row[0] != scene_id:
                raise InvalidValue(
                    "note", "reply_to", reply_to, f"is not a note on scene {scene_id}"
                )
        note = catalog_notes.add_note(
            conn, user.username, body, Subject(scene_id=scene_id), frame, reply_to
        )
        others = [u for u in default_recipients(conn, "note_added") if u != user.username]
        where = "" if frame is None else f" at frame {frame}"
        notify(
            conn,
            "note_added",
            {"scene_id": scene_id, "note_id": note.id, "frame": frame},
            f"{user.username} wrote a note on scene {scene_id}{where}",
            users=others,
        )
        return note


def notes_for(conn: psycopg.Connection, actor: Actor, scene_id: int) -> list[ThreadedNote]:
    """A take's notes in reading order: each thread oldest first, replies under their note."""
    require(acting_user(conn, actor), Permission.VIEW)
    return many(
        conn,
        ThreadedNote,
        """WITH RECURSIVE thread AS (
               SELECT id, parent_id, author_id, body, frame, status, created_at,
                      0 AS depth, ARRAY[id] AS path
                 FROM notes WHERE scene_id = %s AND parent_id IS NULL
               UNION ALL
               SELECT n.id, n.parent_id, n.author_id, n.body, n.frame, n.status, n.created_at,
                      t.depth + 1, t.path || n.id
                 FROM notes n JOIN thread t ON n.parent_id = t.id
           )
           SELECT t.id, t.parent_id, u.username AS author, t.body, t.frame, t.status,
                  t.depth, t.created_at
             FROM thread t JOIN users u ON u.id = t.author_id
            ORDER BY t.path""",
        (scene_id,),
    )


def resolve_note(conn: psycopg.Connection, actor: Actor, note_id: int) -> Note:
    """Mark a note resolved (its thread stays readable). Needs the write-notes permission."""
    return _set_note_status(conn, actor, note_id, "resolved")


def reopen_note(conn: psycopg.Connection, actor: Actor, note_id: int) -> Note:
    """Mark a resolved note open again. Needs the write-notes permission."""
    return _set_note_status(conn, actor, note_id, "open")


def _set_note_status(conn: psycopg.Connection, actor: Actor, note_id: int, status: str) -> Note:
    with _as(conn, actor, Permission.WRITE_NOTES), writing(conn, {"status": status}):
        return one(
            conn,
            Note,
            "UPDATE notes SET status = %s WHERE id = %s "
            "RETURNING id, author_id, parent_id, body, status, frame, created_at",
            (status, note_id),
            "note",
            note_id,
        )
