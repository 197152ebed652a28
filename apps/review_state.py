"""One reviewer's session of the review app, apart from how it is shown.

`ReviewSession` holds what the page shows: the signed-in user and what their role may do,
the queue and its filters, the open take and the frame on screen, the notes, the questions
asked (open notes) and the Undo offers, the trim of the segment on screen (PRD-78) and
the branches of the open take's cell (PRD-50), a new branch made from it; others' notes and
decisions arrive live (PRD-11), and so does whatever changes the queue or the branches (a
decision, an assignment, a new take or revision, a promotion, by anyone or the CLI).
Its methods are the app's actions: each calls `trulience.review` (or `trulience.notify`)
with the session's token through one `ActionRunner`, which maps a refusal once. The views in
`apps/review_views.py` watch these parameters and call these methods; a plain Python test
drives them against the database.

Why this module is long: the house keeps one state object per page, and the review page's
actions (the queue with its filters, sorts, thumbnails and assignments; decisions; notes;
trims; branches; sensitivity; live events) are many over the same token, runner and
notices; each is a few lines over one service call, so splitting the class would only pass
all of that between objects.
"""

import contextlib
import random
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import param

from apps.actions import ActionRunner, refusal
from apps.live import EVERY_TAKE, Hub
from apps.media_routes import media_url
from apps.review_news import already_shown, news
from apps.review_player import Player, SegmentSpan, segment_spans, storyboard_key
from apps.undo import UndoOffer
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, allows, require
from trulience.catalog import events
from trulience.catalog.branches import BranchRow, branch_marks
from trulience.catalog.database import connect
from trulience.catalog.notifications import Notification
from trulience.catalog.records import User
from trulience.catalog.scenes import get_take
from trulience.catalog.trims import Trim, current_trims, shown_frames
from trulience.catalog.workflows import list_workflows
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
from trulience.review import branches as branching
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
# A new branch's seed is new and random unless the reviewer types one.
SEEDS = range(2**31)


def differs(overrides: dict[str, Any]) -> str:
    """What a branch changes from its scene type's configuration, in words."""
    parts = []
    if "seed" in overrides:
        parts.append(f"seed {overrides['seed']}")
    if overrides.get("params"):
        pairs = ", ".join(f"{k}={v}" for k, v in sorted(overrides["params"].items()))
        parts.append(f"params {pairs}")
    if "workflow" in overrides:
        version = overrides.get("workflow_version")
        parts.append(
            f"workflow {overrides['workflow']}" + ("" if version is None else f" v{version}")
        )
    return "; ".join(parts) or "the scene type's own configuration"


