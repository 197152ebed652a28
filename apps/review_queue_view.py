"""The review app's queue and notification tray (PRD-92, PRD-95): Panel parts that show a
`ReviewSession`'s queue (thumbnails, status, revision, age, assignee, due date, filters,
sorts, approving and assigning the ticked takes) and its unread notifications.

As in `apps/review_views.py`, each part builds its widgets once, follows the session's
parameters and hands clicks to the session's methods; none calls a service itself.
"""

import html
from datetime import UTC, datetime
from typing import Any

import panel as pn

from apps.review_state import ALL, AWAITING, MINE, UNASSIGNED, ReviewSession
from apps.review_views import UndoButton, _SessionView, notice_of, wrapping
from trulience.catalog.notifications import Notification
from trulience.review import Take
from trulience.review.queue import due_day

# What each kind of notification is called in the tray.
KIND_LABELS = {"assigned": "assigned to you", "mention": "mentioned you", "note_added": "note"}


def age_of(take: Take, now: datetime | None = None) -> str:
    """How long a take has waited since its revision was assembled: 5 min, 3 h, 2 d."""
    since = take.waiting_since or take.created_at
    minutes = int(((now or datetime.now(UTC)) - since).total_seconds() // 60)
    if minutes < 60:
        return f"{max(0, minutes)} min"
    return f"{minutes // 60} h" if minutes < 24 * 60 else f"{minutes // (24 * 60)} d"


class TrayView(_SessionView):
    """The user's unread notifications: a count, the list (assignments and mentions with a
    button that opens their take), refresh and mark all read."""

    def __init__(self, session: ReviewSession):
        super().__init__(session)
        self.badge = pn.pane.HTML("", css_classes=["notification-count"])
        self.list = pn.Column(css_classes=["notification-tray"], sizing_mode="stretch_width")
        self.refresh = pn.widgets.Button(label="Refresh notifications")
        self.refresh.on_click(lambda _: session.show_notifications())
        self.read_all = pn.widgets.Button(label="Mark all read")
        self.read_all.on_click(lambda _: session.mark_all_read())
        session.param.watch(lambda _: self._follow(), "unread", onlychanged=False)

    def _follow(self) -> None:
        waiting = self.session.unread
        self.badge.object = f'<span class="tray-badge">{len(waiting)}</span>'
        rows = [self._row(n) for n in waiting]
        self.list.objects = rows or [pn.pane.Markdown("No unread notifications.")]

    def _row(self, notification: Notification) -> pn.FlexBox:
        label = KIND_LABELS.get(notification.kind, notification.kind.replace("_", " "))
        text = pn.pane.Markdown(f"**{label}**: {html.escape(notification.body)}")
        parts: list[pn.viewable.Viewable] = [text]
        scene_id = notification.subject.get("scene_id")
        if notification.kind in ("assigned", "mention") and scene_id is not None:
            go = pn.widgets.Button(label=f"Go to take {scene_id}", color="light")
            go.on_click(lambda _: self.session.open_notified(notification))
            parts.insert(0, go)
        return wrapping(*parts, css_classes=["notification", f"notification-{notification.kind}"])

    def __panel__(self) -> pn.Column:
        heading = pn.pane.Markdown("**Notifications**")
        return pn.Column(
            wrapping(heading, self.badge, self.refresh, self.read_all),
            self.list,
            sizing_mode="stretch_width",
        )


class QueueView(_SessionView):
    """The review queue: filters (project, character, status, assignee, overdue) and order;
    a row per take (thumbnail, status, revision, age, assignee, due date; tick it, open it);
    approving or assigning the ticked ones at once, with its notice, question and Undo."""

    def __init__(self, session: ReviewSession):
        super().__init__(session)
        self.project_filter = pn.widgets.Select(label="Project", options=[ALL], width=160)
        self.character_filter = pn.widgets.Select(label="Character", options=[ALL], width=160)
        self.project_filter.param.watch(lambda e: setattr(session, "project", e.new), "value")
        self.character_filter.param.watch(lambda e: setattr(session, "character", e.new), "value")
        self.status_filter = pn.widgets.Select.from_param(
            session.param.review_status,
            label="Status",
            width=130,
            css_classes=["queue-status-filter"],
        )
        self.assignee_filter = pn.widgets.Select(label="Assignee", options=[ALL], width=150)
        self.assignee_filter.param.watch(lambda e: setattr(session, "assignee", e.new), "value")
        self.overdue_filter = pn.widgets.Checkbox.from_param(
            session.param.overdue, label="Overdue only", css_classes=["queue-overdue-only"]
        )
        self.sort = pn.widgets.Select.from_param(session.param.sort, label="Sort by", width=120)
        self.approve_selected_button = pn.widgets.Button(label="Approve selected", color="success")
        self.approve_selected_button.on_click(lambda _: session.approve_selected())
        self.assign_to = pn.widgets.Select(
            label="Assign to", options=[], width=150, css_classes=["queue-assign-to"]
        )
        self.assign_due = pn.widgets.DatePicker(label="Due", width=140)
        self.assign_button = pn.widgets.Button(
            label="Assign selected", color="primary", css_classes=["queue-assign"]
        )
        self.assign_button.on_click(lambda _: self.assign_selected())
        self.assign_form = wrapping(
            self.assign_to, self.assign_due, self.assign_button, visible=False
        )
        self.notice = notice_of(session, "queue_notice")
        self.confirm = pn.widgets.Button(
            label="Approve anyway", color="warning", visible=False, css_classes=["queue-confirm"]
        )
        self.confirm.on_click(lambda _: session.approve_selected(acknowledge=True))
        self.undo = UndoButton(session.queue_offer, "queue-undo")
        self.queue = pn.Column(css_classes=["review-queue"])
        # each row as built, by what it shows: a queue re-read (live) keeps the rows that
        # did not change, so their thumbnails, ticks and the page's scroll stay
        self._rows: dict[tuple[Take, tuple[str, bool], str], tuple[pn.FlexBox, Any]] = {}
        self.heading = pn.pane.Markdown("### Takes awaiting review")
        session.param.watch(lambda e: self._entitle(e.new), "review_status")
        session.param.watch(
            lambda *_: self._filters(),
            ["projects", "characters", "project", "character", "reviewers", "assignee"],
        )
        session.param.watch(lambda _: self._list(), "shown", onlychanged=False)
        session.param.watch(lambda e: setattr(self.confirm, "visible", e.new), "queue_asks")
        session.param.watch(
            lambda e: setattr(self.approve_selected_button, "disabled", not e.new),
            "may_review",
            onlychanged=False,
        )
        session.param.watch(
            lambda e: setattr(self.assign_form, "visible", e.new), "may_assign", onlychanged=False
        )

    def _entitle(self, status: str) -> None:
        title = "Takes awaiting review" if status == AWAITING else f"Takes: {status}"
        self.heading.object = f"### {title}"

    def _filters(self) -> None:
        session = self.session
        self.project_filter.param.update(options=session.projects, value=session.project)
        self.character_filter.param.update(options=session.characters, value=session.character)
        people = [ALL, MINE, UNASSIGNED, *session.reviewers]
        if session.assignee not in people:
            people.append(session.assignee)
        self.assignee_filter.param.update(options=people, value=session.assignee)
        chosen = self.assign_to.value
        self.assign_to.param.update(
            options=session.reviewers,
            value=chosen if chosen in session.reviewers else next(iter(session.reviewers), None),
        )

    def assign_selected(self) -> None:
        """Assign the ticked takes to the reviewer picked, due by the date picked."""
        if self.assign_to.value is None:
            self.session.say_over_queue("pick someone to assign the takes to", "warning")
            return
        self.session.assign_selected(self.assign_to.value, self.assign_due.value)

    def _list(self) -> None:
        # In a served page the thumbnails not yet made are made after the queue is on
        # screen (decoding first frames must not hold up a login); a plain test makes them.
        served = pn.state.curdoc is not None and pn.state.curdoc.session_context is not None
        missing: list[tuple[Take, pn.pane.HTML]] = []
        session, built = self.session, {}
        for take in session.shown:
            key = (take, session.marks.get(take.scene_id, ("main", False)), age_of(take))
            built[key] = self._rows.get(key) or self._row(take, missing, make_now=not served)
            built[key][1].value = take.scene_id in session.selected
        self._rows = built
        rows = [row for row, _ in built.values()]
        self.queue.objects = rows or [pn.pane.Markdown("Nothing is waiting for review.")]
        if missing:
            pn.state.curdoc.add_next_tick_callback(lambda: self._make_thumbnails(missing))

    def _make_thumbnails(self, missing: list[tuple[Take, pn.pane.HTML]]) -> None:
        for take, pane in missing:
            pane.object = self._picture(take, self.session.thumbnail_url(take))

    @staticmethod
    def _picture(take: Take, url: str | None) -> str:
        if url is None:
            return '<span class="no-thumbnail">no picture</span>'
        return f'<img src="{html.escape(url)}" alt="take {take.take}" width="120">'

    def _thumbnail(
        self, take: Take, missing: list[tuple[Take, pn.pane.HTML]], make_now: bool
    ) -> pn.pane.HTML:
        url = self.session.thumbnail_url(take, make=make_now)
        pane = pn.pane.HTML(self._picture(take, url), width=124, css_classes=["queue-thumbnail"])
        if url is None and take.uri is not None and not make_now:
            missing.append((take, pane))
        return pane

    def _row(
        self, take: Take, missing: list[tuple[Take, pn.pane.HTML]], make_now: bool
    ) -> tuple[pn.FlexBox, Any]:
        # a take back after a rejection says so: its new revision is what awaits review
        revision = f" · revision {take.revision}" if take.revision > 1 else ""
        label = (
            f"**{take.character} · {take.scene_type}** — take {take.take}{revision} · "
            f"project {take.project} · {take.frames or '?'} frames"
        )
        assigned = html.escape(take.assignee) if take.assignee else "unassigned"
        due = "" if take.due_at is None else f" · due {due_day(take.due_at)}"
        late = ' · <span class="queue-overdue">overdue</span>' if take.overdue else ""
        branch, current = self.session.marks.get(take.scene_id, ("main", False))
        # a take's branch (PRD-50) unless it is the pipeline's own, and whether it is current
        lineage = (
            ""
            if branch == "main"
            else f' · <span class="queue-branch">{html.escape(branch)}</span>'
        )
        lineage += ' · <span class="queue-current">current</span>' if current else ""
        facts = pn.pane.HTML(
            f'<span class="queue-status">{take.review_status}</span> · waiting {age_of(take)}'
            f' · <span class="queue-assignee">{assigned}</span>{due}{late}{lineage}',
            css_classes=["queue-facts"],
        )
        pick = pn.widgets.Checkbox(
            label=f"Select take {take.take}", width=130, css_classes=[f"select-take-{take.take}"]
        )
        pick.param.watch(lambda e: self.session.tick(take.scene_id, e.new), "value")
        open_button = pn.widgets.Button(label=f"Open take {take.take}", color="primary")
        open_button.on_click(lambda _: self.session.open_take(take))
        row = wrapping(
            pick,
            self._thumbnail(take, missing, make_now),
            open_button,
            pn.Column(pn.pane.Markdown(label), facts),
            css_classes=["queue-take", f"queue-take-{take.take}"],
        )
        return row, pick

    def __panel__(self) -> pn.Column:
        return pn.Column(
            self.heading,
            wrapping(
                self.project_filter,
                self.character_filter,
                self.status_filter,
                self.assignee_filter,
                self.overdue_filter,
                self.sort,
            ),
            wrapping(self.approve_selected_button, self.assign_form),
            wrapping(self.notice, self.confirm, self.undo.button),
            self.queue,
            sizing_mode="stretch_width",
        )
