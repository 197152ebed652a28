"""The Studio's job tray in the header (PRD-54): a "Jobs" button with how many run or wait,
opening a list of them with their progress; a take's line opens it in review. It follows
the catalog live (`trulience_pool`, `trulience_queue` through apps/live.py's hub) and
re-reads every `REREAD_S` seconds for what only time changes. State: apps/tray_state.py.

Stable selectors (inside the component): .tray-open ("Jobs · N"), .tray-panel,
.tray-job.tray-kind-<running|waiting|take|batch|run> (data-take: the take, if any) with
.tray-title, .tray-detail and .tray-progress (a <progress> when the total is known),
.tray-note (why Dagster's runs are not shown), .tray-empty ("Nothing runs or waits").
"""

from typing import Any, ClassVar

import panel as pn
import param
from panel.custom import JSComponent

from apps.live import EVERY_TAKE, hub
from apps.studio_state import StudioSession
from apps.tray_state import TrayState, progress_text
from trulience.catalog import events

REREAD_S = 15  # what the catalog does not announce: elapsed times, Dagster's runs
# The queue page's channels: one listener per process serves both.
CHANNELS = (*events.REVIEW_CHANNELS, events.POOL)


class Tray(JSComponent):
    """The tray's browser side: its button and its drop-down list."""

    rows = param.List([], doc="kind, title, detail, progress, done, total, take")
    note = param.String("")

    _esm = """
    function make(tag, cls, text) {
      const node = document.createElement(tag)
      if (cls) node.className = cls
      if (text !== undefined) node.textContent = text
      return node
    }

    export function render({ model }) {
      const root = make("span", "tray")
      const opener = make("button", "tray-open")
      const panel = make("div", "tray-panel")
      panel.style.display = "none"
      root.append(opener, panel)
      opener.addEventListener("click", () => {
        panel.style.display = panel.style.display === "none" ? "block" : "none"
      })

      function draw() {
        opener.textContent = `Jobs · ${model.rows.length}`
        panel.replaceChildren()
        if (!model.rows.length) panel.append(make("div", "tray-empty", "Nothing runs or waits"))
        for (const row of model.rows) {
          const line = make("div", `tray-job tray-kind-${row.kind}`)
          if (row.take) {
            line.dataset.take = row.take
            line.classList.add("tray-link")
            line.addEventListener("click", () => model.send_msg({take: row.take}))
          }
          const progress = make("span", "tray-progress", row.progress)
          if (row.total) {
            const bar = make("progress")
            bar.max = row.total
            bar.value = row.done
            progress.prepend(bar)
          }
          line.append(make("span", "tray-title", row.title),
                      make("span", "tray-detail", `${row.kind} · ${row.detail}`), progress)
          panel.append(line)
        }
        if (model.note) panel.append(make("div", "tray-note", model.note))
      }
      model.on(["rows", "note"], draw)
      draw()
      return root
    }
    """

    _stylesheets: ClassVar[list[str]] = [
        """
        .tray { position: relative; }
        .tray-open { background: rgba(255,255,255,0.15); color: white; cursor: pointer;
          border: 1px solid rgba(255,255,255,0.5); border-radius: 4px; padding: 4px 10px;
          font: inherit; white-space: nowrap; }
        .tray-panel { position: absolute; right: 0; top: 36px; z-index: 1500; width: 420px;
          max-height: 60vh; overflow-y: auto; background: white; color: #1b1b1f;
          border-radius: 6px; box-shadow: 0 6px 24px rgba(0,0,0,0.3); padding: 6px 0;
          font-family: Roboto, sans-serif; font-size: 14px; }
        .tray-job, .tray-empty, .tray-note { padding: 6px 12px; display: grid;
          grid-template-columns: 1fr auto; gap: 2px 8px; }
        .tray-link { cursor: pointer; }
        .tray-link:hover { background: #e8eefc; }
        .tray-detail, .tray-note, .tray-empty { color: #666; font-size: 12px; }
        .tray-progress { grid-row: 1 / span 2; grid-column: 2; align-self: center; }
        .tray-progress progress { width: 70px; margin-right: 6px; }
        """
    ]


class TrayView:
    """The tray wired to its state, following the catalog while someone is signed in."""

    def __init__(self, state: TrayState, studio: StudioSession):
        self.state, self.studio = state, studio
        self.widget = Tray(margin=(0, 8))
        self.widget.on_msg(lambda event: self._heard(event.data))
        state.param.watch(lambda *_: self._draw(), ["jobs", "runs", "note"])
        studio.param.watch(lambda e: self._follow(e.new is not None), "user")
        self._unfollow: list = []
        self._periodic = None

    def _draw(self) -> None:
        rows = [
            {
                "kind": job.kind,
                "title": job.title,
                "detail": job.detail,
                "progress": progress_text(job),
                "done": job.done,
                "total": job.total or 0,
                "take": job.take or 0,
            }
            for job in self.state.jobs
        ]
        rows += [
            {
                "kind": "run",
                "title": f"Dagster run {run.run_id[:8]} · {run.job}",
                "detail": run.status.lower(),
                "progress": "",
                "done": 0,
                "total": 0,
                "take": 0,
            }
            for run in self.state.runs
        ]
        self.widget.param.update(rows=rows, note=self.state.note)

    def _heard(self, message: Any) -> None:
        if isinstance(message, dict) and isinstance(message.get("take"), int):
            self.studio.open("review", {"take": str(message["take"])})

    def _follow(self, signed_in: bool) -> None:
        """While signed in on a served page: the catalog's events and a periodic re-read."""
        if pn.state.curdoc is None or pn.state.curdoc.session_context is None:
            return
        for stop in self._unfollow:
            stop()
        self._unfollow = []
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None
        if not signed_in:
            return
        live = hub(self.studio.url, CHANNELS)
        heard = lambda _event: self.state.read()  # noqa: E731
        self._unfollow = [live.subscribe(EVERY_TAKE, heard, c) for c in (events.QUEUE, events.POOL)]
        self._periodic = pn.state.add_periodic_callback(self.state.read, period=REREAD_S * 1000)
