"""The Undo / Redo pair any page (or the Studio's header) can include (PRD-51).

`EditsBar(state=EditsState(...))` shows two buttons named after what they would do
("Undo: set age of ada"), disabled when there is nothing to undo or redo, and the notice of
the last outcome (a refusal names the later edit that blocks it). In the Studio's header:
`EditsBar(state=..., color="light", with_notice=False)`, the state's `notice` said in the
shell's own notice box."""

import panel as pn
import panel_material_ui as pmui
import param

from apps.edits_state import EditsState
from apps.notices import NoticeBox


class EditsBar(pn.viewable.Viewer):
    """Undo and Redo buttons following an `EditsState`."""

    state = param.ClassSelector(class_=EditsState)
    color = param.String(default="primary", doc="The buttons' colour ('light' on the header).")
    with_notice = param.Boolean(default=True, doc="Show the outcome below the buttons.")

    def __init__(self, **params):
        super().__init__(**params)
        self.undo_button = pmui.Button(label="Undo", icon="undo", variant="text", color=self.color)
        self.redo_button = pmui.Button(label="Redo", icon="redo", variant="text", color=self.color)
        self.undo_button.on_click(lambda _: self.state.undo())
        self.redo_button.on_click(lambda _: self.state.redo())
        self.notice = NoticeBox(session=self.state)
        self.state.param.watch(lambda *_: self._follow(), ["undo_label", "redo_label"])
        self._follow()

    def _follow(self) -> None:
        self.undo_button.param.update(
            label=self.state.undo_text, disabled=self.state.undo_label is None
        )
        self.redo_button.param.update(
            label=self.state.redo_text, disabled=self.state.redo_label is None
        )

    def __panel__(self) -> pn.viewable.Viewable:
        buttons = pn.Row(self.undo_button, self.redo_button, align="center")
        return pn.Column(buttons, self.notice) if self.with_notice else buttons
