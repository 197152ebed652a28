"""One reviewer's session of the review app, apart from how it is shown.

`ReviewSession` holds what the page shows: the signed-in user and what their role may do,
the queue and its filters, the open take and the frame on screen, the notes, the questions
asked (open notes) and the Undo offers; others' notes and decisions arrive live (PRD-11).
Its methods are the app's actions: each calls `trulience.review` (or `trulience.notify`)
with the session's token through one `ActionRunner`, which maps a refusal once. The views in
`apps/review_views.py` watch these parameters and call these methods; a plain Python test
drives them against the database.

Why this module is long: the house keeps one state object per page, and the review page's
actions (the queue with its filters, sorts, thumbnails and assignments; decisions; notes;
trims; sensitivity; live events) are many over the same token, runner and notices; each is a
few lines over one service call, so splitting the class would only pass all of that between
objects.
"""

import contextlib
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import param

from apps.actions import ActionRunner, refusal
from apps.live import Hub
from apps.media_routes import media_url
from apps.review_news import already_shown, news
from apps.review_player import Player, SegmentSpan, segment_spans, storyboard_key
from apps.undo import UndoOffer
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, allows
from trulience.catalog.database import connect
from trulience.catalog.notifications import Notification
from trulience.catalog.records import User
from trulience.catalog.trims import shown_frames
from trulience.delivery.trims import trim_segment
from trulience.errors import TrulienceError
from trulience.media.thumbnail import take_thumbnail, thumbnail_key
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
from trulience.review.queue import REVIEW_STATUSES, SORTS, QueueFilters, assign, queue, reviewers
from trulience.review.regenerate import reject_segment
from trulience.review.sensitivity import blurred_copy, blurred_for
from trulience.storage import Storage

if TYPE_CHECKING:  # the login form is Panel; the session is not
    from apps.login import SignedIn

T = TypeVar("T")

