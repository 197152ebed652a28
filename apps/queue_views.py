"""The queue page's views over a `QueueSession` (apps/queue_state.py): the workers with what
each runs, the line of waiting segments, the batches Dagster runs, the open take's drawer and
the question a destructive action asks. Each view builds its widgets once, follows the
session's parameters and hands clicks to the session's methods; none calls a service.

A list re-read keeps the rows that did not change (their DOM stays; see the review queue);
only a running segment's elapsed time is rewritten in place on each tick.
"""

import html
from datetime import UTC, datetime

import panel as pn

from apps.queue_rows import BatchRow, Drawer, WaitingRow, WorkerRow
from apps.queue_state import QueueSession
from trulience.progress import duration


def wrapping(*objects, **params) -> pn.FlexBox:
    """A row that wraps onto the next line on a narrow screen."""
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="center", **params)


def elapsed_text(row: WorkerRow, now: datetime | None = None) -> str:
    """How long each running segment of a worker has run, as the page says it."""
    now = now or datetime.now(UTC)
    return " · ".join(f"{duration((now - s.started_at).total_seconds())}" for s in row.running)


class WorkersView(pn.viewable.Viewer):
    """A row per worker: state, GPU, slots, its running segments (take, segment, attempt,
    elapsed), and for an operator Drain / Undrain, Interrupt and Free each lease."""

    def __init__(self, session: QueueSession, **params):
        super().__init__(**params)
        self.session = session
        self.list = pn.Column(css_classes=["queue-workers"], sizing_mode="stretch_width")
        self._rows: dict[tuple[WorkerRow, bool], tuple[pn.FlexBox, pn.pane.HTML]] = {}
        session.param.watch(lambda _: self._follow(), ["workers", "may_operate", "more"])

    def _follow(self) -> None:
        built = {}
        for row in self.session.workers:
            key = (row, self.session.may_operate and self.session.more)
            built[key] = self._rows.get(key) or self._row(row)
        self._rows = built
        rows = [row for row, _ in built.values()]
        self.list.objects = rows or [pn.pane.Markdown(f"Pool {self.session.pool} has no workers.")]
        self.tick()

    def tick(self) -> None:
        """Rewrite the elapsed times in place (nothing else on the page moves)."""
        now = datetime.now(UTC)
        for (row, _), (_, elapsed) in self._rows.items():
            elapsed.object = elapsed_text(row, now)

    def _row(self, row: WorkerRow) -> tuple[pn.FlexBox, pn.pane.HTML]:
        running = (
            "".join(
                f'<div class="queue-running-segment" data-scene="{s.scene_id}">'
                f"{html.escape(s.label)} · segment {s.segment} · attempt {s.attempt}</div>"
                for s in row.running
            )
            or '<div class="queue-idle">idle</div>'
        )
        problem = (
            f' · <span class="queue-worker-error">{html.escape(row.problem)}</span>'
            if row.problem
            else ""
        )
        facts = pn.pane.HTML(
            f'<b>{html.escape(row.name)}</b> · <span class="queue-worker-state">{row.state}'
            f'</span> · <span class="queue-worker-gpu">{html.escape(row.gpu)}</span> · '
            f"{row.busy}/{row.slots} slots{problem}{running}",
            css_classes=["queue-worker-facts"],
        )
        elapsed = pn.pane.HTML("", css_classes=["queue-worker-elapsed"])
        parts: list = [facts, elapsed]
        for s in row.running:
            button = pn.widgets.Button(label=f"Open take #{s.scene_id}", color="light")
            button.on_click(lambda _, s=s: self.session.open_take(s.scene_id))
            parts.append(button)
        if self.session.may_operate and self.session.more:  # advanced: behind "More"
            drained = row.state == "draining"
            drain = pn.widgets.Button(
                label=f"{'Undrain' if drained else 'Drain'} {row.name}",
                css_classes=["queue-worker-undrain" if drained else "queue-worker-drain"],
            )
            drain.on_click(
                lambda _: (self.session.undrain if drained else self.session.drain)(row.name)
            )
            interrupt = pn.widgets.Button(
                label=f"Interrupt {row.name}", color="warning", css_classes=["queue-interrupt"]
            )
            interrupt.on_click(lambda _: self.session.interrupt(row.name))
            parts += [drain, interrupt]
            for lease_id, holder in row.leases:
                free = pn.widgets.Button(
                    label=f"Free lease {lease_id}",
                    description=holder,
                    css_classes=["queue-free-lease"],
                )
                free.on_click(lambda _, lease=lease_id: self.session.release(row.name, lease))
                parts.append(free)
        box = wrapping(*parts, css_classes=["queue-worker", f"queue-worker-{row.name}"])
        return box, elapsed

    def __panel__(self) -> pn.Column:
        return pn.Column(pn.pane.Markdown("### Workers"), self.list, sizing_mode="stretch_width")


