"""One reviewer's session of the review app, apart from how it is shown.

`ReviewSession` holds what the page shows: the signed-in user and what their role may do,
the queue and its filters, the open take and the frame on screen, the notes, the questions
asked (open notes) and the Undo offers. Its methods are the app's actions: each calls
`trulience.review` (or `trulience.notify`) with the session's token through one
`ActionRunner`, which maps a refusal once. The views in `apps/review_views.py` watch these
parameters and call these methods; a plain Python test drives them against the database.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import param

from apps.actions import ActionRunner, refusal
from apps.review_player import Player, segment_spans
from apps.undo import UndoOffer
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, allows
from trulience.catalog.database import connect
from trulience.catalog.records import User
from trulience.catalog.scenes import current_segments
from trulience.errors import TrulienceError
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
from trulience.review.regenerate import reject_segment
from trulience.storage import Storage

if TYPE_CHECKING:  # the login form is Panel; the session is not
    from apps.login import SignedIn

T = TypeVar("T")

VERB_DONE = {"approve": "approved", "reject": "rejected", "flag": "flagged"}
ALL = "(all)"
SCREENS = ("login", "queue", "player")


class ReviewSession(param.Parameterized):
    """One browser session of the review app: its state and its actions (see the module)."""

    screen = param.Selector(objects=list(SCREENS), default="login")
    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    may_review = param.Boolean(False, doc="Whether the role may decide (set at login).")
    may_write_notes = param.Boolean(False, doc="Whether the role may write notes.")

    takes = param.List([], doc="The takes awaiting review, as last read.")
    projects = param.List([ALL], doc="The project filter's choices.")
    characters = param.List([ALL], doc="The character filter's choices.")
    project = param.String(ALL)
    character = param.String(ALL)
    shown = param.List([], doc="The queue's takes that pass the filters.")
    selected = param.List([], doc="Scene ids ticked for approving at once.")
    queue_notice = param.Parameter(None, doc="(message, kind) said over the queue, or None.")
    queue_asks = param.Boolean(False, doc="Asking to approve the selection anyway.")
    unread = param.List([], doc="The user's unread notifications.")

    take = param.ClassSelector(class_=Take, default=None, allow_None=True, doc="In the player.")
    rejecting = param.Boolean(False, doc="The reject-segment form is open.")
    notice = param.Parameter(None, doc="(message, kind) said in the player, or None.")
    pending_verb = param.String(None, allow_None=True, doc="The decision asked about.")
    notes = param.List([], doc="The open take's threaded notes.")
    replying_to = param.ClassSelector(class_=ThreadedNote, default=None, allow_None=True)

    def __init__(self, url: str, storage: Storage, expired: Callable[[AuthError], None]):
        super().__init__()
        self.url = url
        self.token: str | None = None
        self.actions = ActionRunner(expired, self.say)
        self.player = Player(storage, self.actions)
        self.offer = UndoOffer(self.undo)
        self.queue_offer = UndoOffer(self.undo)
        self.param.watch(lambda *_: self.list_takes(), ["project", "character"])

    def say(self, message: str, kind: str = "info") -> None:
        """Say `message` in the player's notice box (kind: a Bootstrap alert type)."""
        self.param.update(notice=(message, kind))

    def say_over_queue(self, message: str, kind: str = "info") -> None:
        """Say `message` over the queue."""
        self.param.update(queue_notice=(message, kind))

    def _call(self, service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a service function on a fresh connection: `service(conn, *args, **kwargs)`."""
        with connect(self.url) as conn:
            return service(conn, *args, **kwargs)

    # -- login ---------------------------------------------------------------------------

    def sign_in(self, signed_in: "SignedIn") -> None:
        """After login: what the user's role may do, then the queue."""
        self.token = signed_in.token
        self.param.update(
            user=signed_in.user,
            may_review=allows(signed_in.user, Permission.REVIEW),
            may_write_notes=allows(signed_in.user, Permission.WRITE_NOTES),
        )
        self.show_queue()

    def sign_out(self) -> None:
        """After logout or a refused session: back to the login form."""
        self.token = None
        self.player.close()
        self.param.update(take=None, user=None, screen="login")

    # -- queue and notifications ---------------------------------------------------------

    def show_queue(self) -> None:
        """Read the takes awaiting review and show the queue."""
        if self.token is None:
            return
        self.take = None
        self.player.close()
        done = self.actions.run(lambda: self._call(review_queue, self.token), self.say_over_queue)
        if done is None:
            return
        takes = done.value
        projects = [ALL, *sorted({t.project for t in takes})]
        characters = [ALL, *sorted({t.character for t in takes})]
        self.param.update(
            takes=takes,
            projects=projects,
            characters=characters,
            project=self.project if self.project in projects else ALL,
            character=self.character if self.character in characters else ALL,
        )
        self.list_takes()
        self.show_notifications()
        self.screen = "queue"

    def list_takes(self) -> None:
        """The queue's takes that pass the project and character filters (none ticked)."""
        self.param.update(
            shown=[
                take
                for take in self.takes
                if self.project in (ALL, take.project) and self.character in (ALL, take.character)
            ],
            selected=[],
        )

    def tick(self, scene_id: int, ticked: bool) -> None:
        """Tick a take of the queue for approving at once, or untick it."""
        rest = [s for s in self.selected if s != scene_id]
        self.selected = [*rest, scene_id] if ticked else rest

    def approve_selected(self, acknowledge: bool = False) -> None:
        """Approve every ticked take at once through the review service, all or nothing;
        when some have open notes, say so and offer to approve anyway."""
        if self.token is None:
            return
        self.queue_asks = False
        ids = [scene_id for take in self.shown if (scene_id := take.scene_id) in self.selected]
        if not ids:
            self.say_over_queue("select the takes to approve first", "warning")
            return

        def ask(error: TrulienceError) -> None:
            self.say_over_queue(refusal(error), "warning")
            self.queue_asks = True

        done = self.actions.run(
            lambda: self._call(
                batch_decide, self.token, ids, "approved", acknowledge_open_notes=acknowledge
            ),
            self.say_over_queue,
            {OpenNotesRemain: ask},
        )
        if done is None:
            return
        self.show_queue()
        self.say_over_queue(f"{len(done.value)} takes approved", "success")
        self.queue_offer.offer([d for d in done.value if not d.repeated])

    def show_notifications(self) -> None:
        """Re-read the logged-in user's unread notifications into the tray."""
        if self.token is None:
            return
        done = self.actions.run(
            lambda: self._call(lambda conn: unread(conn, self._user(conn))), self.say_over_queue
        )
        if done is not None:
            self.unread = done.value

    def mark_all_read(self) -> None:
        """Mark all of the user's notifications read and empty the tray."""
        if self.token is None:
            return
        done = self.actions.run(
            lambda: self._call(lambda conn: mark_read(conn, self._user(conn))),
            self.say_over_queue,
        )
        if done is not None:
            self.show_notifications()

    def _user(self, conn: Any) -> User:
        return accounts.user_for_session(conn, self.token or "")

    # -- the player ----------------------------------------------------------------------

    def open_take(self, take: Take) -> None:
        """Show a take in the player at its first frame, with its notes."""
        # an offer or a question about the previous take must not act on this one
        self.offer.withdraw()
        self.param.update(take=take, notice=None, pending_verb=None, rejecting=False)
        self.close_reply()
        self.screen = "player"
        if self.player.load(take):
            found = self._call(current_segments, take.scene_id)
            self.player.show(segment_spans({i: s.frames for i, s in found.items()}))
        self.show_notes()

    # -- decisions -----------------------------------------------------------------------

    def decide(self, verb: str, acknowledge: bool = False) -> None:
        """Approve, reject or flag the revision of the open take on screen through the
        review service; when the take has open notes, say so and ask before deciding."""
        take = self.take
        if take is None or self.token is None:
            return
        self.pending_verb = None

        def ask(error: TrulienceError) -> None:
            self.say(refusal(error), "warning")
            self.pending_verb = verb

        done = self.actions.run(
            lambda: self._call(
                decide,
                self.token,
                take.scene_id,
                verb,
                revision=take.revision,
                acknowledge_open_notes=acknowledge,
            ),
            answers={OpenNotesRemain: ask},
        )
        if done is None:
            return
        decision, verb_done = done.value, VERB_DONE[verb]
        if decision.repeated:
            self.say(f"already {verb_done} by {decision.reviewer}", "info")
        elif decision.request_delivery:
            self.say(f"{verb_done} — delivery requested", "success")
        else:
            self.say(f"{verb_done} by {decision.reviewer}", "info")
        if not decision.repeated:
            self.offer.offer([decision])

    def confirm(self) -> None:
        """The reviewer read the open notes and decides anyway."""
        if self.pending_verb is not None:
            self.decide(self.pending_verb, acknowledge=True)

    def undo(self, decisions: list[Decision]) -> None:
        """Take back the decisions just made (an Undo offer, within the window)."""
        if self.token is None:
            return
        say = self.say if self.take is not None else self.say_over_queue
        ids = [d.review_id for d in decisions]
        if self.actions.run(lambda: self._call(undo_decision, self.token, ids), say) is None:
            return
        undone = f"{len(decisions)} decisions undone" if len(decisions) > 1 else "decision undone"
        if self.take is None:
            self.show_queue()
        say(f"{undone} — back in the queue for review", "info")

    def toggle_reject_form(self) -> None:
        """Open or close the form that rejects the segment on screen."""
        self.rejecting = not self.rejecting

    def reject_segment(self, note: str) -> bool:
        """Reject the open take because of the segment on screen, with `note`; whether it
        was rejected (the form's note may then be cleared)."""
        take, span = self.take, self.player.segment()
        if take is None or self.token is None:
            return False
        if span is None:
            self.say("no committed segment covers this frame", "warning")
            return False
        done = self.actions.run(
            lambda: self._call(reject_segment, self.token, take.scene_id, span.index, note)
        )
        if done is None:
            return False
        self.rejecting = False
        self.say(f"segment {span.index} rejected — sent back for regeneration", "success")
        self.show_notes()
        return True

    # -- notes ---------------------------------------------------------------------------

    def _note_action(self, act: Callable[[], object], done: str) -> bool:
        """Run one note action through the service; say the outcome and re-read the notes."""
        if self.actions.run(act) is None:
            return False
        self.say(done, "success")
        self.show_notes()
        return True

    def write_note(self, body: str) -> bool:
        """Add a note at the frame on screen; whether it was added."""
        take, token, frame = self.take, self.token, self.player.index
        if take is None or token is None or not body:
            return False
        return self._note_action(
            lambda: self._call(add_note, token, take.scene_id, body, frame=frame),
            f"note added at frame {frame}",
        )

    def start_reply(self, note: ThreadedNote) -> None:
        """Open the reply box under the notes, for a reply to `note`."""
        self.replying_to = note

    def close_reply(self) -> None:
        """Close the reply box."""
        self.replying_to = None

    def write_reply(self, body: str) -> bool:
        """Add a reply under the note being replied to; whether it was added."""
        take, token, note = self.take, self.token, self.replying_to
        if take is None or token is None or note is None or not body:
            return False
        replied = self._note_action(
            lambda: self._call(add_note, token, take.scene_id, body, reply_to=note.id),
            f"reply added to {note.author}'s note",
        )
        if replied:
            self.close_reply()
        return replied

    def set_note_status(self, note: ThreadedNote, resolved: bool) -> None:
        """Resolve an open note, or reopen a resolved one."""
        token = self.token
        if token is None:
            return
        self._note_action(
            lambda: self._call(resolve_note if resolved else reopen_note, token, note.id),
            f"note {'resolved' if resolved else 'reopened'}",
        )

    def show_notes(self) -> None:
        """Re-read the open take's notes (other reviewers' notes and replies appear too)."""
        take = self.take
        if take is None or self.token is None:
            return
        done = self.actions.run(lambda: self._call(notes_for, self.token, take.scene_id))
        if done is not None:
            self.notes = done.value
            self.player.mark_notes([n.frame for n in done.value if n.frame is not None])