def trim_from_points(
    span: SegmentSpan | None, standing: Trim | None, in_point: int | None, out_point: int | None
) -> tuple[int, int]:
    """The head and tail to cut from a segment as generated: its standing trim, plus the
    frames of the segment (as shown) before the player's in point and after its out point."""
    if span is None:
        return 0, 0
    head, tail = (0, 0) if standing is None else (standing.head, standing.tail)
    if in_point is not None and span.start < in_point < span.end:
        head += in_point - span.start
    if out_point is not None and span.start <= out_point < span.end - 1:
        tail += span.end - 1 - out_point
    return head, tail


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
    may_promote = param.Boolean(False, doc="Whether the role may promote a branch (at login).")
    reviewers = param.List([], doc="Usernames a take can be assigned to.")
    shown = param.List([], doc="The queue's takes that pass the filters.")
    marks = param.Dict({}, doc="Scene id → (branch, whether current) of the queue's takes.")
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
    trims = param.Dict({}, doc="The open take's standing trims, by segment index.")
    trim_head = param.Integer(0, allow_None=True, doc="Frames to cut from the segment's head.")
    trim_tail = param.Integer(0, allow_None=True, doc="Frames to cut from the segment's tail.")
    branches = param.List([], doc="The takes of the open take's cell, as branches (PRD-50).")
    compared = param.ClassSelector(class_=BranchRow, default=None, allow_None=True)
    promoting = param.ClassSelector(class_=BranchRow, default=None, allow_None=True)
    workflows = param.List([], doc="(name, version) of each workflow a new branch may use.")
    branch_seed = param.Integer(0, allow_None=True, doc="The new branch's seed (random).")

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
        self._unfollow_queue: Callable[[], None] = lambda: None
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
        # the trim panel follows the segment on screen and the player's in/out points
        self._trimmed_at: tuple[Any, ...] | None = None
        self.player.param.watch(
            lambda *_: self._prefill_trim(), ["segment_span", "in_point", "out_point"]
        )

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
            may_promote=allows(signed_in.user, Permission.REQUEST_REGENERATION),
        )
        self.follow_queue()
        self.show_queue()

    def sign_out(self) -> None:
        """After logout or a refused session: back to the login form."""
        self.token = None
        self._unfollow_queue()
        self._unfollow_queue = lambda: None
        self.player.close()
        self.param.update(
            take=None,
            user=None,
            notes=[],
            branches=[],
            trims={},
            compared=None,
            promoting=None,
            screen="login",
        )

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

    def read_queue(self, live: bool = False) -> bool:
        """Re-read the queue with its status, assignee and overdue filters, in its order;
        the project and character choices are those of the takes read. Whether it was read.
        `live` (another's change heard): the ticked takes still listed stay ticked, and a
        queue read the same again is left as shown."""
        if self.token is None:
            return False
        token, filters, sort = self.token, self._filters(), self.sort

        def read(conn: Any) -> tuple[list[Take], list[str], dict[int, tuple[str, bool]]]:
            takes = queue(conn, token, filters, sort)
            return takes, reviewers(conn, token), branch_marks(conn, [t.scene_id for t in takes])

        done = self.actions.run(lambda: self._call(read), self.say_over_queue)
        if done is None:
            return False
        takes, people, marks = done.value
        if live and (takes, people, marks) == (self.takes, self.reviewers, self.marks):
            return True
        projects = [ALL, *sorted({t.project for t in takes})]
        characters = [ALL, *sorted({t.character for t in takes})]
        self.param.update(
            takes=takes,
            projects=projects,
            characters=characters,
            project=self.project if self.project in projects else ALL,
            character=self.character if self.character in characters else ALL,
            reviewers=people,
            marks=marks,
        )
        self.list_takes(keep_selection=live)
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

    def list_takes(self, keep_selection: bool = False) -> None:
        """The queue's takes that pass the project and character filters (none ticked, or
        those still shown, with `keep_selection`)."""
        shown = [
            take
            for take in self.takes
            if self.project in (ALL, take.project) and self.character in (ALL, take.character)
        ]
        ids = {take.scene_id for take in shown}
        kept = [s for s in self.selected if s in ids] if keep_selection else []
        self.param.update(shown=shown, selected=kept)

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
        self.param.update(
            take=take,
            notice=None,
            pending_verb=None,
            rejecting=False,
            compared=None,
            promoting=None,
        )
        self.close_reply()
        self.screen = "player"
        if self.player.load(take):
            self.player.show(segment_spans(self._call(shown_frames, take.scene_id)))
        self._blur_if_sensitive(take)
        self._read_cell(take)
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

    def _read_cell(self, take: Take) -> None:
        """Read the open take's standing trims and the branches of its cell."""
        if self.token is None:  # refused just now: the login form says why
            return

        def read(conn: Any) -> tuple[dict[int, Trim], list[BranchRow], list[tuple[str, int]]]:
            require(self._user(conn), Permission.VIEW)
            flows = [(w.name, w.version) for w in list_workflows(conn)]
            return (
                current_trims(conn, take.scene_id),
                branching.branches(conn, take.scene_id),
                flows,
            )

        done = self.actions.run(lambda: self._call(read))
        trims, rows, flows = ({}, [], []) if done is None else done.value
        self.param.update(
            trims=trims, branches=rows, workflows=flows, branch_seed=random.choice(SEEDS)
        )
        self._prefill_trim(again=True)

    def _prefill_trim(self, again: bool = False) -> None:
        """The trim panel's head and tail for the segment on screen (`trim_from_points`),
        set again only when the segment, the in/out points or the standing trims changed,
        so what the user typed stays while they step within the segment."""
        player = self.player
        span = player.segment_span
        at = (span, player.in_point, player.out_point)
        if at == self._trimmed_at and not again:
            return
        self._trimmed_at = at
        standing = None if span is None else self.trims.get(span.index)
        head, tail = trim_from_points(span, standing, player.in_point, player.out_point)
        self.param.update(trim_head=head, trim_tail=tail)

    def trim_as_set(self) -> bool:
        """Trim the segment on screen by the trim panel's head and tail (see `trim`)."""
        return self.trim(self.trim_head, self.trim_tail)

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

    # -- branches of the open take's cell (PRD-50) -----------------------------------------

    def compare_branch(self, row: BranchRow) -> bool:
        """Play `row`'s take beside the open one in the player (the cell's current take
        instead, when `row` is the open take); whether it is compared."""
        take = self.take
        if take is None or self.token is None:
            return False
        current = next((b for b in self.branches if b.current), None)
        other = current if row.scene_id == take.scene_id else row
        if other is None or other.scene_id == take.scene_id:
            self.say(f"take {take.take} is the current take: compare another branch", "warning")
            return False
        label = f"take {other.take} ({other.branch})"

        def uri(conn: Any) -> str | None:
            require(self._user(conn), Permission.VIEW)
            return get_take(conn, other.scene_id).uri

        if self.actions.run(lambda: self.player.compare_with(self._call(uri), label)) is None:
            return False
        self.compared = other
        self.say(f"{label} beside take {take.take}, frame for frame", "info")
        return True

    def make_branch(
        self,
        name: str,
        seed: int | None,
        params: str = "",
        workflow: tuple[str, int] | None = None,
    ) -> bool:
        """Open branch `name` of the open take's cell through the branch service, as
        `trulience takes branch` does: `seed`, `params` as typed (a JSON object) and a
        workflow `(name, version)`; the new take waits in the list for the pipeline to
        generate it. Whether it was made (a refusal names the field and stores nothing)."""
        take, token = self.take, self.token
        if take is None or token is None:
            return False
        flow, version = (None, None) if workflow is None else workflow

        def make(conn: Any) -> Any:
            return branching.create_branch(
                conn,
                token,
                take.scene_id,
                name.strip(),
                seed=seed,
                params=branching.params_from_json(params),
                workflow=flow,
                workflow_version=version,
            )

        done = self.actions.run(lambda: self._call(make))
        if done is None:
            return False
        self.reread_branches()
        self.branch_seed = random.choice(SEEDS)
        self.say(
            f"branch {name.strip()}: take {done.value.take} waits for the pipeline to generate it",
            "success",
        )
        return True

    def reread_branches(self) -> None:
        """Re-read the open take's branches (left as shown when the same again)."""
        take = self.take
        if take is None or self.token is None:
            return

        def read(conn: Any) -> list[BranchRow]:
            require(self._user(conn), Permission.VIEW)
            return branching.branches(conn, take.scene_id)

        done = self.actions.run(lambda: self._call(read))
        if done is not None and done.value != self.branches:
            self.branches = done.value

    def stop_comparing(self) -> None:
        """Only the open take in the player again."""
        self.player.stop_comparing()
        self.compared = None

    def ask_promote(self, row: BranchRow) -> None:
        """Ask before making `row`'s take its cell's current take."""
        self.promoting = row
        self.say(f"promote take {row.take} ({row.branch}) to the current take?", "warning")

    def cancel_promote(self) -> None:
        """The promotion asked about is not made."""
        self.promoting = None
        self.notice = None

    def promote(self) -> bool:
        """Promote the take asked about to its cell's current take through the branch
        service (a producer's or admin's action), then re-read the branches and the queue;
        whether it was promoted."""
        row, take = self.promoting, self.take
        if row is None or take is None or self.token is None:
            return False
        self.promoting = None
        done = self.actions.run(lambda: self._call(branching.promote, self.token, row.scene_id))
        if done is None:
            return False
        self._read_cell(take)
        self.read_queue()
        self.say(
            f"take {row.take} ({row.branch}) is now the current take of "
            f"{take.character} · {take.scene_type}",
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

    def follow_queue(self) -> None:
        """Follow the catalog's queue events (decisions, assignments, new takes, revisions,
        promotions by anyone, the CLI too) while signed in."""
        self._unfollow_queue()
        if self.live is not None:
            self._unfollow_queue = self.live.subscribe(EVERY_TAKE, self.queue_changed, events.QUEUE)

    def queue_changed(self, event: dict[str, Any]) -> None:
        """Something in the queue changed: re-read it (the ticked takes stay ticked) and the
        open take's branches; the player is left as it is."""
        if self.token is None:
            return
        self.read_queue(live=True)
        self.reread_branches()

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
