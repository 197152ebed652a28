"""Review of assembled takes: the queue, decisions and frame notes (PRD-10, PRD-12, PRD-38).

Every function takes the acting user (a User, re-read from the database, or a session
token) and checks the permission here, not in the app: a request forged past any UI is
refused the same way. Changes are attributed to `user:<username>` in the audit log.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from trulience.auth.permissions import Permission, require
from trulience.auth.users import acting_user
from trulience.catalog import notes as catalog_notes
from trulience.catalog import reviews
from trulience.catalog.database import acting_as
from trulience.catalog.errors import InvalidValue
from trulience.catalog.records import Note, User
from trulience.catalog.tags import Subject
from trulience.errors import TrulienceError
from trulience.notify.notifications import (
    close_for_decision,
    default_recipients,
    notify,
    withdraw_for_review,
)
from trulience.review.drawn_notes import flatten_on_take, keep_drawing
from trulience.review.mentions import notify_mentions
from trulience.storage import Storage

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
# How long a decision can be taken back; an approval is handed to delivery only after it.
DEFAULT_UNDO_WINDOW_S = 10.0
# Decisions that ask first when the take still has open notes. An approval with a note
# nobody answered is usually a mistake; a rejection or flag is what open notes call for
# (the notes are its reasons), so asking there would only teach reviewers to click through.
WARN_OF_OPEN_NOTES = frozenset({"approved"})


class NotReviewable(TrulienceError):
    """A decision on scenes that do not exist or are not assembled takes."""

    def __init__(self, problems: dict[int, str]):
        self.problems = problems
        listed = "; ".join(f"scene {sid}: {why}" for sid, why in problems.items())
        super().__init__(f"nothing was decided: {listed}")


class OpenNotesRemain(TrulienceError):
    """Takes still have open notes: nothing was decided. Decide again with
    `acknowledge_open_notes=True` to decide anyway (the app asks the reviewer first)."""

    def __init__(self, decision: str, notes: dict[int, list[Note]]):
        self.decision = decision
        self.notes = notes
        listed = "; ".join(
            f"scene {sid}: {len(found)} open note{'s' if len(found) > 1 else ''} ("
            + ", ".join(_describe(n) for n in found[:3])
            + (", ..." if len(found) > 3 else "")
            + ")"
            for sid, found in notes.items()
        )
        super().__init__(
            f"not {decision}: {listed}; resolve them, or confirm to decide with them open"
        )


class UndoRefused(TrulienceError):
    """A decision that cannot be taken back: says why."""


def _describe(note: Note) -> str:
    where = "" if note.frame is None else f"frame {note.frame}: "
    body = note.body if len(note.body) <= 40 else note.body[:39] + "…"
    return f"{where}{body}"


# An assembled take waiting for a decision on its newest revision (the catalog's record).
Take = reviews.QueuedTake
# A note of a take's threads in reading order (the catalog's record).
ThreadedNote = catalog_notes.ThreadedNote


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision in force on a revision of a take.

    `request_delivery`: an approval, delivered once `undo_until` has passed (unless undone);
    `repeated`: the reviewer had already decided the same, and this is that decision (no
    second one was stored)."""

    review_id: int
    scene_id: int
    decision: str
    reviewer: str
    comment: str
    request_delivery: bool
    revision: int = 1
    undo_until: datetime | None = None
    repeated: bool = False
    open_notes_acknowledged: int = 0


@contextmanager
def _as(conn: psycopg.Connection, actor: Actor, permission: Permission) -> Iterator[User]:
    """One transaction acting as the checked user, attributed to them in the audit log."""
    user = acting_user(conn, actor)
    require(user, permission)
    with acting_as(conn, f"user:{user.username}"):
        yield user


def review_queue(conn: psycopg.Connection, actor: Actor, project: str | None = None) -> list[Take]:
    """Assembled takes whose newest revision has no decision, oldest take first (optionally
    of one project): a take rejected and regenerated is back with its new revision."""
    require(acting_user(conn, actor), Permission.VIEW)
    return reviews.awaiting_review(conn, project)


def _decision_code(decision: str) -> str:
    code = DECISIONS.get(decision.strip().lower())
    if code is None:
        raise InvalidValue("review", "decision", decision, "must be approve, reject or flag")
    return code


def _reviewable(
    conn: psycopg.Connection, scene_ids: list[int], revision: int | None
) -> dict[int, reviews.TakeDecision]:
    """The takes' newest revisions, locked against a new assembly until the decision is
    stored; NotReviewable for a take that is missing, not assembled, or (when `revision`
    is given) has a newer revision than the one the reviewer saw."""
    found = reviews.take_decisions(conn, scene_ids, lock=True)
    problems = {}
    for sid in scene_ids:
        take = found.get(sid)
        if take is None:
            problems[sid] = "no such scene"
        elif take.status != REVIEWABLE_STATUS:
            problems[sid] = f"status is {take.status!r}, not assembled"
        elif revision is not None and revision != take.revision:
            problems[sid] = (
                f"revision {revision} was replaced by revision {take.revision}: "
                "look at the new revision before deciding"
            )
    if problems:
        raise NotReviewable(problems)
    return found


