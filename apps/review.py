"""The review app: log in, pick a take from the queue, step it frame by frame, decide, note.

The queue filters by project and character and approves several takes at once; the player
shows the take's storyboard, rejects the segment under the current frame, lays the
neighbouring frames over the current one (onion skin) and enlarges a region of it (zoom);
notes are threaded, with replies, and resolved or reopened; a tray lists the user's unread
notifications. Keys are the logged-in user's own shortcut table (`trulience users
shortcuts`); the layout stacks on a tablet or phone (PRD-55).

Serve with `panel serve apps/review.py`. Every action calls `trulience.review` with the
session's token, so permissions and the audit log hold exactly as in the pipeline; the app
only turns refusals into messages. Frames are decoded on the server by index (PRD-37), never
by seeking a browser <video> to a time, so "frame N" is the frame the reviewer sees.
"""

import html
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import panel as pn

from apps import theme
from apps.actions import refusal
from apps.images import png_data_url, png_file_data_url
from apps.login import Login, SignedIn, typed
from apps.shortcuts import ShortcutKeys
from apps.undo import UndoOffer
from trulience.auth import users as accounts
from trulience.auth.errors import PermissionDenied, SessionRefused
from trulience.auth.permissions import Permission, allows
from trulience.catalog.database import connect, database_url
from trulience.catalog.scenes import current_segments
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.media.frames import frame_at
from trulience.media.probe import probe
from trulience.notify import mark_read, unread
from trulience.review import (
    Decision,
    OpenNotesRemain,
    Take,
    ThreadedNote,
    add_note,
    batch_decide,
    decide,
    notes_for,
    reopen_note,
    resolve_note,
    review_queue,
    undo_decision,
)
from trulience.review.onion_skin import NEIGHBOURS, neighbour_indices, onion_skin
from trulience.review.regenerate import reject_segment
from trulience.review.zoom import FACTORS, REGIONS, zoom
from trulience.storage import Storage

_VERB_DONE = {"approve": "approved", "reject": "rejected", "flag": "flagged"}
ALL = "(all)"
ZOOM_OFF = "off"
# Decoded frames kept per session: onion skin re-reads the neighbours of each frame.
_FRAME_CACHE = 8
# The player's size on a wide screen; it shrinks with a narrow one (PRD-55).
PLAYER_WIDTH = 384


@dataclass(frozen=True, slots=True)
class SegmentSpan:
    """A current segment of the open take and the take's frames it covers, [start, end)."""

    index: int
    start: int
    end: int


def segment_spans(frames_by_index: dict[int, int | None]) -> list[SegmentSpan]:
    """Segment boundaries in take frames, from each current segment's frame count."""
    spans, start = [], 0
    for index in sorted(frames_by_index):
        end = start + (frames_by_index[index] or 0)
        spans.append(SegmentSpan(index, start, end))
        start = end
    return spans


def storyboard_key(video_key: str) -> str | None:
    """Where a take's storyboard is stored: beside its `scene.mp4`, if it is one."""
    folder, _, name = video_key.rpartition("/")
    return f"{folder}/storyboard.png" if name == "scene.mp4" else None


