"""The review app: log in, pick a take from the queue, step it frame by frame, decide, note.

Serve with `panel serve apps/review.py`. Every action calls `trulience.review` with the
session's token, so permissions and the audit log hold exactly as in the pipeline; the app
only turns refusals into messages. Frames are decoded on the server by index (PRD-37), never
by seeking a browser <video> to a time, so "frame N" is the frame the reviewer sees.
"""

import html
import tempfile
from collections.abc import Callable
from pathlib import Path

import panel as pn

from apps import theme
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError, PermissionDenied, SessionRefused
from trulience.catalog.database import connect, database_url
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.media.frames import frame_at
from trulience.media.probe import probe
from trulience.review import Take, add_note, decide, notes_for, review_queue
from trulience.storage import Storage

# Key → action (PRD-35/52). The one place to rebind a shortcut; buttons use the same actions.
SHORTCUTS: dict[str, str] = {
    ",": "back",
    ".": "forward",
    "a": "approve",
    "r": "reject",
    "f": "flag",
}
_VERB_DONE = {"approve": "approved", "reject": "rejected", "flag": "flagged"}


def _typed(field: pn.widgets.TextInput) -> str:
    """What is in a text field now: `value_input` follows each keystroke, while `value`
    waits for Enter or blur, which may arrive after the button click that reads it."""
    return field.value_input or field.value or ""


