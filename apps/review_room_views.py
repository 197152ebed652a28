"""The review room's controls (PRD-11): start a room on the open take, join it, leave it,
and who presents and follows; a Panel view of a `ReviewRoom`."""

from collections.abc import Callable

import panel as pn
import param

from apps.review_room import ALONE, FOLLOWER, PRESENTER, ReviewRoom


class RoomView(pn.viewable.Viewer):
    """Start room / Join room / Leave room and the room's people. `open_take` says which
    take is open (its id is the room's)."""

    room = param.ClassSelector(class_=ReviewRoom)

    def __init__(self, room: ReviewRoom, open_take: Callable[[], int | None]):
        super().__init__(room=room)
        self.start = pn.widgets.Button(label="Start room", css_classes=["room-start"])
        self.start.on_click(lambda _: room.start(open_take()))
        self.join = pn.widgets.Button(label="Join room", css_classes=["room-join"])
        self.join.on_click(lambda _: room.join(open_take()))
        self.leave = pn.widgets.Button(
            label="Leave room", visible=False, css_classes=["room-leave"]
        )
        self.leave.on_click(lambda _: room.leave())
        self.who = pn.pane.Markdown("", css_classes=["room-who"])
        room.param.watch(lambda *_: self._follow(), ["role", "presenter", "followers"])
        self._follow()

    def _follow(self) -> None:
        room = self.room
        alone = room.role == ALONE
        self.start.visible = self.join.visible = alone
        self.leave.visible = not alone
        if room.role == PRESENTER:
            people = ", ".join(room.followers) or "nobody yet"
            self.who.object = f"**Presenting** · following: {people}"
        elif room.role == FOLLOWER:
            self.who.object = (
                f"**Following {room.presenter}** · your stepping follows the presenter"
                if room.presenter
                else "**In the room** · waiting for the presenter"
            )
        else:
            self.who.object = "Review room: present this take, or follow who presents it."

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.FlexBox(self.start, self.join, self.leave, flex_wrap="wrap", align_items="center"),
            self.who,
            sizing_mode="stretch_width",
            css_classes=["review-room"],
        )