class ReviewApp:
    """One browser session of the review app; holds that session's login token."""

    def __init__(self, settings: Settings):
        self.url = database_url(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self.take: Take | None = None
        self.video: Path | None = None
        self.index = 0
        self.total = 0
        self.fps = 0.0
        self.playing: pn.io.PeriodicCallback | None = None
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-review-")
        # What the logged-in user's role may do (set at login); the views follow it.
        self.may_review = False
        self.may_write_notes = False

        # Anyone who may view may open the review app; deciding is checked per action.
        self.login = Login(self.url, "review", Permission.VIEW, self._signed_in, self._signed_out)
        self.login_view = self.login.form

        refresh_queue = pn.widgets.Button(label="Refresh queue")
        refresh_queue.on_click(lambda _: self.show_queue())
        self.queue = pn.Column(css_classes=["review-queue"])
        self.takes: list[Take] = []
        self.selected: dict[int, pn.widgets.Checkbox] = {}
        self.project_filter = pn.widgets.Select(label="Project", options=[ALL], width=160)
        self.character_filter = pn.widgets.Select(label="Character", options=[ALL], width=160)
        for choice in (self.project_filter, self.character_filter):
            choice.param.watch(lambda _: self._list_takes(), "value")
        self.approve_selected_button = pn.widgets.Button(label="Approve selected", color="success")
        self.approve_selected_button.on_click(lambda _: self.approve_selected())
        self.queue_notice = theme.notice()
        self.queue_undo = UndoOffer(self._undo, "queue-undo")
        self.queue_confirm = pn.widgets.Button(
            label="Approve anyway", color="warning", visible=False, css_classes=["queue-confirm"]
        )
        self.queue_confirm.on_click(lambda _: self.approve_selected(acknowledge=True))
        self.queue_view = pn.Column(
            _wrapping(self.login.who, refresh_queue, self.login.logout_button),
            self._tray(),
            pn.pane.Markdown("### Takes awaiting review"),
            _wrapping(self.project_filter, self.character_filter, self.approve_selected_button),
            _wrapping(self.queue_notice, self.queue_confirm, self.queue_undo.button),
            self.queue,
            sizing_mode="stretch_width",
        )

        self.actions: dict[str, Callable[[], None]] = {
            "back": lambda: self.step(-1),
            "forward": lambda: self.step(+1),
            "approve": lambda: self.decide("approve"),
            "reject": lambda: self.decide("reject"),
            "flag": lambda: self.decide("flag"),
            "play": self.toggle_play,
        }
        self.shortcuts = ShortcutKeys(self.actions)
        self.player_view = self._player()
        # All three views stay in the page and only one is visible: swapping the objects of
        # a layout in and out makes Bokeh re-register their models ("reference already known").
        self.views = (self.login_view, self.queue_view, self.player_view)
        self.body = pn.Column(*self.views, sizing_mode="stretch_width")
        self._show(self.login_view)
        self.root = theme.page("Review", self.body, self.shortcuts.keyboard)

    @property
    def token(self) -> str | None:
        """The session token of the logged-in user (None before login)."""
        return self.login.token

    def _player(self) -> pn.Column:
        self.title = pn.pane.Markdown("")
        self.frame = pn.pane.HTML("", css_classes=["review-frame"], sizing_mode="stretch_width")
        self.zoomed = pn.pane.HTML("", css_classes=["review-zoom"], sizing_mode="stretch_width")
        self.frame_label = pn.pane.Markdown("", css_classes=["frame-label"])
        button = self.shortcuts.button

        back = pn.widgets.Button(label="Back to queue")
        back.on_click(lambda _: self.show_queue())
        self.notice = theme.notice()
        self.note_text = pn.widgets.TextInput(placeholder="What needs fixing here?")
        self.add_note_button = pn.widgets.Button(label="Note at frame 0", color="primary")
        self.add_note_button.on_click(lambda _: self.write_note())
        refresh_notes = pn.widgets.Button(label="Refresh notes")
        refresh_notes.on_click(lambda _: self.show_notes())
        self.notes = pn.Column(css_classes=["review-notes"], sizing_mode="stretch_width")
        self.storyboard = pn.pane.HTML(
            "", css_classes=["review-storyboard"], sizing_mode="stretch_width"
        )
        self.segments: list[SegmentSpan] = []
        self.open_reject = open_reject = pn.widgets.Button(label="Reject segment…", color="danger")
        open_reject.on_click(lambda _: self._toggle_reject_form())
        self.segment_label = pn.pane.Markdown("")
        self.segment_note = pn.widgets.TextInput(placeholder="What is wrong with this segment?")
        self.reject_segment_button = pn.widgets.Button(label="Reject segment", color="danger")
        self.reject_segment_button.on_click(lambda _: self.reject_segment())
        self.reject_form = pn.Column(
            self.segment_label,
            _wrapping(self.segment_note, self.reject_segment_button),
            visible=False,
        )
        # The jog slider is the frame index itself: moving it shows that frame (decoded on the
        # server like every other), and stepping or playing moves it.
        self.jog = pn.widgets.EditableIntSlider(
            label="Frame",
            start=0,
            end=1,
            fixed_start=0,
            fixed_end=1,
            value=0,
            sizing_mode="stretch_width",
            max_width=PLAYER_WIDTH,
            css_classes=["review-jog"],
        )
        self.jog.param.watch(lambda event: self.go_to(event.new), "value")
        self.play_button = button("Play", "play", "primary")
        steps = _wrapping(button("−1", "back"), button("+1", "forward"), self.play_button)
        self.decision_buttons = [
            button("Approve", "approve", "success"),
            button("Reject", "reject", "danger"),
            button("Flag", "flag", "warning"),
        ]
        decisions = _wrapping(*self.decision_buttons)
        self.undo = UndoOffer(self._undo, "decision-undo")
        # Asked when the take still has open notes: decide anyway, knowing of them.
        self.pending_verb: str | None = None
        self.confirm_button = pn.widgets.Button(
            label="Decide anyway", color="warning", visible=False, css_classes=["decide-anyway"]
        )
        self.confirm_button.on_click(lambda _: self._confirm())
        viewer = pn.Column(
            self.frame,
            self.frame_label,
            self.jog,
            steps,
            self._visual_aids(),
            self.zoomed,
            self.storyboard,
            sizing_mode="stretch_width",
            max_width=PLAYER_WIDTH + 20,
            styles={"flex": f"1 1 {PLAYER_WIDTH // 2}px"},
            css_classes=["review-viewer"],
        )
        side = pn.Column(
            decisions,
            open_reject,
            self.reject_form,
            _wrapping(self.notice, self.confirm_button, self.undo.button),
            _wrapping(self.note_text, self.add_note_button),
            _wrapping(pn.pane.Markdown("### Notes"), refresh_notes),
            self.notes,
            self._reply_form(),
            self.shortcuts.legend,
            sizing_mode="stretch_width",
            styles={"flex": "1 1 300px"},
            css_classes=["review-side"],
        )
        # Side by side on a wide screen; the side panel wraps below the player on a narrow
        # one, so a tablet or phone never scrolls sideways (PRD-55).
        return pn.Column(
            _wrapping(back, self.title),
            pn.FlexBox(viewer, side, flex_wrap="wrap", gap="16px", sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def _visual_aids(self) -> pn.FlexBox:
        """Onion skin and region zoom controls (PRD-37); each change re-composes the frame."""
        self.onion = pn.widgets.Select(
            label="Onion skin",
            options=list(NEIGHBOURS),
            value="off",
            width=110,
            css_classes=["review-onion"],
        )
        self.opacity = pn.widgets.IntSlider(
            label="Opacity %",
            start=0,
            end=100,
            step=5,
            value=50,
            width=140,
            css_classes=["review-onion-opacity"],
        )
        self.zoom_region = pn.widgets.Select(
            label="Zoom",
            options=[ZOOM_OFF, *REGIONS],
            value=ZOOM_OFF,
            width=120,
            css_classes=["review-zoom-region"],
        )
        self.zoom_factor = pn.widgets.Select(
            label="×",
            options={f"{f}×": f for f in FACTORS},
            value=FACTORS[0],
            width=70,
            css_classes=["review-zoom-factor"],
        )
        for widget in (self.onion, self.opacity, self.zoom_region, self.zoom_factor):
            widget.param.watch(lambda _: self._recompose(), "value")
        return _wrapping(self.onion, self.opacity, self.zoom_region, self.zoom_factor)

    def _reply_form(self) -> pn.Column:
        self.replying_to: ThreadedNote | None = None
        self.reply_label = pn.pane.Markdown("")
        self.reply_text = pn.widgets.TextInput(placeholder="Your reply")
        send = pn.widgets.Button(label="Send reply", color="primary")
        send.on_click(lambda _: self.write_reply())
        cancel = pn.widgets.Button(label="Cancel reply")
        cancel.on_click(lambda _: self._close_reply())
        self.reply_form = pn.Column(
            self.reply_label,
            _wrapping(self.reply_text, send, cancel),
            visible=False,
            css_classes=["review-reply-form"],
        )
        return self.reply_form

    def _show(self, view: pn.Column) -> None:
        if view is not self.player_view:
            self.pause()
        for each in self.views:
            each.visible = each is view

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root

    # -- login ---------------------------------------------------------------------------

    def _signed_in(self, signed_in: SignedIn) -> None:
        """After login: the user's own keys and what their role may do, then the queue."""
        self.shortcuts.use(signed_in.shortcuts.table)
        self.may_review = allows(signed_in.user, Permission.REVIEW)
        self.may_write_notes = allows(signed_in.user, Permission.WRITE_NOTES)
        # Controls the role may not use are shown disabled (the service refuses them anyway,
        # whatever reaches it: a key press, a forged request).
        for control in (
            *self.decision_buttons,
            self.open_reject,
            self.reject_segment_button,
            self.approve_selected_button,
        ):
            control.disabled = not self.may_review
        self.add_note_button.disabled = not self.may_write_notes
        self.show_queue()

    def _signed_out(self) -> None:
        """After logout or a refused session: back to the login form."""
        self.take = None
        self._show(self.login_view)

    def _expired(self, error: SessionRefused) -> None:
        self.login.expired(error)

    # -- queue ---------------------------------------------------------------------------

    def show_queue(self) -> None:
        """List the takes awaiting review, each with a button that opens it."""
        if self.token is None:
            return
        self.take = None
        try:
            with connect(self.url) as conn:
                takes = review_queue(conn, self.token)
        except SessionRefused as error:
            self._expired(error)
            return
        self.takes = takes
        for choice, values in (
            (self.project_filter, {t.project for t in takes}),
            (self.character_filter, {t.character for t in takes}),
        ):
            options = [ALL, *sorted(values)]
            keep = choice.value if choice.value in options else ALL
            choice.options = options
            choice.value = keep
        self._list_takes()
        self.show_notifications()
        self._show(self.queue_view)

    def _list_takes(self) -> None:
        """Show the queue's takes that pass the project and character filters."""
        shown = [
            take
            for take in self.takes
            if self.project_filter.value in (ALL, take.project)
            and self.character_filter.value in (ALL, take.character)
        ]
        self.selected = {}
        rows = [self._queue_row(take) for take in shown]
        self.queue.objects = rows or [pn.pane.Markdown("Nothing is waiting for review.")]

    def _queue_row(self, take: Take) -> pn.Row:
        # a take back after a rejection says so: its new revision is what awaits review
        revision = f" · revision {take.revision}" if take.revision > 1 else ""
        label = (
            f"**{take.character} · {take.scene_type}** — take {take.take}{revision} · "
            f"project {take.project} · {take.frames or '?'} frames"
        )
        pick = pn.widgets.Checkbox(
            label=f"Select take {take.take}", width=130, css_classes=[f"select-take-{take.take}"]
        )
        self.selected[take.scene_id] = pick
        open_button = pn.widgets.Button(label=f"Open take {take.take}", color="primary")
        open_button.on_click(lambda _: self.open_take(take))
        return _wrapping(pick, open_button, pn.pane.Markdown(label), css_classes=["queue-take"])

    def approve_selected(self, acknowledge: bool = False) -> None:
        """Approve every ticked take at once through the review service, all or nothing;
        when some have open notes, say so and offer to approve anyway."""
        if self.token is None:
            return
        self.queue_confirm.visible = False
        ids = [scene_id for scene_id, pick in self.selected.items() if pick.value]
        if not ids:
            theme.show(self.queue_notice, "select the takes to approve first", "warning")
            return
        try:
            with connect(self.url) as conn:
                decisions = batch_decide(
                    conn, self.token, ids, "approved", acknowledge_open_notes=acknowledge
                )
        except SessionRefused as error:
            self._expired(error)
            return
        except PermissionDenied as error:
            theme.show(self.queue_notice, f"not allowed: {refusal(error)}", "danger")
            return
        except OpenNotesRemain as error:
            theme.show(self.queue_notice, refusal(error), "warning")
            self.queue_confirm.visible = True
            return
        except TrulienceError as error:
            theme.show(self.queue_notice, refusal(error), "danger")
            return
        self.show_queue()
        theme.show(self.queue_notice, f"{len(decisions)} takes approved", "success")
        self.queue_undo.offer([d for d in decisions if not d.repeated])

    # -- notifications -------------------------------------------------------------------

    def _tray(self) -> pn.Column:
        self.tray_badge = pn.pane.HTML("", css_classes=["notification-count"])
        self.tray_list = pn.pane.Markdown("", css_classes=["notification-tray"])
        refresh = pn.widgets.Button(label="Refresh notifications")
        refresh.on_click(lambda _: self.show_notifications())
        read_all = pn.widgets.Button(label="Mark all read")
        read_all.on_click(lambda _: self.mark_all_read())
        heading = pn.pane.Markdown("**Notifications**")
        return pn.Column(
            _wrapping(heading, self.tray_badge, refresh, read_all),
            self.tray_list,
            sizing_mode="stretch_width",
        )

    def show_notifications(self) -> None:
        """Re-read the logged-in user's unread notifications into the tray."""
        if self.token is None:
            return
        try:
            with connect(self.url) as conn:
                waiting = unread(conn, accounts.user_for_session(conn, self.token))
        except SessionRefused as error:
            self._expired(error)
            return
        self.tray_badge.object = f'<span class="tray-badge">{len(waiting)}</span>'
        lines = [f"- {n.kind}: {html.escape(n.body)}" for n in waiting]
        self.tray_list.object = "\n".join(lines) or "No unread notifications."

    def mark_all_read(self) -> None:
        """Mark all of the user's notifications read and empty the tray."""
        if self.token is None:
            return
        try:
            with connect(self.url) as conn:
                mark_read(conn, accounts.user_for_session(conn, self.token))
        except SessionRefused as error:
            self._expired(error)
            return
        self.show_notifications()

    # -- player --------------------------------------------------------------------------

    def open_take(self, take: Take) -> None:
        """Show a take in the player at its first frame, with its notes."""
        self.pause()
        self.take, self.index = take, 0
        self._frames.clear()
        self.notice.visible = False
        # an offer or a question about the previous take must not act on this one
        self.undo.withdraw()
        self.confirm_button.visible, self.pending_verb = False, None
        self._close_reply()
        self.title.object = f"### {take.character} · {take.scene_type} · take {take.take}"
        self._show(self.player_view)
        try:
            if take.uri is None:
                raise TrulienceError(f"take {take.take} has no video yet")
            self.video = self._local_video(take.uri)
            found_video = probe(self.video)
            self.total, self.fps = found_video.frames, float(found_video.fps)
        except TrulienceError as error:
            self.video, self.total, self.fps, self.segments = None, 0, 0.0, []
            self.frame.object = self.frame_label.object = self.zoomed.object = ""
            theme.show(self.notice, refusal(error), "danger")
        else:
            with connect(self.url) as conn:
                found = current_segments(conn, take.scene_id)
            self.segments = segment_spans({i: s.frames for i, s in found.items()})
            last = max(self.total - 1, 1)  # a slider needs an end past its start
            self.jog.param.update(end=last, fixed_end=last, value=0)
            self.show_frame()
        self.reject_form.visible = False
        self.storyboard.object = self._storyboard(take.uri)
        self.show_notes()

    def _storyboard(self, uri: str | None) -> str:
        """The take's storyboard strip as an <img>, or nothing if it has none."""
        key = None if uri is None else storyboard_key(self.storage.key_of(uri))
        if key is None or not self.storage.exists(key):
            return ""
        source = png_file_data_url(self.storage.read_bytes(key))
        return f'<img class="review-storyboard-image" alt="storyboard" src="{source}">'

    def _local_video(self, uri: str) -> Path:
        """A local path to read a video from (downloaded once when storage is remote)."""
        return self.storage.local_file(self.storage.key_of(uri), self._downloads.name)

    def step(self, delta: int) -> None:
        """Move `delta` frames, staying within the take."""
        if self.take is None or self.video is None:
            return
        self.index = min(max(self.index + delta, 0), self.total - 1)
        self.show_frame()

    def go_to(self, index: int) -> None:
        """Show frame `index` (the jog slider's value), staying within the take."""
        if self.take is None or self.video is None or index == self.index:
            return
        self.index = min(max(index, 0), self.total - 1)
        self.show_frame()

    def toggle_play(self) -> None:
        """Play the take from the frame on screen at its fps, or pause it where it is."""
        if self.playing is not None:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Advance the frame index on the server every 1/fps s, up to the last frame."""
        if self.take is None or self.video is None or self.playing is not None:
            return
        if self.index >= self.total - 1:  # at the end: play again from the start
            self.index = 0
            self.show_frame()
        period = round(1000 / self.fps) if self.fps > 0 else 1000 // 24
        self.playing = pn.state.add_periodic_callback(self._advance, period=period)
        self.shortcuts.relabel("play", "Pause")

    def pause(self) -> None:
        """Stop playing; the frame on screen is the decoded frame at the index."""
        if self.playing is None:
            return
        self.playing.stop()
        self.playing = None
        self.shortcuts.relabel("play", "Play")

    def _advance(self) -> None:
        if self.take is None or self.video is None or self.index >= self.total - 1:
            self.pause()
            return
        self.step(+1)
        if self.index >= self.total - 1:
            self.pause()

    def show_frame(self) -> None:
        """Decode the current frame on the server and show it, with its number (blended with
        its neighbours when onion skin is on, and a region enlarged when zoom is on)."""
        assert self.video is not None
        self._recompose()
        self.frame_label.object = f"frame {self.index} / {self.total}"
        self.jog.value = self.index  # go_to() sees the index already shown and does nothing
        self.add_note_button.label = f"Note at frame {self.index}"
        span = self._segment_on_screen()
        if span is None:
            self.segment_label.object = "No committed segment covers this frame."
            self.reject_segment_button.label = "Reject segment"
        else:
            self.segment_label.object = f"segment {span.index} · frames {span.start}–{span.end - 1}"
            self.reject_segment_button.label = f"Reject segment {span.index}"

    def _recompose(self) -> None:
        """Compose the picture of the frame at the index: the decoded frame, the onion skin
        over it, and the zoomed region, all from full-resolution decoded frames."""
        if self.video is None:
            return
        try:
            picture = self._decoded(self.index)
            over = neighbour_indices(self.index, self.total, self.onion.value)
            shown = onion_skin(picture, [self._decoded(i) for i in over], self.opacity.value / 100)
        except TrulienceError as error:
            theme.show(self.notice, refusal(error), "danger")
            return
        onion = ",".join(str(i) for i in over)
        self.frame.object = (
            f'<img class="review-frame-image" data-frame="{self.index}" data-onion="{onion}" '
            f'alt="frame {self.index}" src="{png_data_url(shown)}" '
            f'style="width: {PLAYER_WIDTH}px; max-width: 100%; image-rendering: pixelated">'
        )
        region, factor = self.zoom_region.value, self.zoom_factor.value
        if region == ZOOM_OFF:
            self.zoomed.object = ""
        else:
            self.zoomed.object = (
                f'<img class="review-zoom-image" data-frame="{self.index}" '
                f'data-region="{region}" data-factor="{factor}" '
                f'alt="frame {self.index}, {region} ×{factor}" '
                f'src="{png_data_url(zoom(shown, region, factor))}" '
                f'style="width: {PLAYER_WIDTH}px; max-width: 100%; image-rendering: pixelated">'
            )

    def _decoded(self, index: int) -> np.ndarray:
        """Frame `index` of the open take, decoded on the server (recent ones kept)."""
        assert self.video is not None
        if index not in self._frames:
            self._frames[index] = frame_at(self.video, index)
            while len(self._frames) > _FRAME_CACHE:
                self._frames.popitem(last=False)
        self._frames.move_to_end(index)
        return self._frames[index]

    def _segment_on_screen(self) -> SegmentSpan | None:
        return next((s for s in self.segments if s.start <= self.index < s.end), None)

    def _toggle_reject_form(self) -> None:
        self.reject_form.visible = not self.reject_form.visible

    # -- decisions and notes -------------------------------------------------------------

    def decide(self, verb: str, acknowledge: bool = False) -> None:
        """Approve, reject or flag the revision of the open take on screen through the
        review service; when the take has open notes, say so and ask before deciding."""
        if self.take is None or self.token is None:
            return
        self.confirm_button.visible, self.pending_verb = False, None
        try:
            with connect(self.url) as conn:
                decision = decide(
                    conn,
                    self.token,
                    self.take.scene_id,
                    verb,
                    revision=self.take.revision,
                    acknowledge_open_notes=acknowledge,
                )
        except SessionRefused as error:
            self._expired(error)
        except PermissionDenied as error:
            theme.show(self.notice, f"not allowed: {refusal(error)}", "danger")
        except OpenNotesRemain as error:
            theme.show(self.notice, refusal(error), "warning")
            self.pending_verb = verb
            self.confirm_button.label = f"{verb.title()} anyway"
            self.confirm_button.visible = True
        except TrulienceError as error:
            theme.show(self.notice, refusal(error), "danger")
        else:
            done = _VERB_DONE[verb]
            if decision.repeated:
                theme.show(self.notice, f"already {done} by {decision.reviewer}", "info")
            elif decision.request_delivery:
                theme.show(self.notice, f"{done} — delivery requested", "success")
            else:
                theme.show(self.notice, f"{done} by {decision.reviewer}", "info")
            if not decision.repeated:
                self.undo.offer([decision])

    def _confirm(self) -> None:
        """The reviewer read the open notes and decides anyway."""
        if self.pending_verb is not None:
            self.decide(self.pending_verb, acknowledge=True)

    def _undo(self, decisions: list[Decision]) -> None:
        """Take back the decisions just made (the Undo button, within the window)."""
        if self.token is None:
            return
        box = self.notice if self.take is not None else self.queue_notice
        try:
            with connect(self.url) as conn:
                undo_decision(conn, self.token, [d.review_id for d in decisions])
        except SessionRefused as error:
            self._expired(error)
            return
        except TrulienceError as error:
            theme.show(box, refusal(error), "danger")
            return
        undone = f"{len(decisions)} decisions undone" if len(decisions) > 1 else "decision undone"
        if self.take is None:
            self.show_queue()
        theme.show(box, f"{undone} — back in the queue for review", "info")

    def reject_segment(self) -> None:
        """Reject the open take because of the segment on screen, with the typed note."""
        span = self._segment_on_screen()
        if self.take is None or self.token is None:
            return
        if span is None:
            theme.show(self.notice, "no committed segment covers this frame", "warning")
            return
        try:
            with connect(self.url) as conn:
                reject_segment(
                    conn, self.token, self.take.scene_id, span.index, typed(self.segment_note)
                )
        except SessionRefused as error:
            self._expired(error)
            return
        except PermissionDenied as error:
            theme.show(self.notice, f"not allowed: {refusal(error)}", "danger")
            return
        except TrulienceError as error:
            theme.show(self.notice, refusal(error), "danger")
            return
        self.segment_note.value = self.segment_note.value_input = ""
        self.reject_form.visible = False
        theme.show(
            self.notice, f"segment {span.index} rejected — sent back for regeneration", "success"
        )
        self.show_notes()

    def _note_action(self, act: Callable[[], object], done: str) -> bool:
        """Run one note action through the service; show the outcome, or the refusal."""
        try:
            act()
        except SessionRefused as error:
            self._expired(error)
            return False
        except PermissionDenied as error:
            theme.show(self.notice, f"not allowed: {refusal(error)}", "danger")
            return False
        except TrulienceError as error:
            theme.show(self.notice, refusal(error), "danger")
            return False
        theme.show(self.notice, done, "success")
        self.show_notes()
        return True

    def write_note(self) -> None:
        """Add the typed note at the frame on screen."""
        body = typed(self.note_text).strip()
        if self.take is None or self.token is None or not body:
            return
        take, token, frame = self.take, self.token, self.index

        def act() -> None:
            with connect(self.url) as conn:
                add_note(conn, token, take.scene_id, body, frame=frame)

        if self._note_action(act, f"note added at frame {frame}"):
            self.note_text.value = self.note_text.value_input = ""

    def start_reply(self, note: ThreadedNote) -> None:
        """Open the reply box under the notes, for a reply to `note`."""
        self.replying_to = note
        where = "" if note.frame is None else f" at frame {note.frame}"
        self.reply_label.object = f"Reply to **{note.author}**'s note{where}:"
        self.reply_form.visible = True

    def _close_reply(self) -> None:
        self.replying_to = None
        self.reply_text.value = self.reply_text.value_input = ""
        self.reply_form.visible = False

    def write_reply(self) -> None:
        """Add the typed reply under the note being replied to."""
        body = typed(self.reply_text).strip()
        note = self.replying_to
        if self.take is None or self.token is None or note is None or not body:
            return
        take, token = self.take, self.token

        def act() -> None:
            with connect(self.url) as conn:
                add_note(conn, token, take.scene_id, body, reply_to=note.id)

        if self._note_action(act, f"reply added to {note.author}'s note"):
            self._close_reply()

    def set_note_status(self, note: ThreadedNote, resolved: bool) -> None:
        """Resolve an open note, or reopen a resolved one."""
        if self.token is None:
            return
        token = self.token

        def act() -> None:
            with connect(self.url) as conn:
                (resolve_note if resolved else reopen_note)(conn, token, note.id)

        self._note_action(act, f"note {'resolved' if resolved else 'reopened'}")

    def jump_to(self, frame: int) -> None:
        """Show a note's frame in the player (pausing playback)."""
        self.pause()
        self.go_to(frame)

    def show_notes(self) -> None:
        """Re-read the open take's notes (other reviewers' notes and replies appear too)."""
        if self.take is None or self.token is None:
            return
        try:
            with connect(self.url) as conn:
                notes = notes_for(conn, self.token, self.take.scene_id)
        except SessionRefused as error:
            self._expired(error)
            return
        rows = [self._note_row(note) for note in notes]
        self.notes.objects = rows or [pn.pane.Markdown("No notes yet.")]

    def _note_row(self, note: ThreadedNote) -> pn.FlexBox:
        """One note: its frame (a button that shows it), author, status, text and actions."""
        parts: list[pn.viewable.Viewable] = []
        if note.frame is not None:
            jump = pn.widgets.Button(
                label=f"frame {note.frame}", color="light", css_classes=["note-frame"]
            )
            jump.on_click(lambda _: self.jump_to(note.frame))
            parts.append(jump)
        text = (
            f'**{html.escape(note.author)}** · <span class="note-status">{note.status}</span>'
            f" — {html.escape(note.body)}"
        )
        parts.append(pn.pane.Markdown(text, css_classes=["note-text"]))
        reply = pn.widgets.Button(label="Reply", disabled=not self.may_write_notes)
        reply.on_click(lambda _: self.start_reply(note))
        resolved = note.status == "resolved"
        toggle = pn.widgets.Button(
            label="Reopen" if resolved else "Resolve", disabled=not self.may_write_notes
        )
        toggle.on_click(lambda _: self.set_note_status(note, not resolved))
        parts += [reply, toggle]
        return _wrapping(
            *parts,
            css_classes=["review-note", f"note-{note.status}", f"note-depth-{note.depth}"],
            styles={"margin-left": f"{24 * note.depth}px"},
        )


def _wrapping(*objects: pn.viewable.Viewable, **params: object) -> pn.FlexBox:
    """A row that wraps onto the next line when the screen is too narrow for it (PRD-55)."""
    params.setdefault("sizing_mode", "stretch_width")
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="center", **params)


if __name__.startswith("bokeh"):
    theme.setup()
    ReviewApp(Settings.from_env()).view().servable(title="Trulience · Review")
