"""Undo for decisions just made, offered for their undo window and withdrawn when it closes."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import panel as pn


class UndoOffer:
    """An Undo button for decisions just made, shown for their undo window and withdrawn by
    itself when it closes (the service refuses a late undo anyway, with the reason).

    `undo` is called with the decisions offered (anything with an `undo_until`)."""

    def __init__(self, undo: Callable[[list[Any]], None], css_class: str):
        self._undo = undo
        self._decisions: list[Any] = []
        self._timer: pn.io.PeriodicCallback | None = None
        self.button = pn.widgets.Button(
            label="Undo", color="light", visible=False, css_classes=["undo-offer", css_class]
        )
        self.button.on_click(lambda _: self.take_back())

    def offer(self, decisions: Sequence[Any]) -> None:
        """Show Undo for these decisions until the first of their windows closes."""
        self.withdraw()
        ends = [d.undo_until for d in decisions if d.undo_until is not None]
        left_s = (min(ends) - datetime.now(UTC)).total_seconds() if ends else 0.0
        if left_s <= 0:
            return
        self._decisions = list(decisions)
        self.button.label = f"Undo ({round(left_s)} s)"
        self.button.visible = True
        if pn.state.curdoc is not None:  # in a served page; a plain Python test has none
            self._timer = pn.state.add_periodic_callback(
                self.withdraw, period=max(1, int(left_s * 1000)), count=1
            )

    def withdraw(self) -> None:
        """Hide the offer (the window closed, or the decisions were undone)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._decisions = []
        self.button.visible = False

    def take_back(self) -> None:
        """The Undo button: hand the offered decisions to `undo`."""
        decisions = self._decisions
        self.withdraw()
        if decisions:
            self._undo(decisions)