def _decision(review: reviews.Review, repeated: bool = False) -> Decision:
    return Decision(
        review.id,
        review.scene_id,
        review.decision,
        review.reviewer,
        review.comment,
        # an approved preview is made final (PRD-59); only a final or plain take is delivered
        review.decision == "approved" and review.revision_stage != "preview",
        review.revision,
        review.undo_until,
        repeated,
        review.open_notes_acknowledged,
    )


def _decide_all(
    conn: psycopg.Connection,
    user: User,
    scene_ids: list[int],
    code: str,
    comment: str,
    revision: int | None,
    acknowledge_open_notes: bool,
    undo_window_s: float | None,
) -> list[Decision]:
    """Decide each take in one transaction: the same decision again is the one in force,
    open notes refuse an approval unless acknowledged, nothing is stored if any take fails."""
    takes = _reviewable(conn, scene_ids, revision)
    standing = {
        sid: reviews.current_review(conn, sid, takes[sid].revision, user.id) for sid in scene_ids
    }
    new = [sid for sid in scene_ids if standing[sid] is None or standing[sid].decision != code]
    open_notes = catalog_notes.open_notes_on_takes(conn, new) if new else {}
    if open_notes and code in WARN_OF_OPEN_NOTES and not acknowledge_open_notes:
        raise OpenNotesRemain(code, open_notes)
    window = DEFAULT_UNDO_WINDOW_S if undo_window_s is None else max(0.0, undo_window_s)
    decided = []
    for sid in scene_ids:
        if sid not in new:
            decided.append(_decision(standing[sid], repeated=True))
            continue
        review = reviews.record_review(
            conn,
            sid,
            takes[sid].revision,
            user.id,
            code,
            comment,
            window,
            len(open_notes.get(sid, [])),
        )
        close_for_decision(conn, "ready_for_review", sid, review.id)
        if code == "approved":
            notify(
                conn,
                "approved",
                {"scene_id": sid, "revision": review.revision, "review_id": review.id},
                f"scene {sid} (revision {review.revision}) was approved by {user.username} "
                + (
                    "and its final is made next"
                    if review.revision_stage == "preview"
                    else "and is ready for delivery"
                ),
            )
        decided.append(_decision(review))
    return decided


def decide(
    conn: psycopg.Connection,
    actor: Actor,
    scene_id: int,
    decision: str,
    comment: str = "",
    *,
    revision: int | None = None,
    acknowledge_open_notes: bool = False,
    undo_window_s: float | None = None,
) -> Decision:
    """Approve, reject or flag the newest revision of an assembled take.

    Each reviewer has one decision in force per revision: the same decision again returns
    it (nothing stored, nobody told twice); a different one supersedes it (kept in the
    catalog, no longer current). Give `revision` (the one the reviewer saw) to be refused
    if a newer revision has been assembled since. An approval of a take with open notes
    raises OpenNotesRemain unless `acknowledge_open_notes`. The decision can be taken back
    with `undo_decision` for `undo_window_s` (default DEFAULT_UNDO_WINDOW_S) seconds, and
    an approval goes to delivery only after that. The take's "ready for review"
    notifications are closed for everyone."""
    code = _decision_code(decision)
    with _as(conn, actor, Permission.REVIEW) as user:
        (made,) = _decide_all(
            conn,
            user,
            [scene_id],
            code,
            comment,
            revision,
            acknowledge_open_notes,
            undo_window_s,
        )
        return made


def batch_decide(
    conn: psycopg.Connection,
    actor: Actor,
    scene_ids: Iterable[int],
    decision: str,
    comment: str = "",
    *,
    acknowledge_open_notes: bool = False,
    undo_window_s: float | None = None,
) -> list[Decision]:
    """The same decision on the newest revision of several takes, all or nothing: one bad
    id, or open notes on one take of an approval not acknowledged, and none is decided.
    Otherwise as `decide`, take by take."""
    code = _decision_code(decision)
    ids = list(dict.fromkeys(scene_ids))  # once each, in the order given
    with _as(conn, actor, Permission.REVIEW) as user:
        return _decide_all(
            conn, user, ids, code, comment, None, acknowledge_open_notes, undo_window_s
        )


