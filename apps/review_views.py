"""The review app's views: Panel parts that show a `ReviewSession` and call its actions.

Here the decisions and the notes; the queue and the tray are `apps/review_queue_view.py`,
the picture is `apps/review_player_view.py`.

Each part takes the session (and the app's `ShortcutKeys`, for buttons that name their key),
builds its widgets once, follows the session's parameters and hands clicks and keys to the
session's methods; none calls a service itself. CSS classes and labels are what the browser
tests find the page by. The layout stacks on a tablet or phone (PRD-55), where the decisions
are buttons big enough to tap (`touch_sized`).
"""

import html

import panel as pn
import param

from apps.login import typed
from apps.review_state import ReviewSession
from apps.shortcuts import ShortcutKeys
from apps.theme import notice, show
from apps.undo import UndoOffer
from trulience.review import ThreadedNote

# A finger's target (PRD-55): at tablet width and below a button is at least 44 px tall,
# the size the platforms' guidelines ask for.
TOUCH_TARGET = "@media (max-width: 768px) { .bk-btn { min-height: 44px; } }"


def touch_sized(*buttons: pn.widgets.Button) -> None:
    """Make `buttons` big enough to tap on a tablet or phone (no change on a wide screen)."""
    for button in buttons:
        button.stylesheets = [*button.stylesheets, TOUCH_TARGET]


def wrapping(*objects: pn.viewable.Viewable, **params: object) -> pn.FlexBox:
    """A row that wraps onto the next line when the screen is too narrow for it (PRD-55)."""
    params.setdefault("sizing_mode", "stretch_width")
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="center", **params)


def notice_of(owner: param.Parameterized, name: str) -> pn.pane.Alert:
    """A notice box that shows what `owner.<name>` says, `(message, kind)`, or hides."""
    box = notice()

    def follow(event: param.parameterized.Event) -> None:
        if event.new is None:
            box.visible = False
        else:
            show(box, *event.new)

    owner.param.watch(follow, name, onlychanged=False)
    return box


def clear(field: pn.widgets.TextInput) -> None:
    """Empty a text field (both what was typed and what was entered)."""
    field.value = field.value_input = ""


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


class _SessionView(pn.viewable.Viewer):
    session = param.ClassSelector(class_=ReviewSession)

    def __init__(self, session: ReviewSession, **params: object):
        super().__init__(session=session, **params)


class DecisionsView(_SessionView):
    """Approve, reject or flag the open take, reject the segment on screen; the notice the
    player's actions say, the open-notes question and Undo."""

    def __init__(self, session: ReviewSession, shortcuts: ShortcutKeys):
        super().__init__(session)
        self.buttons = [
            shortcuts.button("Approve", "approve", "success"),
            shortcuts.button("Reject", "reject", "danger"),
            shortcuts.button("Flag", "flag", "warning"),
        ]
        self.open_reject = pn.widgets.Button(label="Reject segment…", color="danger")
        self.open_reject.on_click(lambda _: session.toggle_reject_form())
        self.segment_label = pn.pane.Markdown("")
        self.segment_note = pn.widgets.TextInput(placeholder="What is wrong with this segment?")
        self.reject_segment_button = pn.widgets.Button(label="Reject segment", color="danger")
        self.reject_segment_button.on_click(lambda _: self.reject_segment())
        self.reject_form = pn.Column(
            self.segment_label,
            wrapping(self.segment_note, self.reject_segment_button),
            visible=False,
        )
        self.notice = notice_of(session, "notice")
        # Asked when the take still has open notes: decide anyway, knowing of them.
        self.confirm_button = pn.widgets.Button(
            label="Decide anyway", color="warning", visible=False, css_classes=["decide-anyway"]
        )
        self.confirm_button.on_click(lambda _: session.confirm())
        self.undo = UndoButton(session.offer, "decision-undo")
        touch_sized(*self.controls, self.confirm_button, self.undo.button)
        session.param.watch(lambda _: self._ask(), "pending_verb")
        session.param.watch(lambda e: setattr(self.reject_form, "visible", e.new), "rejecting")
        session.param.watch(lambda _: self._allow(), "may_review", onlychanged=False)
        session.player.param.watch(lambda _: self._segment(), "segment_span", onlychanged=False)

    @property
    def controls(self) -> list[pn.widgets.Button]:
        """The controls a role without review sees disabled (the service refuses them
        anyway, whatever reaches it: a key press, a forged request)."""
        return [*self.buttons, self.open_reject, self.reject_segment_button]

    def _allow(self) -> None:
        for control in self.controls:
            control.disabled = not self.session.may_review

    def _ask(self) -> None:
        verb = self.session.pending_verb
        self.confirm_button.visible = verb is not None
        if verb is not None:
            self.confirm_button.label = f"{verb.title()} anyway"

    def _segment(self) -> None:
        span = self.session.player.segment_span
        if span is None:
            self.segment_label.object = "No committed segment covers this frame."
            self.reject_segment_button.label = "Reject segment"
        else:
            self.segment_label.object = f"segment {span.index} · frames {span.start}–{span.end - 1}"
            self.reject_segment_button.label = f"Reject segment {span.index}"

    def reject_segment(self) -> None:
        """Reject the segment on screen with the typed note."""
        if self.session.reject_segment(typed(self.segment_note)):
            clear(self.segment_note)

    def __panel__(self) -> pn.Column:
        return pn.Column(
            wrapping(*self.buttons),
            self.open_reject,
            self.reject_form,
            wrapping(self.notice, self.confirm_button, self.undo.button),
            sizing_mode="stretch_width",
        )


