"""The workflows page (PRD-33): each registered workflow (by name and version) drawn as a
node graph from its API JSON: each node's class and inputs, the links between nodes, our
slots (seed image, prompt, seed, frames, fps, size, video and last-frame outputs)
highlighted, models named, and problems (validation on a worker, slots, registration
warnings) on their nodes. The page only reads.

Serve with `panel serve apps/workflows.py` or open `?page=workflows` in the Studio.
State: apps/workflows_state.py; views: apps/workflows_views.py. Help: docs/help/workflows.md.

Stable selectors (CSS classes), for tests and screenshots:
  .workflows-list (the workflow chooser), .workflows-version, .workflows-check
      ("Check on a worker")
  .workflows-title; .workflows-graph > svg.wf-graph > g.wf-node.wf-node-<id>
      [data-class-type] (.wf-node-slot when a slot is on it, .wf-node-error), with
      text.wf-input (.wf-slot.wf-slot-<slot>, .wf-model), text.wf-problem-error /
      .wf-problem-warning; path.wf-link; .workflows-problems > ul.wf-loose
"""

import panel as pn

from apps import theme
from apps.notices import NoticeBox
from apps.workflows_state import WorkflowsSession
from apps.workflows_views import GraphView
from trulience.config import Settings


class WorkflowsApp:
    """One browser session of the workflows page; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.session = session = WorkflowsSession(settings)
        self.login = session.login
        self.chooser = pn.widgets.Select(
            label="Workflow", options=[], css_classes=["workflows-list"]
        )
        self.version = pn.widgets.Select(
            label="Version", options=[], css_classes=["workflows-version"]
        )
        self.check = pn.widgets.Button(label="Check on a worker", css_classes=["workflows-check"])
        self.check.on_click(lambda _: session.check_on_worker())
        session.param.watch(self._list, "names")
        self.chooser.param.watch(self._chosen, "value")
        self.version.param.watch(self._versioned, "value")
        self.drawn = GraphView(session)
        self.main = pn.Column(
            pn.Row(self.login.who, self.login.logout_button),
            NoticeBox(session=session),
            pn.Row(self.chooser, self.version, self.check),
            self.drawn,
            sizing_mode="stretch_width",
        )
        self.body = pn.Column(self.login.form, self.main, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Workflows", self.body)

    def _list(self, _event=None) -> None:
        self.chooser.options = {"(choose)": ""} | {n: n for n in self.session.names}

    def _chosen(self, event) -> None:
        if not event.new:
            return
        versions = self.session.names.get(event.new, [])
        self.version.options = {f"v{v}": v for v in versions}
        newest = versions[-1] if versions else None
        if self.version.value == newest:
            self.session.open(event.new, newest)
        self.version.value = newest

    def _versioned(self, event) -> None:
        if self.chooser.value and event.new is not None:
            self.session.hush()
            self.session.open(self.chooser.value, event.new)

    def _show_signed_in(self) -> None:
        signed_in = self.session.user is not None
        self.login.form.visible, self.main.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension()
    WorkflowsApp(Settings.from_env()).view().servable(title="Trulience · Workflows")
