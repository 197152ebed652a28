"""Reviewing assembled takes: queue, decisions and notes, with permissions enforced."""

from trulience.review.service import (
    DEFAULT_UNDO_WINDOW_S,
    Decision,
    NotReviewable,
    OpenNotesRemain,
    Take,
    ThreadedNote,
    UndoRefused,
    add_note,
    batch_decide,
    decide,
    notes_for,
    reopen_note,
    resolve_note,
    review_queue,
    undo_decision,
)

__all__ = [
    "DEFAULT_UNDO_WINDOW_S",
    "Decision",
    "NotReviewable",
    "OpenNotesRemain",
    "Take",
    "ThreadedNote",
    "UndoRefused",
    "add_note",
    "batch_decide",
    "decide",
    "notes_for",
    "reopen_note",
    "resolve_note",
    "review_queue",
    "undo_decision",
]
