"""The review app's trim panel (PRD-78) and branches list (PRD-50): Panel parts over a
`ReviewSession`, beside the player.

The trim panel names the segment on screen and the frames to cut from its head and tail as
generated (filled in from its standing trim and the player's in/out points, editable); its
button trims through the session. The branches list shows every take of the open take's
cell: its branch, what it changes, status, QA, decision and which is current, with Compare
(played beside the open take in the browser player) and Promote (asked, then done); "New
branch" opens another branch of the cell (name, seed, params as JSON, workflow version),
as `trulience takes branch` does, which then waits in the list for the pipeline.

As in `apps/review_views.py`, each part builds its widgets once, follows the session's
parameters and hands clicks to the session's methods; none calls a service itself.
"""

import html

import panel as pn

from apps.review_player import COMPARE_MODES
from apps.review_state import ReviewSession, differs
from apps.review_views import _SessionView, wrapping
from trulience.catalog.branches import BranchRow


class TrimView(_SessionView):
    """Trim the segment on screen: head and tail frames to cut, and the Trim button."""

    def __init__(self, session: ReviewSession):
        super().__init__(session)
        self.label = pn.pane.Markdown("", css_classes=["trim-segment"])
        self.head = pn.widgets.IntInput.from_param(
            session.param.trim_head, name="Head frames", start=0, width=120
        )
        self.head.css_classes = ["trim-head"]
        self.tail = pn.widgets.IntInput.from_param(
            session.param.trim_tail, name="Tail frames", start=0, width=120
        )
        self.tail.css_classes = ["trim-tail"]
        self.button = pn.widgets.Button(
            label="Trim segment", color="warning", css_classes=["trim-button"]
        )
        self.button.on_click(lambda _: session.trim_as_set())
        session.param.watch(lambda e: setattr(self.button, "disabled", not e.new), "may_review")
        session.param.watch(lambda _: self._segment(), "trims")
        session.player.param.watch(lambda _: self._segment(), "segment_span", onlychanged=False)
        self.button.disabled = not session.may_review
        self._segment()

    def _segment(self) -> None:
        span = self.session.player.segment_span
        if span is None:
            self.label.object = "**Trim** · no committed segment covers this frame."
            self.button.label, self.button.disabled = "Trim segment", True
            return
        standing = self.session.trims.get(span.index)
        cut = "untrimmed" if standing is None else f"trimmed {standing.head} + {standing.tail}"
        self.label.object = (
            f"**Trim segment {span.index}** · {span.end - span.start} frames shown ({cut}); "
            "frames to cut from it as generated (the in/out points fill these in):"
        )
        self.button.label = f"Trim segment {span.index}"
        self.button.disabled = not self.session.may_review

    def __panel__(self) -> pn.Column:
        return pn.Column(
            self.label,
            wrapping(self.head, self.tail, self.button),
            sizing_mode="stretch_width",
            css_classes=["review-trim"],
        )


# The workflow choice of a new branch that keeps the scene type's own.
OWN_WORKFLOW = "(the scene type's own)"


def branch_text(row: BranchRow, open_scene: int | None) -> str:
    """One take of the cell in words: branch, take, what it changes, status, QA, decision."""
    qa = f"QA {row.qa_passed}/{row.segments} passed"
    if row.qa_failed:
        qa += f", {row.qa_failed} failed"
    marks = ' · <span class="branch-current">current</span>' if row.current else ""
    if row.scene_id == open_scene:
        marks += " · in the player"
    return (
        f"**{html.escape(row.branch)}** · take {row.take} · {html.escape(differs(row.overrides))}"
        f" · `{row.status}`{' (waiting to be generated)' if row.status == 'pending' else ''}"
        f" · {qa} · {row.decision or 'undecided'}{marks}"
    )