class ReviewApp:
    """One browser session of the review app; holds that session's login token."""

    def __init__(self, settings: Settings):
        self.url = database_url(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self.token: str | None = None
        self.take: Take | None = None
        self.video: Path | None = None
        self.index = 0
        self.total = 0
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-review-")

        self.username = pn.widgets.TextInput(placeholder="Username")
        self.password = pn.widgets.PasswordInput(placeholder="Password")
        login = pn.widgets.Button(name="Log in", button_type="primary")
        login.on_click(lambda _: self.log_in())
        self.login_notice = theme.notice()
        self.login_view = pn.Column(self.username, self.password, login, self.login_notice)

        self.who = pn.pane.Markdown("")
        logout = pn.widgets.Button(name="Log out")
        logout.on_click(lambda _: self.log_out())
        refresh_queue = pn.widgets.Button(name="Refresh queue")
        refresh_queue.on_click(lambda _: self.show_queue())
        self.queue = pn.Column(css_classes=["review-queue"])
        self.queue_view = pn.Column(
            pn.Row(self.who, refresh_queue, logout),
            pn.pane.Markdown("### Takes awaiting review"),
            self.queue,
        )

        self.actions: dict[str, Callable[[], None]] = {
            "back": lambda: self.step(-1),
            "forward": lambda: self.step(+1),
            "approve": lambda: self.decide("approve"),
            "reject": lambda: self.decide("reject"),
            "flag": lambda: self.decide("flag"),
        }
        self.player_view = self._player()
        self.keyboard = theme.KeyboardShortcuts(
            {key: self.actions[action] for key, action in SHORTCUTS.items()}
        )
        # All three views stay in the page and only one is visible: swapping the objects of
        # a layout in and out makes Bokeh re-register their models ("reference already known").
        self.views = (self.login_view, self.queue_view, self.player_view)
        self.body = pn.Column(*self.views, sizing_mode="stretch_width")
        self._show(self.login_view)
        self.root = theme.page("Review", self.body, self.keyboard)

    def _player(self) -> pn.Column:
        self.title = pn.pane.Markdown("")
        self.frame = pn.pane.HTML("", css_classes=["review-frame"])
        self.frame_label = pn.pane.Markdown("", css_classes=["frame-label"])
        keys = {action: key for key, action in SHORTCUTS.items()}

        def button(label: str, action: str, kind: str = "default") -> pn.widgets.Button:
            hint = f" ({keys[action]})" if action in keys else ""
            widget = pn.widgets.Button(name=f"{label}{hint}", button_type=kind)
            widget.on_click(lambda _: self.actions[action]())
            return widget

        back = pn.widgets.Button(name="Back to queue")
        back.on_click(lambda _: self.show_queue())
        self.notice = theme.notice()
        self.note_text = pn.widgets.TextInput(placeholder="What needs fixing here?")
        self.add_note_button = pn.widgets.Button(name="Note at frame 0", button_type="primary")
        self.add_note_button.on_click(lambda _: self.write_note())
        refresh_notes = pn.widgets.Button(name="Refresh notes")
        refresh_notes.on_click(lambda _: self.show_notes())
        self.notes = pn.pane.Markdown("", css_classes=["review-notes"])
        steps = pn.Row(button("−1", "back"), button("+1", "forward"))
        decisions = pn.Row(
            button("Approve", "approve", "success"),
            button("Reject", "reject", "danger"),
            button("Flag", "flag", "warning"),
        )
        viewer = pn.Column(self.frame, self.frame_label, steps)
        side = pn.Column(
            decisions,
            self.notice,
            pn.Row(self.note_text, self.add_note_button),
            pn.Row(pn.pane.Markdown("### Notes"), refresh_notes),
            self.notes,
        )
        return pn.Column(pn.Row(back, self.title), pn.Row(viewer, side))

    def _show(self, view: pn.Column) -> None:
        for each in self.views:
            each.visible = each is view

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root

    # -- login ---------------------------------------------------------------------------

    def log_in(self) -> None:
        """Open a session with the typed credentials; show the queue on success."""
        try:
            with connect(self.url) as conn:
                login = accounts.authenticate(
                    conn, _typed(self.username).strip(), _typed(self.password), user_agent="review"
                )
        except AuthError as error:
            theme.show(self.login_notice, theme.refusal(error), "danger")
            return
        self.token = login.token
        self.password.value = self.password.value_input = ""
        self.login_notice.visible = False
        self.who.object = f"Logged in as **{login.user.username}** ({login.user.role})"
        self.show_queue()

    def log_out(self) -> None:
        """End this session's login and return to the login form."""
        if self.token is not None:
            with connect(self.url) as conn:
                accounts.logout(conn, self.token)
        self.token, self.take = None, None
        self._show(self.login_view)

    def _expired(self, error: SessionRefused) -> None:
        self.token, self.take = None, None
        theme.show(self.login_notice, theme.refusal(error), "warning")
        self._show(self.login_view)

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
        rows = [self._queue_row(take) for take in takes]
        self.queue.objects = rows or [pn.pane.Markdown("Nothing is waiting for review.")]
        self._show(self.queue_view)

    def _queue_row(self, take: Take) -> pn.Row:
        label = (
            f"**{take.character} · {take.scene_type}** — take {take.take} · "
            f"project {take.project} · {take.frames or '?'} frames"
        )
        open_button = pn.widgets.Button(name=f"Open take {take.take}", button_type="primary")
        open_button.on_click(lambda _: self.open_take(take))
        return pn.Row(open_button, pn.pane.Markdown(label), css_classes=["queue-take"])

    # -- player --------------------------------------------------------------------------

    def open_take(self, take: Take) -> None:
        """Show a take in the player at its first frame, with its notes."""
        self.take, self.index = take, 0
        self.notice.visible = False
        self.title.object = f"### {take.character} · {take.scene_type} · take {take.take}"
        self._show(self.player_view)
        try:
            if take.uri is None:
                raise TrulienceError(f"take {take.take} has no video yet")
            self.video = self._local_video(take.uri)
            self.total = probe(self.video).frames
        except TrulienceError as error:
            self.video, self.total = None, 0
            self.frame.object, self.frame_label.object = "", ""
            theme.show(self.notice, theme.refusal(error), "danger")
        else:
            self.show_frame()
        self.show_notes()

    def _local_video(self, uri: str) -> Path:
        """A local path to read the take from: the file itself, or a download of it."""
        key = self.storage.key_of(uri)
        if self.storage.url.startswith("file://"):
            return Path(self.storage.path(key))
        copy = Path(self._downloads.name) / key.replace("/", "_")
        if not copy.exists():
            copy.write_bytes(self.storage.read_bytes(key))
        return copy

    def step(self, delta: int) -> None:
        """Move `delta` frames, staying within the take."""
        if self.take is None or self.video is None:
            return
        self.index = min(max(self.index + delta, 0), self.total - 1)
        self.show_frame()

    def show_frame(self) -> None:
        """Decode the current frame on the server and show it, with its number."""
        assert self.video is not None
        picture = frame_at(self.video, self.index)
        self.frame.object = (
            f'<img class="review-frame-image" data-frame="{self.index}" '
            f'alt="frame {self.index}" src="{theme.png_data_url(picture)}" '
            f'style="width: 384px; image-rendering: pixelated">'
        )
        self.frame_label.object = f"frame {self.index} / {self.total}"
        self.add_note_button.name = f"Note at frame {self.index}"

    # -- decisions and notes -------------------------------------------------------------

    def decide(self, verb: str) -> None:
        """Approve, reject or flag the open take through the review service."""
        if self.take is None or self.token is None:
            return
        try:
            with connect(self.url) as conn:
                decision = decide(conn, self.token, self.take.scene_id, verb)
        except SessionRefused as error:
            self._expired(error)
        except PermissionDenied as error:
            theme.show(self.notice, f"not allowed: {theme.refusal(error)}", "danger")
        except TrulienceError as error:
            theme.show(self.notice, theme.refusal(error), "danger")
        else:
            done = _VERB_DONE[verb]
            if decision.request_delivery:
                theme.show(self.notice, f"{done} — delivery requested", "success")
            else:
                theme.show(self.notice, f"{done} by {decision.reviewer}", "info")

    def write_note(self) -> None:
        """Add the typed note at the frame on screen."""
        body = _typed(self.note_text).strip()
        if self.take is None or self.token is None or not body:
            return
        try:
            with connect(self.url) as conn:
                add_note(conn, self.token, self.take.scene_id, body, frame=self.index)
        except SessionRefused as error:
            self._expired(error)
            return
        except PermissionDenied as error:
            theme.show(self.notice, f"not allowed: {theme.refusal(error)}", "danger")
            return
        except TrulienceError as error:
            theme.show(self.notice, theme.refusal(error), "danger")
            return
        self.note_text.value = self.note_text.value_input = ""
        theme.show(self.notice, f"note added at frame {self.index}", "success")
        self.show_notes()

    def show_notes(self) -> None:
        """Re-read the open take's notes (other reviewers' notes appear here too)."""
        if self.take is None or self.token is None:
            return
        try:
            with connect(self.url) as conn:
                notes = notes_for(conn, self.token, self.take.scene_id)
        except SessionRefused as error:
            self._expired(error)
            return
        lines = []
        for note in notes:
            where = "" if note.frame is None else f"frame {note.frame} · "
            indent = "  " * note.depth
            lines.append(f"{indent}- {where}**{note.author}**: {html.escape(note.body)}")
        self.notes.object = "\n".join(lines) or "No notes yet."


if __name__.startswith("bokeh"):
    theme.setup()
    ReviewApp(Settings.from_env()).view().servable(title="Trulience · Review")