def undo_decision(conn: psycopg.Connection, actor: Actor, review_ids: int | Iterable[int]) -> None:
    """Take back one's own decisions (all or nothing) within their undo window: each is
    removed (the audit log keeps it), the reviewer's decision it superseded is in force
    again, the notifications it closed are open again and those it raised are gone. Refused
    with UndoRefused, and nothing changed, once the window has closed, once delivery of an
    approval was requested, or when a rejection already sent a segment back."""
    ids = [review_ids] if isinstance(review_ids, int) else list(dict.fromkeys(review_ids))
    with _as(conn, actor, Permission.REVIEW) as user:
        found = []
        for review_id in ids:
            review = reviews.get_review(conn, review_id)
            if review is not None:  # the take first, then its review: the order decide locks
                reviews.take_decisions(conn, [review.scene_id], lock=True)
                review = reviews.get_review(conn, review_id, lock=True)
            found.append(_undoable(conn, user, review_id, review))
        for review in found:
            withdraw_for_review(conn, review.id)
            reviews.withdraw_review(conn, review)


def _undoable(
    conn: psycopg.Connection, user: User, review_id: int, review: reviews.Review | None
) -> reviews.Review:
    """The review if `user` may take it back now; UndoRefused saying why not."""
    if review is None:
        raise UndoRefused(f"cannot undo review {review_id}: there is no such review")
    what = f"cannot undo the {review.decision} decision on scene {review.scene_id}"
    if review.reviewer_id != user.id:
        raise UndoRefused(f"{what}: only {review.reviewer}, who made it, can take it back")
    if not review.current:
        raise UndoRefused(f"{what}: a later decision replaced it; undo that one instead")
    started = reviews.delivery_started(conn, review)
    if started is not None:
        raise UndoRefused(f"{what}: {started}")
    if not review.undoable:
        raise UndoRefused(
            f"{what}: the undo window closed at {review.undo_until:%H:%M:%S}; decide again instead"
        )
    take = reviews.take_decisions(conn, [review.scene_id])[review.scene_id]
    if take.status != REVIEWABLE_STATUS or take.revision != review.revision:
        raise UndoRefused(
            f"{what}: the take has moved on (it is {take.status}, revision {take.revision}); "
            "a segment sent back for regeneration cannot be called back"
        )
    return review


def add_note(
    conn: psycopg.Connection,
    actor: Actor,
    scene_id: int,
    body: str,
    frame: int | None = None,
    reply_to: int | None = None,
    *,
    drawing: dict[str, Any] | str | None = None,
    storage: Storage | None = None,
) -> Note:
    """Write a note on a take, optionally at a frame or as a reply within the same take;
    each user it @mentions is told once. With `drawing` (Drawing JSON, PRD-70) the note is
    at the drawing's frame: the drawing is checked, flattened over that frame of the take's
    video into `storage` and recorded with the note, all or nothing."""
    with _as(conn, actor, Permission.WRITE_NOTES) as user:
        if reply_to is not None and catalog_notes.scene_of_note(conn, reply_to) != scene_id:
            raise InvalidValue("note", "reply_to", reply_to, f"is not a note on scene {scene_id}")
        drawn = None
        if drawing is not None:
            drawn = flatten_on_take(conn, storage, scene_id, drawing, frame)
            frame = drawn.frame
        note = catalog_notes.add_note(
            conn, user.username, body, Subject(scene_id=scene_id), frame, reply_to
        )
        others = [u for u in default_recipients(conn, "note_added") if u != user.username]
        where = "" if frame is None else f" at frame {frame}"
        notify(
            conn,
            "note_added",
            {"scene_id": scene_id, "note_id": note.id, "frame": frame, "drawn": drawn is not None},
            f"{user.username} {'drew' if drawn else 'wrote'} a note on scene {scene_id}{where}",
            users=others,
        )
        notify_mentions(conn, user, note, Subject(scene_id=scene_id))
        if drawn is not None and storage is not None:  # last: nothing after it can fail
            keep_drawing(conn, storage, scene_id, note.id, drawn)
        return note


def notes_for(conn: psycopg.Connection, actor: Actor, scene_id: int) -> list[ThreadedNote]:
    """A take's notes in reading order: each thread oldest first, replies under their note."""
    require(acting_user(conn, actor), Permission.VIEW)
    return catalog_notes.threads_on_take(conn, scene_id)


def resolve_note(conn: psycopg.Connection, actor: Actor, note_id: int) -> Note:
    """Mark a note resolved (its thread stays readable). Needs the write-notes permission."""
    return _set_note_status(conn, actor, note_id, "resolved")


def reopen_note(conn: psycopg.Connection, actor: Actor, note_id: int) -> Note:
    """Mark a resolved note open again. Needs the write-notes permission."""
    return _set_note_status(conn, actor, note_id, "open")


def _set_note_status(conn: psycopg.Connection, actor: Actor, note_id: int, status: str) -> Note:
    with _as(conn, actor, Permission.WRITE_NOTES):
        return catalog_notes.set_note_status(conn, note_id, status)