class NotesView(_SessionView):
    """The open take's threaded notes: a note at the frame on screen, each note's frame,
    author, status and text, replies, resolving and reopening."""

    def __init__(self, session: ReviewSession):
        super().__init__(session)
        self.note_text = pn.widgets.TextInput(placeholder="What needs fixing here?")
        self.add_note_button = pn.widgets.Button(label="Note at frame 0", color="primary")
        self.add_note_button.on_click(lambda _: self.write_note())
        self.refresh = pn.widgets.Button(label="Refresh notes")
        self.refresh.on_click(lambda _: session.show_notes())
        self.notes = pn.Column(css_classes=["review-notes"], sizing_mode="stretch_width")
        self.reply_label = pn.pane.Markdown("")
        self.reply_text = pn.widgets.TextInput(placeholder="Your reply")
        send = pn.widgets.Button(label="Send reply", color="primary")
        send.on_click(lambda _: self.write_reply())
        cancel = pn.widgets.Button(label="Cancel reply")
        cancel.on_click(lambda _: session.close_reply())
        self.reply_form = pn.Column(
            self.reply_label,
            wrapping(self.reply_text, send, cancel),
            visible=False,
            css_classes=["review-reply-form"],
        )
        session.param.watch(lambda _: self._list(), "notes", onlychanged=False)
        session.param.watch(lambda _: self._reply(), "replying_to", onlychanged=False)
        session.param.watch(
            lambda e: setattr(self.add_note_button, "disabled", not e.new),
            "may_write_notes",
            onlychanged=False,
        )
        session.player.param.watch(lambda _: self._at_frame(), "index", onlychanged=False)

    def _at_frame(self) -> None:
        self.add_note_button.label = f"Note at frame {self.session.player.index}"

    def write_note(self) -> None:
        """Add the typed note at the frame on screen."""
        if self.session.write_note(typed(self.note_text).strip()):
            clear(self.note_text)

    def write_reply(self) -> None:
        """Add the typed reply under the note being replied to."""
        self.session.write_reply(typed(self.reply_text).strip())

    def _reply(self) -> None:
        note = self.session.replying_to
        if note is None:
            clear(self.reply_text)
            self.reply_form.visible = False
            return
        where = "" if note.frame is None else f" at frame {note.frame}"
        self.reply_label.object = f"Reply to **{note.author}**'s note{where}:"
        self.reply_form.visible = True

    def _list(self) -> None:
        rows = [self._row(note) for note in self.session.notes]
        self.notes.objects = rows or [pn.pane.Markdown("No notes yet.")]

    def _row(self, note: ThreadedNote) -> pn.FlexBox:
        """One note: its frame (a button that shows it), author, status, text and actions."""
        session, may_write = self.session, self.session.may_write_notes
        parts: list[pn.viewable.Viewable] = []
        if note.frame is not None:
            jump = pn.widgets.Button(
                label=f"frame {note.frame}", color="light", css_classes=["note-frame"]
            )
            jump.on_click(lambda _: session.player.jump_to(note.frame))
            parts.append(jump)
        text = (
            f'**{html.escape(note.author)}** · <span class="note-status">{note.status}</span>'
            f" — {html.escape(note.body)}"
        )
        parts.append(pn.pane.Markdown(text, css_classes=["note-text"]))
        reply = pn.widgets.Button(label="Reply", disabled=not may_write)
        reply.on_click(lambda _: session.start_reply(note))
        resolved = note.status == "resolved"
        toggle = pn.widgets.Button(
            label="Reopen" if resolved else "Resolve", disabled=not may_write
        )
        toggle.on_click(lambda _: session.set_note_status(note, not resolved))
        parts += [reply, toggle]
        return wrapping(
            *parts,
            css_classes=["review-note", f"note-{note.status}", f"note-depth-{note.depth}"],
            styles={"margin-left": f"{24 * note.depth}px"},
        )

    def __panel__(self) -> pn.Column:
        return pn.Column(
            wrapping(self.note_text, self.add_note_button),
            wrapping(pn.pane.Markdown("### Notes"), self.refresh),
            self.notes,
            self.reply_form,
            sizing_mode="stretch_width",
        )
