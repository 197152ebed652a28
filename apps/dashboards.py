"""The studio dashboards: studio pulse (PRD-42), generation performance (PRD-41), render
timeline per worker (PRD-90) and failure patterns (PRD-64), over the reporting lake.

Serve with `panel serve apps/dashboards.py` (`make dashboards`). Read-only: any role with the
view permission may look. Numbers come from `trulience.lake.dashboards`, which runs
`sql/reports/dashboards/*.sql` over the Parquet lake; the app draws them. Refresh re-exports
the catalog to the lake first (run facts arrive through the Dagster `lake` job).

The page is a `DashboardsSession` (apps/dashboards_state.py) and the views over it
(apps/dashboards_views.py); this module puts them on one page.
"""

import panel as pn

from apps import theme
from apps.dashboards_controls import DashboardControls
from apps.dashboards_state import DashboardsSession
from apps.dashboards_views import DashboardTabs, wrapping
from apps.notices import NoticeBox
from trulience.config import Settings


class DashboardsApp:
    """One browser session of the dashboards; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.session = session = DashboardsSession(settings)
        self.login = session.login
        self.login_view = self.login.form
        self.controls = DashboardControls(session=session)
        self.notice = NoticeBox(session=session)
        self.tabs = DashboardTabs(session=session)
        self.dashboard_view = pn.Column(
            wrapping(self.login.who, self.login.logout_button),
            self.controls,
            self.notice,
            self.tabs,
            sizing_mode="stretch_width",
        )
        # Both views stay in the page and only one is visible (see apps/review.py).
        self.body = pn.Column(self.login_view, self.dashboard_view, sizing_mode="stretch_width")
        session.param.watch(lambda _: self._show_signed_in(), "user")
        self._show_signed_in()
        self.root = theme.page("Dashboards", self.body)

    def _show_signed_in(self) -> None:
        """The dashboards for a signed-in user, the login form otherwise."""
        signed_in = self.session.user is not None
        self.login_view.visible, self.dashboard_view.visible = not signed_in, signed_in

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension("tabulator")
    DashboardsApp(Settings.from_env()).view().servable(title="Trulience · Dashboards")