VERB_DONE = {"approve": "approved", "reject": "rejected", "flag": "flagged"}
ALL = "(all)"
SCREENS = ("login", "queue", "player")
AWAITING = "awaiting"
MINE, UNASSIGNED = "mine", "unassigned"


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
    review_status = param.Selector(objects=[*REVIEW_STATUSES, ALL], default=AWAITING)
    assignee = param.String(ALL, doc="(all), mine, unassigned or a reviewer's username.")
    overdue = param.Boolean(False, doc="Only takes past their due date, still awaiting review.")
    sort = param.Selector(objects=list(SORTS), default="age")
    may_assign = param.Boolean(False, doc="Whether the role may assign takes (set at login).")
    reviewers = param.List([], doc="Usernames a take can be assigned to.")
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
    sensitive = param.Boolean(False, doc="The open take is shown blurred until revealed.")

    def __init__(
        self,
        url: str,
        storage: Storage,
        expired: Callable[[AuthError], None],
        live: Hub | None = None,
    ):
        super().__init__()
        self.url = url
        self.live, self._unsubscribe = live, lambda: None  # live None: no live events
        self.token: str | None = None
        self.actions = ActionRunner(expired, self.say)
        self.storage = storage
        self.player = Player(storage, self.actions)
        self.offer = UndoOffer(self.undo)
        self.queue_offer = UndoOffer(self.undo)
        self.param.watch(lambda *_: self.list_takes(), ["project", "character"])
        self.param.watch(
            lambda *_: self.read_queue(), ["review_status", "assignee", "overdue", "sort"]
        )
        self.param.watch(lambda e: e.new is None and self.stop_hearing(), "take")
        # "Reveal" in the browser player shows the whole take as it is (PRD-82)
        self.player.param.watch(lambda e: e.new or self.reveal(), "blurred")

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
            may_assign=allows(signed_in.user, Permission.ASSIGN_REVIEWS),
        )
        self.show_queue()

    def sign_out(self) -> None:
        """After logout or a refused session: back to the login form."""
        self.token = None
        self.player.close()
        self.param.update(take=None, user=None, notes=[], screen="login")

    # -- queue and notifications ---------------------------------------------------------

    def show_queue(self) -> None:
        """Read the queue (by default the takes awaiting review) and show it."""
        if self.token is None:
            return
        self.take = None
        self.player.close()
        if not self.read_queue():
            return
        self.show_notifications()
        self.screen = "queue"

    def _filters(self) -> QueueFilters:
        return QueueFilters(
            review_status=None if self.review_status == ALL else self.review_status,
            assignee=None if self.assignee == ALL else self.assignee,
            overdue=self.overdue,
        )

    def read_queue(self) -> bool:
        """Re-read the queue with its status, assignee and overdue filters, in its order;
        the project and character choices are those of the takes read. Whether it was read."""
        if self.token is None:
            return False
        token, filters, sort = self.token, self._filters(), self.sort

        def read(conn: Any) -> tuple[list[Take], list[str]]:
            return queue(conn, token, filters, sort), reviewers(conn, token)

        done = self.actions.run(lambda: self._call(read), self.say_over_queue)
        if done is None:
            return False
        takes, people = done.value
        projects = [ALL, *sorted({t.project for t in takes})]
        characters = [ALL, *sorted({t.character for t in takes})]
        self.param.update(
            takes=takes,
            projects=projects,
            characters=characters,
            project=self.project if self.project in projects else ALL,
            character=self.character if self.character in characters else ALL,
            reviewers=people,
        )
        self.list_takes()
        return True

    def thumbnail_url(self, take: Take, make: bool = True) -> str | None:
        """The URL of the take's thumbnail (made and stored beside it on first use unless
        `make` is False), or None when there is none. (Sensitive takes' blur: decided here.)"""
        if take.uri is None:
            return None
        with contextlib.suppress(TrulienceError, OSError, ValueError):
            video_key = self.storage.key_of(take.uri)
            if make:
                key = take_thumbnail(self.storage, video_key)
            else:
                stored = thumbnail_key(video_key)
                key = stored if self.storage.exists(stored) else None
            return None if key is None else media_url(key)
        return None

    def assign(self, scene_ids: list[int], username: str, due: date | None = None) -> bool:
        """Assign the takes to `username`, due at the end of `due` if given (a producer's or
        admin's action), then re-read the queue; whether they were assigned."""
        if self.token is None or not scene_ids:
            if not scene_ids:
                self.say_over_queue("select the takes to assign first", "warning")
            return False
        token = self.token

        def assign_all(conn: Any) -> None:
            with conn.transaction():  # all or none
                for scene_id in scene_ids:
                    assign(conn, token, scene_id, username, due)

        if self.actions.run(lambda: self._call(assign_all), self.say_over_queue) is None:
            return False
        self.read_queue()
        when = "" if due is None else f", due {due:%Y-%m-%d}"
        count = f"{len(scene_ids)} takes" if len(scene_ids) > 1 else "take"
        self.say_over_queue(f"{count} assigned to {username}{when}", "success")
        return True

    def assign_selected(self, username: str, due: date | None = None) -> bool:
        """Assign the ticked takes of the queue to `username` (see `assign`)."""
        ids = [take.scene_id for take in self.shown if take.scene_id in self.selected]
        return self.assign(ids, username, due)

    def open_notified(self, notification: Notification) -> None:
        """Open the take a notification is about (an assignment, a mention on a take)."""
        scene_id = notification.subject.get("scene_id")
        take = next((t for t in self.takes if t.scene_id == scene_id), None)
        if take is None:
            self.say_over_queue(f"take {scene_id} is not in the queue as filtered", "warning")
            return
        self.open_take(take)
        frame = notification.subject.get("frame")
        if isinstance(frame, int):
            self.player.jump_to(frame)

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
            self.player.show(segment_spans(self._call(shown_frames, take.scene_id)))
        self._blur_if_sensitive(take)
        self.show_notes()
        self.hear(take)

    # -- sensitivity and trims -----------------------------------------------------------

    def _blur_if_sensitive(self, take: Take) -> None:
        """Blur the open take (its storyboard the blurred copy) when it is sensitive and the
        user chose to blur such media."""
        done = self.actions.run(
            lambda: self._call(lambda c: blurred_for(c, self._user(c), take.scene_id))
        )
        self.sensitive = self.player.blurred = bool(done and done.value)
        if self.sensitive:
            self.player.storyboard = self._storyboard(take, blurred=True)

    def reveal(self) -> None:
        """Show the open sensitive take as it is (this take only, until it is opened again)."""
        if self.take is not None and self.sensitive:
            self.sensitive = self.player.blurred = False
            self.player.storyboard = self._storyboard(self.take, blurred=False)

    def _storyboard(self, take: Take, *, blurred: bool) -> bytes | None:
        storage = self.player.storage
        key = None if take.uri is None else storyboard_key(storage.key_of(take.uri))
        if key is None or not storage.exists(key):
            return None
        return storage.read_bytes(blurred_copy(storage, key) if blurred else key)

    def trim(self, head: int, tail: int) -> bool:
        """Trim `head` and `tail` frames from the segment on screen and reassemble the take;
        the player then shows the new revision at the same segment. Whether it was trimmed."""
        on_screen = self._segment_on_screen()
        if on_screen is None:
            return False
        take, span = on_screen
        done = self.actions.run(
            lambda: self._call(
                trim_segment, self.token, self.player.storage, take.scene_id, span.index, head, tail
            )
        )
        if done is None:
            return False
        fresh = self.actions.run(lambda: self._call(review_queue, self.token))
        again = (
            next((t for t in fresh.value if t.scene_id == take.scene_id), None) if fresh else None
        )
        if again is not None:
            self.open_take(again)
            self.player.go_to(span.start)
        self.say(
            f"segment {span.index} trimmed (head {head}, tail {tail}): "
            f"{done.value.frames} frames, revision {done.value.revision}",
            "success",
        )
        return True

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

    def _segment_on_screen(self) -> "tuple[Take, SegmentSpan] | None":
        """The open take and the committed segment under the frame on screen; None (and
        said, when no segment covers the frame) when there is none."""
        take, span = self.take, self.player.segment()
        if take is None or self.token is None:
            return None
        if span is None:
            self.say("no committed segment covers this frame", "warning")
            return None
        return take, span

    def toggle_reject_form(self) -> None:
        """Open or close the form that rejects the segment on screen."""
        self.rejecting = not self.rejecting

    def reject_segment(self, note: str) -> bool:
        """Reject the open take because of the segment on screen, with `note`; whether it
        was rejected (the form's note may then be cleared)."""
        on_screen = self._segment_on_screen()
        if on_screen is None:
            return False
        take, span = on_screen
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
        """Add a note at the frame on screen, with what is drawn on it (the player's
        `drawing`, cleared once saved); whether it was added."""
        take, token, frame = self.take, self.token, self.player.index
        drawing, storage = self.player.drawing, self.player.storage
        if take is None or token is None or not body:
            return False
        added = self._note_action(
            lambda: self._call(
                add_note, token, take.scene_id, body, frame=frame, drawing=drawing, storage=storage
            ),
            f"{'drawn ' if drawing else ''}note added at frame {frame}",
        )
        if added:
            self.player.drawing = None
        return added

    def overlays(self) -> list[dict[str, Any]]:
        """The open take's drawn notes for the player: [{"frame": n, "drawing": {...}}]."""
        drawn = [n.drawing for n in self.notes if n.drawing is not None]
        return [{"frame": d["frame"], "drawing": d} for d in drawn]

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
        """Re-read the open take's notes; the same again leave the list (and a click) be."""
        take = self.take
        if take is None or self.token is None:
            return
        done = self.actions.run(lambda: self._call(notes_for, self.token, take.scene_id))
        if done is not None and (done.value != self.notes or not done.value):
            self.notes = done.value
            self.player.mark_notes([n.frame for n in done.value if n.frame is not None])
            self.player.overlays = self.overlays()

    # -- live: other reviewers' notes and decisions (PRD-11) ------------------------------

    def hear(self, take: Take) -> None:
        """Follow the catalog's events about `take` (and no other) on this session's page."""
        self.stop_hearing()
        if self.live is not None:
            self._unsubscribe = self.live.subscribe(take.scene_id, self.heard)

    def stop_hearing(self) -> None:
        """No more events (the take was closed, or the user signed out)."""
        self._unsubscribe()
        self._unsubscribe = lambda: None

    def heard(self, event: dict[str, Any]) -> None:
        """An event about the open take: re-read its notes and say what someone else did."""
        take = self.take
        if take is None or self.token is None or event.get("scene_id") != take.scene_id:
            return  # a late event about a take no longer open
        if not already_shown(event, {note.id for note in self.notes}):
            self.show_notes()
        said = news(event, None if self.user is None else self.user.display_name)
        if said is not None:
            self.say(said, "info")
