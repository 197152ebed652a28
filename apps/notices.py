"""What an app's session says after an action, apart from the box that shows it.

A session state mixes in `Says`: its `say(message, kind)` is the action runner's sink
(apps/actions.py) and `notice` holds what was said, `(message, kind)` with `kind` a
Bootstrap alert type, or None when nothing is shown. `NoticeBox` is the view: the studio's
notice box (apps/theme.py) following a session's `notice`.
"""

import panel as pn
import param

from apps import theme


class Says(param.Parameterized):
    """A session that says the outcome of its actions in one notice."""

    notice = param.Tuple(
        default=None, allow_None=True, length=2, doc="(message, Bootstrap kind); None: hidden."
    )

    def say(self, message: str, kind: str) -> None:
        """Show `message` as a notice of kind `kind` (the action runner's sink)."""
        self.notice = (message, kind)

    def hush(self) -> None:
        """Hide the notice."""
        self.notice = None


class NoticeBox(pn.viewable.Viewer):
    """The notice box of a session that `Says`: hidden, or its message in a box of its kind."""

    session = param.ClassSelector(class_=Says)

    def __init__(self, **params):
        super().__init__(**params)
        self.box = theme.notice()
        self.session.param.watch(self._follow, "notice")

    def _follow(self, event: param.parameterized.Event) -> None:
        if event.new is None:
            self.box.visible = False
        else:
            theme.show(self.box, *event.new)

    def __panel__(self) -> pn.pane.Alert:
        return self.box