class BranchesView(_SessionView):
    """The branches of the open take's cell, compared with the current take and promoted."""

    def __init__(self, session: ReviewSession):
        super().__init__(session)
        self.rows = pn.Column(css_classes=["review-branches"], sizing_mode="stretch_width")
        self.compared = pn.pane.Markdown("", css_classes=["branch-compared"])
        self.mode = pn.widgets.RadioButtonGroup.from_param(
            session.player.param.compare_mode, options=list(COMPARE_MODES)
        )
        self.mode.css_classes = ["branch-compare-mode"]
        self.stop = pn.widgets.Button(label="Stop comparing", css_classes=["branch-stop"])
        self.stop.on_click(lambda _: session.stop_comparing())
        self.comparing = wrapping(self.compared, self.mode, self.stop, visible=False)
        self.confirm = pn.widgets.Button(
            label="Promote", color="warning", css_classes=["branch-confirm-promote"]
        )
        self.confirm.on_click(lambda _: session.promote())
        cancel = pn.widgets.Button(label="Cancel", css_classes=["branch-cancel-promote"])
        cancel.on_click(lambda _: session.cancel_promote())
        self.asking = wrapping(self.confirm, cancel, visible=False)
        self.branch_name = pn.widgets.TextInput(
            label="Branch name", placeholder="e.g. seed-7", width=160, css_classes=["branch-name"]
        )
        self.seed = pn.widgets.IntInput.from_param(
            session.param.branch_seed, name="Seed", start=0, width=140
        )
        self.seed.css_classes = ["branch-seed"]
        self.params = pn.widgets.TextAreaInput(
            label="Params (JSON)",
            placeholder='{"motion": 0.9}',
            height=70,
            width=220,
            css_classes=["branch-params"],
        )
        self.workflow = pn.widgets.Select(
            label="Workflow",
            options=[OWN_WORKFLOW],
            width=200,
            css_classes=["branch-workflow"],
        )
        self.make = pn.widgets.Button(
            label="New branch", color="primary", css_classes=["branch-new"]
        )
        self.make.on_click(lambda _: self.make_branch())
        self._flows: dict[str, tuple[str, int]] = {}  # the workflow choices, by label
        self.form = wrapping(self.branch_name, self.seed, self.params, self.workflow, self.make)
        session.param.watch(lambda _: self._list(), ["branches", "may_promote"])
        session.param.watch(lambda _: self._workflows(), "workflows")
        session.param.watch(
            lambda e: setattr(self.make, "disabled", not e.new), "may_promote", onlychanged=False
        )
        session.param.watch(lambda _: self._compared(), "compared")
        session.param.watch(lambda _: self._ask(), "promoting")

    def _list(self) -> None:
        scene = None if self.session.take is None else self.session.take.scene_id
        rows = [self._row(row, scene) for row in self.session.branches]
        self.rows.objects = rows or [pn.pane.Markdown("No other takes of this cell.")]

    def _row(self, row: BranchRow, open_scene: int | None) -> pn.FlexBox:
        parts: list[pn.viewable.Viewable] = [pn.pane.Markdown(branch_text(row, open_scene))]
        if not row.current:
            compare = pn.widgets.Button(
                label="Compare with current", css_classes=[f"branch-compare-{row.take}"]
            )
            compare.on_click(lambda _: self.session.compare_branch(row))
            promote = pn.widgets.Button(
                label="Promote",
                color="warning",
                disabled=not self.session.may_promote,
                css_classes=[f"branch-promote-{row.take}"],
            )
            promote.on_click(lambda _: self.session.ask_promote(row))
            parts += [compare, promote]
        current = ["branch-is-current"] if row.current else []
        return wrapping(*parts, css_classes=["review-branch", f"branch-take-{row.take}", *current])

    def _workflows(self) -> None:
        flows = self.session.workflows
        self._flows = {f"{name} v{version}": (name, version) for name, version in flows}
        self.workflow.param.update(options=[OWN_WORKFLOW, *self._flows], value=OWN_WORKFLOW)

    def make_branch(self) -> None:
        """Open the branch named in the form; the form empties once it is made."""
        session, params = self.session, self.params.value_input or self.params.value or ""
        if session.make_branch(
            self.branch_name.value_input or self.branch_name.value or "",
            session.branch_seed,
            params,
            self._flows.get(self.workflow.value),
        ):
            self.branch_name.value = self.branch_name.value_input = ""
            self.params.value = self.params.value_input = ""

    def _compared(self) -> None:
        row = self.session.compared
        self.comparing.visible = row is not None
        if row is not None:
            self.compared.object = f"Comparing take {row.take} (**{html.escape(row.branch)}**)"

    def _ask(self) -> None:
        row = self.session.promoting
        self.asking.visible = row is not None
        if row is not None:
            self.confirm.label = f"Promote take {row.take} ({row.branch})"

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.pane.Markdown("### Branches"),
            self.rows,
            self.comparing,
            self.asking,
            pn.pane.Markdown("**New branch** of this cell (another seed, params or workflow):"),
            self.form,
            sizing_mode="stretch_width",
        )
