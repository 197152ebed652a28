"""The dashboards' session in plain Python (no browser), against the real database and lake:
signing in, the empty lake's message, Refresh, the project filter and timeline span, the data
each tab shows, and a session ended elsewhere (the browser end to end:
tests/test_dashboards_app.py)."""

import panel as pn
import pytest

from apps.dashboards_state import ALL, DashboardsSession
from apps.dashboards_views import failures_tab, performance_tab, pulse_tab, timeline_tab
from tests.test_dashboards import _seed_failures
from tests.test_review_app import PASSWORD
from trulience.auth import users as accounts
from trulience.config import Settings


@pytest.fixture
def session(conn, db_url, tmp_path) -> DashboardsSession:
    """A viewer's dashboards over an empty catalog and no lake yet."""
    accounts.create_user(conn, "vic", "Vic", "viewer", PASSWORD)
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url})
    return DashboardsSession(settings)


def sign_in(session: DashboardsSession, password: str = PASSWORD) -> None:
    session.login.username.value, session.login.password.value = "vic", password
    session.login.log_in()


def css_of(objects) -> list[str]:
    """The CSS class of each chart and table a tab shows, rows opened, in order (a Bokeh
    pane carries it on its figure)."""
    found = []
    for o in objects:
        if isinstance(o, pn.Row):
            found += css_of(o.objects)
        elif isinstance(o, pn.pane.Bokeh):
            found += o.object.css_classes
        elif isinstance(o, pn.widgets.Tabulator):
            found += o.css_classes
    return found


def test_signing_in_reads_the_lake_and_an_empty_lake_says_what_to_do(session, tmp_path):
    sign_in(session, "wrong-password")
    assert session.user is None and session.login.notice.visible
    assert session.data is None and not session.lake_unread  # nothing read before a login

    sign_in(session)
    assert session.user.username == "vic"
    assert session.lake_unread and session.data is None
    message, kind = session.notice
    assert kind == "warning" and "no lake here yet" in message
    assert session.as_of == "Lake as of **never**"

    session.refresh()  # exports the (empty) catalog: a lake with nothing in it
    assert (tmp_path / "lake" / "_state" / "catalog.json").exists()
    message, kind = session.notice
    assert kind == "success" and message.startswith("Catalog exported to the lake (")
    assert not session.lake_unread and session.data.pulse_by_project == []
    assert session.as_of.startswith("as of **20")
    assert session.param.project.objects == [ALL]


def test_refresh_reads_the_new_catalog_and_each_tab_shows_its_data(conn, session):
    sign_in(session)
    _seed_failures(conn)
    session.refresh()
    data = session.data
    assert session.param.project.objects == [ALL, "demo", "other"]
    assert data.project is None and data.pulse.project == "all projects"
    assert data.timeline.num_rows == 6  # the week back from the newest attempt holds all

    session.window = "all"  # choosing a span reads the lake again
    assert session.data is not data
    data = session.data
    assert data.timeline.num_rows == 6
    assert css_of(timeline_tab(data)) == ["timeline-gantt", "timeline-table"]
    assert 'data-stat="awaiting_review"><div class="pulse-value">2<' in pulse_tab(data)[0].object
    assert css_of(pulse_tab(data)) == ["pulse-stages", "pulse-minutes", "pulse-table"]
    assert css_of(performance_tab(data)) == [
        "performance-workers",
        "performance-workflows",
        "performance-table",
        "performance-trend",
        "trend-table",
    ]
    assert css_of(failures_tab(data)) == ["failures-causes", "failures-table"]

    session.project = "other"  # the filter too: one project, which refused nothing
    assert session.data.project == "other" and session.data.timeline.num_rows == 1
    assert session.data.failures.num_rows == 0
    assert "No QA gate has refused" in failures_tab(session.data)[1].object


def test_a_session_ended_elsewhere_returns_to_the_login_form(conn, session):
    sign_in(session)
    session.refresh()
    accounts.logout(conn, session.login.token)
    session.refresh()
    assert session.user is None and session.data is None
    assert session.login.notice.visible and session.login.token is None
    # said once, on the login form: the page's notice still says the last export
    assert session.notice[1] == "success"


def test_a_chosen_project_that_leaves_the_lake_gives_way_to_the_whole_studio(conn, session):
    sign_in(session)
    _seed_failures(conn)
    session.refresh()
    session.project = "other"
    [other] = conn.execute("SELECT id FROM projects WHERE slug = 'other'").fetchone()
    conn.execute(
        "DELETE FROM segments WHERE scene_id IN (SELECT id FROM scenes WHERE project_id = %s)",
        (other,),
    )
    for table in ("scenes", "project_characters"):
        conn.execute(f"DELETE FROM {table} WHERE project_id = %s", (other,))
    conn.execute("DELETE FROM projects WHERE id = %s", (other,))
    session.refresh()
    assert session.param.project.objects == [ALL, "demo"]
    assert session.project == ALL and session.data.project is None


def test_the_newest_html_of_each_notebook_is_linked_under_the_tabs(session, tmp_path):
    from apps.dashboards_views import notebook_links
    from trulience.lake.notebooks import LATEST, PREFIX
    from trulience.storage import Storage, storage_key

    sign_in(session)
    session.refresh()
    assert session.notebooks == []
    (empty,) = notebook_links(session.notebooks, session.notebook_html)
    assert "No notebook has run on the lake yet." in empty.object

    storage = Storage((tmp_path / "storage").as_uri())  # the session's: TRULIENCE_HOME's
    for name, scope in [("production_overview", "all"), ("identity_consistency", "demo")]:
        storage.put_bytes(storage_key(PREFIX, name, scope, "2026-01-02T03-04-05Z.html"), b"old")
        storage.put_bytes(storage_key(PREFIX, name, scope, LATEST), f"<p>{name}</p>".encode())
    session.refresh()
    assert [(n.notebook, n.scope) for n in session.notebooks] == [
        ("identity_consistency", "demo"),
        ("production_overview", "all"),
    ]
    _title, row = notebook_links(session.notebooks, session.notebook_html)
    links = row.objects
    assert [link.label for link in links] == [
        "identity_consistency · demo",
        "production_overview · all",
    ]
    assert links[1].filename == "production_overview-all.html"
    assert links[1].description == storage.uri("notebooks/production_overview/all/latest.html")
    assert links[1].callback().read() == b"<p>production_overview</p>"  # the newest, not "old"
