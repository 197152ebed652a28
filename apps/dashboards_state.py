"""The dashboards' session state, apart from its views: who is signed in, the project and
timeline span chosen, the character whose identity consistency is shown, the lake data read
for them, the newest HTML of each notebook run as an asset, Refresh, and what the last
action said.

Plain Python drives it as the page does (tests/test_dashboards_state.py): sign in through
`login`, choose `project` / `window` (each choice reads the lake again) and `character`
(the Consistency tab's, from what was read), `refresh()`. The views
(apps/dashboards_views.py) only draw `data` and watch the rest.
"""

from datetime import UTC, datetime

import param
import pyarrow as pa
import pyarrow.compute as pc

from apps.actions import ActionRunner, refusal
from apps.login import Login, SignedIn
from apps.notices import Says
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect, database_url
from trulience.catalog.records import User
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.lake.catalog_export import export_catalog
from trulience.lake.consistency import characters
from trulience.lake.dashboards import WEEK_H, Dashboards, load
from trulience.lake.files import Lake, WriteReport, lake_of
from trulience.lake.notebooks import StoredNotebook, latest_notebooks
from trulience.storage import Storage

ALL = "(all projects)"
# How far back the render timeline reaches from its newest attempt.
# The dashboards' widgets (tabs), as the page first shows them; the user chooses which show,
# and their order, behind "More" (kept per user: apps/prefs.py).
WIDGETS = ("Studio pulse", "Performance", "Render timeline", "Failures", "Consistency")
WINDOWS = {"1 day": 24.0, "7 days": WEEK_H, "30 days": 30 * 24.0, "all": None}


def when(moment: datetime | None) -> str:
    """A lake time as the dashboards say it (UTC), or `never`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


class DashboardsSession(Says):
    """One browser session of the dashboards; reads nothing until a login with view."""

    user = param.ClassSelector(
        class_=User, default=None, allow_None=True, doc="The signed-in user (None: signed out)."
    )
    project = param.Selector(default=ALL, objects=[ALL], doc="The project filter.")
    window = param.Selector(default="7 days", objects=list(WINDOWS), doc="The timeline span.")
    character = param.Selector(
        default=None,
        objects=[],
        allow_None=True,
        doc="The character whose takes' identity the Consistency tab shows (None: no character "
        "has takes with identity scores yet).",
    )
    data = param.ClassSelector(
        class_=Dashboards, default=None, allow_None=True, doc="What the lake held at the last read."
    )
    lake_unread = param.Boolean(default=False, doc="The last read found no lake it could read.")
    as_of = param.String(default="", doc="When the lake's catalog and run facts were exported.")
    notebooks = param.List(
        default=[], item_type=StoredNotebook, doc="The newest HTML of each notebook in storage."
    )

    widgets = param.ListSelector(
        default=list(WIDGETS), objects=list(WIDGETS), doc="The widgets shown, in their order."
    )
    more = param.Boolean(default=False, doc="The advanced controls (the widgets) are shown.")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.url = database_url(settings)
        self.lake: Lake = lake_of(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self.login = Login(
            self.url, "dashboards", Permission.VIEW, self._signed_in, self._signed_out
        )
        # a session that lost its view permission goes back to the form too
        self.runner = ActionRunner(self.login.expired, self.say, expires=(AuthError,))

    def _signed_in(self, signed_in: SignedIn) -> None:
        self.user = signed_in.user
        self.redraw()

    def _signed_out(self) -> None:
        self.param.update(data=None, lake_unread=False, user=None, notebooks=[])

    def _session_holds(self) -> bool:
        """Whether this session may still view; if not, back to the login form, saying why."""
        return self.runner.run(self._require_view) is not None

    def _require_view(self) -> None:
        with connect(self.url) as conn:
            require(accounts.user_for_session(conn, self.login.token or ""), Permission.VIEW)

    @param.depends("project", "window", watch=True)
    def redraw(self) -> None:
        """Read the lake for the chosen project and window (while the session holds)."""
        if self.user is None or not self._session_holds():
            return
        project = None if self.project == ALL else self.project
        read = self.runner.run(
            lambda: self._read(project), answers={TrulienceError: self._unreadable}
        )
        if read is None:
            return
        data, notebooks = read.value
        if self.notice is not None and self.notice[1] == "warning":
            self.hush()
        options = [ALL, *data.projects]
        if self.param.project.objects != options:
            self.param.project.objects = options
            if self.project not in options:  # it left the lake: read the whole studio
                self.project = ALL
                return
        as_of = f"as of **{when(data.exported_at)}** (run facts {when(data.runs_exported_at)})"
        measured = characters(data.consistency)
        self.param.character.objects = measured
        character = self.character if self.character in measured else None
        self.param.update(
            data=data,
            lake_unread=False,
            as_of=as_of,
            notebooks=notebooks,
            character=character or (measured[0] if measured else None),
        )

    @property
    def consistency(self) -> pa.Table | None:
        """The chosen character's takes with identity scores, outliers flagged (None while
        nothing is read or no character has any)."""
        if self.data is None or self.character is None:
            return None
        table = self.data.consistency
        return table.filter(pc.equal(table["character"], self.character))

    def notebook_html(self, notebook: StoredNotebook) -> bytes:
        """A stored notebook's HTML, for the page to hand to the browser."""
        return self.storage.read_bytes(notebook.key)

    def _read(self, project: str | None) -> tuple[Dashboards, list[StoredNotebook]]:
        """The dashboards' data for the project and window, and the notebooks last run."""
        return load(self.lake, project, WINDOWS[self.window]), latest_notebooks(self.storage)

    def _unreadable(self, error: TrulienceError) -> None:
        self.param.update(data=None, lake_unread=True, as_of="Lake as of **never**")
        self.say(refusal(error), "warning")

    def refresh(self) -> None:
        """Re-export the catalog to the lake (while the session still holds), then read it
        again. A lake that could not be read is rewritten whole."""
        if not self._session_holds():
            return
        exported = self.runner.run(self._export)
        if exported is None:
            return
        rows = sum(r.rows for r in exported.value)
        self.say(f"Catalog exported to the lake ({rows} rows written).", "success")
        self.redraw()

    def _export(self) -> list[WriteReport]:
        with connect(self.url) as conn:
            return export_catalog(conn, self.lake, full=self.data is None)
