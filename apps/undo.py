"""Undo for decisions just made, offered for their undo window and withdrawn when it closes.

`UndoOffer` is the offer itself: plain state (no Panel) an app's session holds and a test
drives; the review app's `UndoButton` (apps/review_views.py) shows it, naming the seconds
left and hiding by itself when the window closes (the service refuses a late undo anyway,
with the reason).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import param


class UndoOffer(param.Parameterized):
    """Decisions that may still be taken back (anything with an `undo_until`).

    `undo` is called with the decisions offered when the offer is taken up."""

    decisions = param.List([], doc="The decisions offered; empty when there is no offer.")
    seconds_left = param.Number(0.0, doc="How long the offer stands, from when it was made.")

    def __init__(self, undo: Callable[[list[Any]], None], **params: Any):
        super().__init__(**params)
        self._undo = undo

    def offer(self, decisions: Sequence[Any]) -> None:
        """Offer these decisions until the first of their windows closes (if one is open)."""
        self.withdraw()
        ends = [d.undo_until for d in decisions if d.undo_until is not None]
        left_s = (min(ends) - datetime.now(UTC)).total_seconds() if ends else 0.0
        if left_s > 0:
            self.param.update(seconds_left=left_s, decisions=list(decisions))

    def withdraw(self) -> None:
        """No offer (the window closed, or the decisions were undone)."""
        self.decisions = []

    def take_back(self) -> None:
        """Take the offer up: hand the offered decisions to `undo`."""
        decisions = self.decisions
        self.withdraw()
        if decisions:
            self._undo(decisions)
