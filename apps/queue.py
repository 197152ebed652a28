"""The queue page (PRD-08, PRD-34, PRD-06): what runs on each worker of a pool and what
waits for a slot, in order, with position and estimate; the batches Dagster runs; a take's
drawer with its committed segments as they land, Pause / Resume / Cancel and its priority;
an operator's Drain, Interrupt and Free on each worker.

Serve with `panel serve apps/queue.py --plugins apps.media_routes` (`make queue`, port 5009).
The page follows the catalog live: what the catalog announces on `trulience_pool` (a
request made, granted or given up, a take's priority or control, a batch's, a lease taken or
released, a worker drained: migrations 0026, 0036) and a take's change on `trulience_queue`
re-read it at once, whoever made the change (the CLI, the pipeline, another page). The
running segments' elapsed times tick every second, and the page re-reads every
`REREAD_S` seconds for what only time changes (a request whose waiter died, estimates).
Rows that did not change keep their DOM. State: apps/queue_state.py (what it reads:
apps/queue_rows.py); views: apps/queue_views.py.

Stable selectors (CSS classes), for tests and screenshots:
  .queue-pool (the pool chooser)
  .queue-workers > .queue-worker.queue-worker-<name>: .queue-worker-state, .queue-worker-gpu,
      .queue-running-segment[data-scene], .queue-worker-elapsed, .queue-worker-error;
      buttons .queue-worker-drain / .queue-worker-undrain ("Drain <name>"), .queue-interrupt
      ("Interrupt <name>"), .queue-free-lease ("Free lease <id>"), "Open take #<scene id>"
  .queue-waiting > .queue-request.queue-request-<request id>.queue-take-<scene id>:
      .queue-position ("#1"), .queue-priority, .queue-estimate, .queue-reason
  .queue-batches > .queue-batch.queue-batch-<id>
  .queue-drawer: .queue-drawer-status, .queue-drawer-control, .queue-drawer-priority,
      .queue-drawer-count; .queue-drawer-segments > .queue-segment.queue-segment-<index>
      > img.queue-segment-thumb; buttons .queue-pause, .queue-resume, .queue-cancel,
      .queue-priority-up, .queue-priority-down, .queue-priority-input, .queue-set,
      .queue-close
  .queue-confirm-text with .queue-confirm ("Confirm") and .queue-confirm-keep ("Keep")
"""

import panel as pn

from apps import theme
from apps.live import EVERY_TAKE, hub
from apps.notices import NoticeBox
from apps.queue_state import QueueSession
from apps.queue_views import (
    BatchesView,
    ConfirmView,
    DrawerView,
    WaitingView,
    WorkersView,
    wrapping,
)
from trulience.catalog import events
from trulience.config import Settings

# What the page listens to: the review pages' channels and the segment queue's grants.
CHANNELS = (*events.REVIEW_CHANNELS, events.POOL)
# How often the page re-reads what the catalog does not announce (and ticks elapsed times).
REREAD_S = 15  # what only time changes; announced changes are re-read at once
TICK_MS = 1000  # the running segments' elapsed clocks


class QueueApp:
    """One browser session of the queue page; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.session = session = QueueSession(settings)
        self.login = session.login
        self._unfollow: list = []  # while signed in on a served page: its live subscriptions
        self._periodic = None  # and its periodic tick
        self._ticks = 0  # ticks since the page was last re-read
        self.pool = pn.widgets.Select(
            label="Pool", options=session.pools, value=session.pool, css_classes=["queue-pool"]
        )
        session.param.watch(lambda e: setattr(self.pool, "options", e.new), "pools")
        self.pool.param.watch(lambda e: setattr(session, "pool", e.new), "value")
        self.workers = WorkersView(session)
        # an operator's per-worker actions, behind "More" (open or closed as last left)
        self.more = pn.widgets.Toggle.from_param(
            session.param.more, name="More", css_classes=["studio-more"]
        )
        self.more.visible = session.may_operate
        session.param.watch(lambda e: setattr(self.more, "visible", e.new), "may_operate")
        self.drawer = DrawerView(session)
        self.queue_view = pn.Column(
            wrapping(self.login.who, self.login.logout_button, self.pool, self.more),
            NoticeBox(session=session),
            ConfirmView(session),
            self.drawer,
            self.workers,
            WaitingView(session),
            BatchesView(session),
            sizing_mode="stretch_width",
        )
        self.body = pn.Column(self.login.form, self.queue_view, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Queue", self.body)

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.queue_view.visible = not signed_in, signed_in
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self._follow(signed_in)

    def _follow(self, signed_in: bool) -> None:
        """While signed in: the catalog's events and a periodic re-read; neither after."""
        for stop in self._unfollow:
            stop()
        self._unfollow = []
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None
        if not signed_in:
            return
        live = hub(self.session.url, CHANNELS)
        heard = lambda _event: self._reread()  # noqa: E731
        self._unfollow = [live.subscribe(EVERY_TAKE, heard, c) for c in (events.QUEUE, events.POOL)]
        self._periodic = pn.state.add_periodic_callback(self._tick, period=TICK_MS)

    def _tick(self) -> None:
        """Each second: the elapsed clocks; every REREAD_S seconds, the whole page."""
        self._ticks += 1
        if self._ticks * TICK_MS >= REREAD_S * 1000:
            self._reread()
        elif self.session.user is not None:
            self.workers.tick()

    def _reread(self) -> None:
        self._ticks = 0
        if self.session.user is not None:
            self.session.read()
            self.workers.tick()

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    QueueApp(Settings.from_env()).view().servable(title="Trulience · Queue")