class WaitingView(pn.viewable.Viewer):
    """The line: a row per waiting segment in order (position, priority, estimate, why it
    waits), each opening its take; rows that did not change keep their DOM."""

    def __init__(self, session: QueueSession, **params):
        super().__init__(**params)
        self.session = session
        self.list = pn.Column(css_classes=["queue-waiting"], sizing_mode="stretch_width")
        self._rows: dict[WaitingRow, pn.FlexBox] = {}
        session.param.watch(lambda _: self._follow(), "waiting")

    def _follow(self) -> None:
        built = {row: self._rows.get(row) or self._row(row) for row in self.session.waiting}
        self._rows = built
        self.list.objects = list(built.values()) or [pn.pane.Markdown("Nothing is waiting.")]

    def _row(self, row: WaitingRow) -> pn.FlexBox:
        reason = (
            f' · <span class="queue-reason">{html.escape(row.reason)}</span>' if row.reason else ""
        )
        facts = pn.pane.HTML(
            f'<span class="queue-position">#{row.position}</span> · '
            f"{html.escape(row.label)} · priority "
            f'<span class="queue-priority">{row.priority}</span> · starts in '
            f'<span class="queue-estimate">{row.estimate}</span>{reason}',
            css_classes=["queue-request-facts"],
        )
        parts: list = [facts]
        classes = ["queue-request", f"queue-request-{row.request_id}"]
        if row.scene_id is not None:
            button = pn.widgets.Button(label=f"Open take #{row.scene_id}", color="light")
            button.on_click(lambda _: self.session.open_take(row.scene_id))
            parts.insert(0, button)
            classes.append(f"queue-take-{row.scene_id}")
        return wrapping(*parts, css_classes=classes)

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.pane.Markdown("### Waiting for a slot"), self.list, sizing_mode="stretch_width"
        )


class BatchesView(pn.viewable.Viewer):
    """The batches Dagster runs (their backfill) or will run, by priority."""

    def __init__(self, session: QueueSession, **params):
        super().__init__(**params)
        self.session = session
        self.list = pn.pane.HTML("", css_classes=["queue-batches"], sizing_mode="stretch_width")
        session.param.watch(lambda _: self._follow(), "batches")
        self._follow()

    @staticmethod
    def _line(b: BatchRow) -> str:
        run = f"backfill {html.escape(b.backfill)}" if b.backfill else "not launched yet"
        return (
            f'<li class="queue-batch queue-batch-{b.id}">batch {b.id} · {html.escape(b.project)}'
            f" · {b.status} · priority {b.priority} · {b.items} item(s) · {run}</li>"
        )

    def _follow(self) -> None:
        lines = "".join(self._line(b) for b in self.session.batches)
        self.list.object = f"<ul>{lines}</ul>" if lines else "<em>No batch runs or waits.</em>"

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.pane.Markdown("### Batches (Dagster runs)"), self.list, sizing_mode="stretch_width"
        )


