"""The dashboards' controls: the project filter, the timeline span, Refresh, when the lake
is as of, and behind "More" which widgets show and in what order (kept per user)."""

import panel as pn
import param

from apps.dashboards_state import DashboardsSession
from apps.dashboards_views import wrapping


class DashboardControls(pn.viewable.Viewer):
    """The project filter, the timeline span, Refresh and when the lake is as of."""

    session = param.ClassSelector(class_=DashboardsSession)

    def __init__(self, **params):
        super().__init__(**params)
        session = self.session
        self.project = pn.widgets.Select.from_param(
            session.param.project, label="Project", width=180
        )
        self.window = pn.widgets.Select.from_param(
            session.param.window, label="Timeline span", width=150
        )
        refresh = pn.widgets.Button(label="Refresh", color="primary")
        refresh.on_click(lambda _: session.refresh())
        self.as_of = pn.pane.Markdown(session.param.as_of, css_classes=["as-of"])
        # advanced: which widgets show and in what order, behind "More" (kept per user)
        self.more = pn.widgets.Toggle.from_param(
            session.param.more, label="More", css_classes=["studio-more"]
        )
        self.widgets = pn.widgets.MultiChoice.from_param(
            session.param.widgets,
            label="Widgets (in order)",
            css_classes=["dashboard-widgets"],
            sizing_mode="stretch_width",
            visible=session.more,
        )
        session.param.watch(lambda e: setattr(self.widgets, "visible", e.new), "more")
        self._layout = pn.Column(
            wrapping(self.project, self.window, refresh, self.more, self.as_of),
            self.widgets,
            sizing_mode="stretch_width",
        )

    def __panel__(self) -> pn.Column:
        return self._layout
