"""The queue page's session state, apart from its views (PRD-08, PRD-34): who is signed in,
the pool shown, what runs on each of its workers and what waits, in order, with position and
estimate; the batches Dagster runs or will run; the take opened in the drawer (its committed
segments as they land, its control, its priority); and the question a destructive action
asks before it runs.

Plain Python drives it as the page does (tests/test_queue_app_state.py): sign in through
`login`, `read()` (the page calls it on each catalog event and every few seconds), then
`set_priority` / `nudge_priority`, `control`, `open_take`, `drain` / `undrain`, and `interrupt` /
`release`, which ask first (`asking`) and run on `confirm()`. Every action goes through the
one `ActionRunner`; the permission is checked for the session's user (`actor_name`) and the
change is made on a connection acting as that user, so the audit log names them. Producers
(`request_regeneration`) reorder and pause, resume or cancel takes; operators
(`operate_workers`: admins) also drain, interrupt and free workers.
"""

import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

import param
import psycopg

from apps.actions import ActionRunner
from apps.images import png_data_url
from apps.login import Login, SignedIn
from apps.notices import Says
from apps.queue_rows import (
    DEFAULT_POOL,
    BatchRow,
    CommittedSegment,
    Drawer,
    WaitingRow,
    WorkerRow,
    read_pool,
)
from trulience.auth import users as accounts
from trulience.auth.acting import actor_name
from trulience.auth.permissions import Permission, allows, require
from trulience.catalog import scenes
from trulience.catalog.database import connect, database_url
from trulience.catalog.errors import InvalidValue
from trulience.catalog.records import User
from trulience.catalog.segments import current_segments
from trulience.config import Settings
from trulience.media.frames import frame_at
from trulience.storage import Storage
from trulience.workers import pool, segment_queue
from trulience.workers.interrupt import interrupt_worker

T = TypeVar("T")
# what a take's control is called on the page
CONTROLS = {"pause": "paused", "run": "resumed", "cancel": "cancelled"}