class DrawerView(pn.viewable.Viewer):
    """The open take: its state and control, Pause / Resume / Cancel, priority up, down or
    set, and its committed segments' first frames as they land."""

    def __init__(self, session: QueueSession, **params):
        super().__init__(**params)
        self.session = session
        self.heading = pn.pane.HTML("", css_classes=["queue-drawer-heading"])
        self.segments = pn.pane.HTML("", css_classes=["queue-drawer-segments"])
        self.pause = pn.widgets.Button(label="Pause take", css_classes=["queue-pause"])
        self.resume = pn.widgets.Button(label="Resume take", css_classes=["queue-resume"])
        self.cancel = pn.widgets.Button(
            label="Cancel take", color="danger", css_classes=["queue-cancel"]
        )
        self.up = pn.widgets.Button(label="Priority up", css_classes=["queue-priority-up"])
        self.down = pn.widgets.Button(label="Priority down", css_classes=["queue-priority-down"])
        self.priority = pn.widgets.TextInput(
            placeholder="-100..100", width=110, css_classes=["queue-priority-input"]
        )
        self.set_priority = pn.widgets.Button(label="Set priority", css_classes=["queue-set"])
        self.close = pn.widgets.Button(label="Close take", css_classes=["queue-close"])
        scene = lambda: self.session.drawer.scene_id  # noqa: E731 - read at click time
        self.pause.on_click(lambda _: session.control(scene(), "pause"))
        self.resume.on_click(lambda _: session.control(scene(), "run"))
        self.cancel.on_click(lambda _: session.control(scene(), "cancel"))
        self.up.on_click(lambda _: session.nudge_priority(scene(), +1))
        self.down.on_click(lambda _: session.nudge_priority(scene(), -1))
        self.set_priority.on_click(lambda _: session.set_priority(scene(), self._typed()))
        self.close.on_click(lambda _: session.close_take())
        self.controls = wrapping(
            self.pause,
            self.resume,
            self.cancel,
            self.up,
            self.down,
            self.priority,
            self.set_priority,
            css_classes=["queue-drawer-controls"],
        )
        self.box = pn.Column(
            wrapping(self.heading, self.close),
            self.controls,
            self.segments,
            css_classes=["queue-drawer"],
            sizing_mode="stretch_width",
            visible=False,
        )
        session.param.watch(lambda _: self._follow(), ["drawer", "may_reorder"])

    def _typed(self) -> str:
        return self.priority.value_input or self.priority.value or ""

    def _follow(self) -> None:
        drawer: Drawer | None = self.session.drawer
        self.box.visible = drawer is not None
        if drawer is None:
            return
        priority = "—" if drawer.priority is None else str(drawer.priority)
        planned = "?" if drawer.planned is None else str(drawer.planned)
        self.heading.object = (
            f"<b>{html.escape(drawer.label)}</b> · "
            f'<span class="queue-drawer-status">{drawer.status}</span> · control '
            f'<span class="queue-drawer-control">{drawer.control}</span> · priority '
            f'<span class="queue-drawer-priority">{priority}</span> · '
            f'<span class="queue-drawer-count">{len(drawer.segments)}</span>/{planned} '
            "segments committed"
        )
        self.controls.visible = self.session.may_reorder
        self.pause.disabled = drawer.control == "pause"
        self.resume.disabled = drawer.control == "run"
        self.segments.object = (
            "".join(
                f'<figure class="queue-segment queue-segment-{s.index}">'
                + (
                    f'<img class="queue-segment-thumb" src="{s.picture}" width="128" '
                    f'alt="segment {s.index}">'
                    if s.picture
                    else '<span class="no-thumbnail">no picture</span>'
                )
                + f"<figcaption>segment {s.index} · attempt {s.attempt} · "
                f"{s.frames or '?'} frames</figcaption></figure>"
                for s in drawer.segments
            )
            or "<em>No segment committed yet.</em>"
        )

    def __panel__(self) -> pn.Column:
        return self.box


class ConfirmView(pn.viewable.Viewer):
    """The question a destructive action asks (cancel, interrupt, free): Confirm or Keep."""

    def __init__(self, session: QueueSession, **params):
        super().__init__(**params)
        self.question = pn.pane.HTML("", css_classes=["queue-confirm-text"])
        confirm = pn.widgets.Button(label="Confirm", color="danger", css_classes=["queue-confirm"])
        keep = pn.widgets.Button(label="Keep", css_classes=["queue-confirm-keep"])
        confirm.on_click(lambda _: session.confirm())
        keep.on_click(lambda _: session.dismiss())
        self.box = wrapping(self.question, confirm, keep, visible=False)
        session.param.watch(self._follow, "asking")

    def _follow(self, event) -> None:
        self.box.visible = event.new is not None
        self.question.object = html.escape(event.new or "")

    def __panel__(self) -> pn.FlexBox:
        return self.box
