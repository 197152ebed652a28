"""The share page's views (PRD-84): what an outside reviewer sees of a `ShareVisit`
(apps/share_state.py): the take and, when the link allows, a comment form; a password form
when the link asks for one; a page saying why when the link cannot be used, with no media."""

import html

import panel as pn
import param

from apps.notices import NoticeBox
from apps.share_state import ShareVisit
from apps.video_player import VideoPlayer
from trulience.media.frame_times import FrameTimes

PLAYER_WIDTH = 960


def share_player(url: str, times: FrameTimes) -> pn.viewable.Viewable:
    """The shared take's player: the studio's frame-accurate browser player over the
    signed proxy (read-only: an outside reviewer steps, plays and reads timecode)."""
    return VideoPlayer(
        src=url,
        times=list(times.times),
        packets=None if times.packets is None else times.packets.to_data(),
        fps=times.fps,
        has_audio=times.has_audio,
        sizing_mode="stretch_width",
        css_classes=["share-video"],
    )


class PasswordForm(pn.viewable.Viewer):
    visit = param.ClassSelector(class_=ShareVisit)

    def __init__(self, **params):
        super().__init__(**params)
        self.password = pn.widgets.PasswordInput(placeholder="Password", width=260)
        self.button = pn.widgets.Button(label="Open", color="primary")
        self.button.on_click(lambda _: self.visit.open(self.password.value))
        self.layout = pn.Row(self.password, self.button)

    def __panel__(self) -> pn.Row:
        return self.layout


class CommentForm(pn.viewable.Viewer):
    visit = param.ClassSelector(class_=ShareVisit)

    def __init__(self, **params):
        super().__init__(**params)
        self.who = pn.widgets.TextInput(placeholder="Your name", width=240)
        self.frame = pn.widgets.IntInput(label="Frame", value=0, start=0, width=120)
        self.body = pn.widgets.TextAreaInput(placeholder="Your note", height=90, width=480)
        self.button = pn.widgets.Button(label="Send note", color="primary")
        self.button.on_click(self._send)
        self.layout = pn.Column(pn.Row(self.who, self.frame), self.body, self.button)

    def _send(self, _event: object) -> None:
        if self.visit.comment(self.who.value, self.body.value, self.frame.value) is not None:
            self.body.value = ""

    def __panel__(self) -> pn.Column:
        return self.layout


class ShareView(pn.viewable.Viewer):
    """The whole page body, following the visit's status."""

    visit = param.ClassSelector(class_=ShareVisit)

    def __init__(self, **params):
        super().__init__(**params)
        self.heading = pn.pane.Markdown("", css_classes=["share-heading"])
        self.notice = NoticeBox(session=self.visit)
        self.password = PasswordForm(visit=self.visit)
        self.comments = CommentForm(visit=self.visit)
        self.player = pn.Column(sizing_mode="stretch_width")
        self.body = pn.Column(self.heading, self.notice, sizing_mode="stretch_width")
        self.visit.param.watch(lambda *_: self._follow(), ["status", "heading", "media_src"])
        self._follow()

    def _follow(self) -> None:
        visit = self.visit
        self.heading.object = f"### {html.escape(visit.heading)}" if visit.heading else ""
        parts: list = [self.heading, self.notice]
        if visit.status == "password":
            parts.append(self.password.layout)
        elif visit.status == "open" and visit.media_src and visit.times is not None:
            self.player.objects = [share_player(visit.media_src, visit.times)]
            parts.append(self.player)
            if visit.allow_comments:
                parts.append(self.comments.layout)
        self.body.objects = parts

    def __panel__(self) -> pn.Column:
        return self.body