class QueueSession(Says):
    """One browser session of the queue page; reads nothing until a login with view."""

    user = param.ClassSelector(class_=User, default=None, allow_None=True)
    pool = param.String(default=DEFAULT_POOL, doc="The pool shown.")
    pools = param.List(default=[DEFAULT_POOL], doc="Every pool with a registered worker.")
    workers = param.List(default=[], item_type=WorkerRow)
    waiting = param.List(default=[], item_type=WaitingRow)
    batches = param.List(default=[], item_type=BatchRow)
    drawer = param.ClassSelector(class_=Drawer, default=None, allow_None=True)
    asking = param.String(default=None, allow_None=True, doc="The question awaiting Confirm.")
    may_reorder = param.Boolean(default=False, doc="Reorder, pause, resume, cancel takes.")
    may_operate = param.Boolean(default=False, doc="Drain, interrupt, free workers.")
    more = param.Boolean(default=False, doc="The per-worker actions shown: behind More.")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-queue-")
        self._pictures: dict[str, str | None] = {}
        self._pending: Callable[[], None] | None = None
        self.login = Login(self.url, "queue", Permission.VIEW, self._signed_in, self._signed_out)
        # a refused session goes back to the form; a missing permission is said "not allowed"
        self.runner = ActionRunner(self.login.expired, self.say)
        self.param.watch(lambda _: self.read(), "pool")

    # -- login ---------------------------------------------------------------------------

    def _signed_in(self, signed_in: SignedIn) -> None:
        user = signed_in.user
        self.param.update(
            user=user,
            may_reorder=allows(user, Permission.REQUEST_REGENERATION),
            may_operate=allows(user, Permission.OPERATE_WORKERS),
        )
        self.read()

    def _signed_out(self) -> None:
        self.param.update(user=None, drawer=None, asking=None, workers=[], waiting=[])
        self._pending = None

    # -- reading -------------------------------------------------------------------------

    def _viewing(self, read: Callable[[psycopg.Connection], T]) -> T | None:
        """`read` while this session may view; None once refused (the refusal is said)."""
        token = self.login.token
        if token is None:
            return None

        def checked() -> T:
            with connect(self.url) as conn:
                require(accounts.user_for_session(conn, token), Permission.VIEW)
                return read(conn)

        done = self.runner.run(checked)
        return None if done is None else done.value

    def read(self) -> None:
        """Re-read the pool's workers, line and batches, and the open take; a list that did
        not change is left as it is (its rows keep their place on the page)."""
        found = self._viewing(self._read)
        if found is None:
            return
        pools, workers, waiting, batches = found
        changed = {
            name: value
            for name, value in {
                "pools": pools,
                "workers": workers,
                "waiting": waiting,
                "batches": batches,
            }.items()
            if getattr(self, name) != value
        }
        if changed:
            self.param.update(**changed)
        if self.drawer is not None:
            self.open_take(self.drawer.scene_id)

    def _read(self, conn: psycopg.Connection):
        return read_pool(conn, self.pool)

    # -- the open take -------------------------------------------------------------------

    def open_take(self, scene_id: int) -> None:
        """Open take `scene_id` in the drawer (re-read: its newly committed segments)."""
        drawer = self._viewing(lambda conn: self._drawer(conn, scene_id))
        if drawer is not None and drawer != self.drawer:
            self.drawer = drawer

    def close_take(self) -> None:
        """Close the drawer."""
        self.drawer = None

    def _drawer(self, conn: psycopg.Connection, scene_id: int) -> Drawer:
        take = scenes.get_take(conn, scene_id)
        label = next(
            (r.label.rsplit(" segment ", 1)[0] for r in self.waiting if r.scene_id == scene_id),
            None,
        ) or next(
            (s.label for w in self.workers for s in w.running if s.scene_id == scene_id),
            f"take {take.take} (#{scene_id})",
        )
        priority = next((r.priority for r in self.waiting if r.scene_id == scene_id), None)
        committed = tuple(
            CommittedSegment(s.index, s.attempt, s.frames, self._picture(s.uri, s.sha256))
            for s in current_segments(conn, scene_id).values()
        )
        return Drawer(
            scene_id,
            label,
            take.status,
            take.control,
            priority,
            take.planned_segments,
            committed,
        )

    def _picture(self, uri: str | None, sha256: str | None) -> str | None:
        """A segment's first frame as a data: URL, decoded once per file."""
        if uri is None or sha256 is None:
            return None
        if sha256 not in self._pictures:
            try:
                key = self.storage.key_of(uri)
                path = self.storage.local_file(key, self._downloads.name)
                self._pictures[sha256] = png_data_url(frame_at(path, 0))
            except Exception:  # a missing or unreadable file: the row says "no picture"
                self._pictures[sha256] = None
        return self._pictures[sha256]

    # -- actions -------------------------------------------------------------------------

    def _act(
        self,
        permission: Permission,
        work: Callable[[psycopg.Connection, str], str],
    ) -> bool:
        """Run `work(conn, who)` as the signed-in user, once they may `permission`, say what
        it returns, re-read; False when it was refused (the refusal is said)."""
        token = self.login.token
        if token is None:
            return False

        def action() -> str:
            with connect(self.url) as conn:
                who = actor_name(conn, token, permission)
            with connect(self.url, actor=who) as conn:
                return work(conn, who)

        done = self.runner.run(action)
        if done is None:
            return False
        self.say(done.value, "success")
        self.read()
        return True

    def set_priority(self, scene_id: int, value: Any) -> bool:
        """Set a take's priority (-100..100, higher first): its waiting segments move."""
        try:
            priority = int(str(value).strip())
        except ValueError:
            refused = InvalidValue("take", "priority", value, "must be a whole number")
            self.say(str(refused), "danger")
            return False

        def work(conn: psycopg.Connection, _who: str) -> str:
            segment_queue.set_take_priority(conn, scene_id, priority)
            return f"take #{scene_id}: priority {priority}"

        return self._act(Permission.REQUEST_REGENERATION, work)

    def nudge_priority(self, scene_id: int, delta: int) -> bool:
        """Raise (+) or lower (-) a take's priority by `delta` from what it is now."""
        now = next((r.priority for r in self.waiting if r.scene_id == scene_id), None)
        if now is None and self.drawer is not None and self.drawer.scene_id == scene_id:
            now = self.drawer.priority
        return self.set_priority(scene_id, max(-100, min(100, (now or 0) + delta)))

    def control(self, scene_id: int, control: str) -> bool:
        """Pause, resume (`run`) or cancel a take; the loop obeys between segments. A cancel
        asks first."""
        if control not in CONTROLS:
            raise ValueError(f"control must be one of {', '.join(CONTROLS)}, not {control!r}")

        def work(conn: psycopg.Connection, who: str) -> str:
            scenes.set_take_control(conn, scene_id, control, who)
            return f"take #{scene_id} {CONTROLS[control]} (it acts on it between segments)"

        if control == "cancel":
            return self._ask(
                f"Cancel take #{scene_id}? Its committed segments stay; it stops before the next.",
                lambda: self._act(Permission.REQUEST_REGENERATION, work),
            )
        return self._act(Permission.REQUEST_REGENERATION, work)

    def drain(self, worker: str) -> bool:
        """Drain a worker: it finishes what it runs and takes no new segments."""
        return self._worker_state(worker, "draining")

    def undrain(self, worker: str) -> bool:
        """Put a drained worker back online: the first in line is given its free slots."""
        return self._worker_state(worker, "online")

    def _worker_state(self, worker: str, state: str) -> bool:
        def work(conn: psycopg.Connection, _who: str) -> str:
            done = pool.set_state(conn, worker, state)
            return f"worker {done.name}: {done.state} ({done.active_leases} running)"

        return self._act(Permission.OPERATE_WORKERS, work)

    def interrupt(self, worker: str) -> bool:
        """Ask, then stop our takes' prompts on `worker` and cancel those takes."""

        def work(conn: psycopg.Connection, who: str) -> str:
            stopped = interrupt_worker(conn, worker, who)
            if not stopped:
                return f"worker {worker}: no take of ours is running or queued there"
            return "; ".join(s.describe() for s in stopped)

        return self._ask(
            f"Interrupt worker {worker}? The takes it runs are cancelled.",
            lambda: self._act(Permission.OPERATE_WORKERS, work),
        )

    def release(self, worker: str, lease_id: int) -> bool:
        """Ask, then free a slot of `worker`: its lease is released as failed (a run still
        holding it loses it at its next heartbeat) and goes to the first in line."""

        def work(conn: psycopg.Connection, _who: str) -> str:
            pool.release(conn, lease_id, "failed")
            return f"worker {worker}: lease {lease_id} released; its slot goes to who waits"

        return self._ask(
            f"Free lease {lease_id} on worker {worker}? The segment holding it loses its slot.",
            lambda: self._act(Permission.OPERATE_WORKERS, work),
        )

    # -- asking first --------------------------------------------------------------------

    def _ask(self, question: str, then: Callable[[], bool]) -> bool:
        self._pending = then
        self.asking = question
        return False

    def confirm(self) -> bool:
        """Run the action that asked; False when none waits or it was refused."""
        then, self._pending = self._pending, None
        self.asking = None
        return False if then is None else then()

    def dismiss(self) -> None:
        """Do not run the action that asked."""
        self._pending, self.asking = None, None
