"""Reviewing assembled takes: queue, decisions and notes, with permissions enforced."""

from trulience.review.service import (
    Decision,
    NotReviewable,
    Take,
    ThreadedNote,
    add_note,
    batch_decide,
    decide,
    notes_for,
    reopen_note,
    resolve_note,
    review_queue,
)

__all__ = [
    "Decision",
    "NotReviewable",
    "Take",
    "ThreadedNote",
    "add_note",
    "batch_decide",
    "decide",
    "notes_for",
    "reopen_note",
    "resolve_note",
    "review_queue",
]
