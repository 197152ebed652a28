"""Undo for decisions just made, offered for their undo window and withdrawn when it closes.

`UndoOffer` is the offer itself (plain state an app's session holds and a test can drive);
`UndoButton` shows it: an Undo button naming the seconds left, hidden by itself when the
window closes (the service refuses a late undo anyway, with the reason).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import panel as pn
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


class UndoButton(pn.viewable.Viewer):
    """The Undo button of an offer: shown with the seconds left while it stands."""

    offer = param.ClassSelector(class_=UndoOffer)

    def __init__(self, offer: UndoOffer, css_class: str):
        super().__init__(offer=offer)
        self._timer: pn.io.PeriodicCallback | None = None
        self.button = pn.widgets.Button(
            label="Undo", color="light", visible=False, css_classes=["undo-offer", css_class]
        )
        self.button.on_click(lambda _: offer.take_back())
        offer.param.watch(lambda _: self._follow(), "decisions", onlychanged=False)

    def _follow(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        left_s = self.offer.seconds_left
        self.button.visible = bool(self.offer.decisions)
        if not self.button.visible:
            return
        self.button.label = f"Undo ({round(left_s)} s)"
        if pn.state.curdoc is not None:  # in a served page; a plain Python test has none
            self._timer = pn.state.add_periodic_callback(
                self.offer.withdraw, period=max(1, int(left_s * 1000)), count=1
            )

    def __panel__(self) -> pn.widgets.Button:
        return self.button
