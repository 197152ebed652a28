"""The dashboards app: behind the studio login, with explanatory empty states; and in a real
browser on the demo production, the pulse's numbers, each tab's charts and Refresh."""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import panel_apps
from tests.panel_apps import SCREENSHOTS, log_in
from tests.review_takes import make_project, make_take
from tests.test_review_app import PASSWORD
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.catalog.readiness import all_readiness
from trulience.config import Settings
from trulience.demo import DEMO_REVIEWER

# -- in process: login, empty states, Refresh ---------------------------------------------


def _texts(column) -> str:
    return " ".join(str(getattr(o, "object", "")) for o in column.objects)


def test_an_empty_lake_shows_what_to_do_and_refresh_fills_it(db_url, tmp_path):
    """The page over its session: the views follow what the session reads (the session
    itself: tests/test_dashboards_state.py)."""
    from apps.dashboards import DashboardsApp

    with connect(db_url, actor="tester") as conn:
        accounts.create_user(conn, "vic", "Vic", "viewer", PASSWORD)
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url})
    app = DashboardsApp(settings)
    tabs, notice, controls = app.tabs, app.notice.box, app.controls
    assert app.login_view.visible and not app.dashboard_view.visible
    assert tabs.pulse.objects == []  # nothing is read before a login

    app.login.username.value, app.login.password.value = "vic", "wrong-password"
    app.login.log_in()
    assert app.login.notice.visible and not app.dashboard_view.visible

    app.login.password.value = PASSWORD
    app.login.log_in()
    assert app.dashboard_view.visible and not app.login_view.visible
    # no lake yet: a notice that says how to make one, and every tab says so too
    assert notice.visible and "no lake here yet" in notice.object
    for tab in (tabs.pulse, tabs.performance, tabs.timeline, tabs.failures, tabs.consistency):
        assert "No lake to read yet" in _texts(tab)
    assert controls.as_of.object == "Lake as of **never**"

    app.session.refresh()  # exports the (empty) catalog: a lake with nothing in it
    assert (tmp_path / "lake" / "_state" / "catalog.json").exists()
    assert notice.alert_type == "success"
    assert "No projects in the lake yet" in _texts(tabs.pulse)
    assert "No segment attempts in the lake yet" in _texts(tabs.performance)
    assert "No segment attempts with start and finish times" in _texts(tabs.timeline)
    assert "No QA gate has refused" in _texts(tabs.failures)
    assert "No failed runs in the lake" in _texts(tabs.failures)
    assert "No takes with identity scores yet" in _texts(tabs.consistency)
    assert "as of **20" in controls.as_of.object

    with connect(db_url, actor="tester") as conn:
        make_project(conn)
        make_take(conn)
    app.session.refresh()  # the new take is read from the catalog, through the lake
    assert list(controls.project.options) == ["(all projects)", "demo"]
    cards = tabs.pulse.objects[0].object
    assert 'data-stat="awaiting_review"><div class="pulse-value">1<' in cards
    assert 'data-stat="characters_ready"><div class="pulse-value">0 / 1<' in cards
    assert "No segment attempts in the lake yet" in _texts(tabs.performance)
    controls.project.value = "demo"  # the filter is the session's: it reads the lake again
    assert app.session.data.project == "demo"

    # a session ended elsewhere: the next refresh returns to the login form, saying why
    with connect(db_url) as conn:
        accounts.logout(conn, app.login.token)
    app.session.refresh()
    assert app.login_view.visible and not app.dashboard_view.visible
    assert app.login.notice.visible and tabs.pulse.objects == []


# -- in a browser, on the demo production ---------------------------------------------------


@dataclass
class Served:
    url: str
    database_url: str
    lake: Path


@pytest.fixture(scope="module")
def served(demo_production, tmp_path_factory) -> Iterator[Served]:
    """The app on a copy of the demo's lake (Refresh writes to it) and the demo catalog."""
    home = tmp_path_factory.mktemp("dashboards-home")
    shutil.copytree(demo_production.lake, home / "lake")
    env = {"TRULIENCE_HOME": str(home), "DATABASE_URL": demo_production.database_url}
    with panel_apps.served("dashboards", env, home / "panel.log") as url:
        yield Served(url, demo_production.database_url, home / "lake")


@pytest.fixture(scope="module")
def page(served):
    """The demo reviewer logged in (viewing is all the dashboards need)."""
    from playwright.sync_api import expect

    with panel_apps.chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(15_000)
        page = context.new_page()
        log_in(page, served.url, *DEMO_REVIEWER)
        # the login draws every dashboard of the demo's lake before the page shows: on a
        # busy machine that takes longer than expect's 5 s
        expect(page.get_by_text("Logged in as")).to_be_visible(timeout=15_000)
        yield page


def _tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).click()


def _stat(page, key: str):
    return page.locator(f'.pulse-stat[data-stat="{key}"] .pulse-value')


@pytest.mark.slow
@pytest.mark.browser
def test_the_pulse_shows_the_catalogs_counts(page, served):
    from playwright.sync_api import expect

    with connect(served.database_url) as conn:
        ready = sum(r.ready for r in all_readiness(conn, "demo"))
        # the newest take of each character x scene type by stage; minutes generated
        # counts every assembled take, older ones included (production_figures)
        in_flight, waiting, approved, delivered, approved_min = conn.execute(
            """WITH latest AS (
                   SELECT DISTINCT ON (s.project_id, s.character_id, s.scene_type_id) s.*
                     FROM scenes s
                    ORDER BY s.project_id, s.character_id, s.scene_type_id, s.take DESC),
               decided AS (
                   SELECT s.status, s.frames / (s.effective_config ->> 'fps')::float8 AS seconds,
                          (SELECT decision FROM reviews r WHERE r.scene_id = s.id
                            ORDER BY created_at DESC, id DESC LIMIT 1) AS decision,
                          EXISTS (SELECT 1 FROM deliverables d WHERE d.scene_id = s.id
                                     AND d.status IN ('packaged', 'delivered')) AS delivered
                     FROM latest s)
               SELECT count(*) FILTER (WHERE status IN ('pending', 'generating', 'generated')),
                      count(*) FILTER (WHERE status = 'assembled' AND decision IS NULL),
                      count(*) FILTER (WHERE decision = 'approved' AND NOT delivered),
                      count(*) FILTER (WHERE delivered),
                      sum(seconds) FILTER (WHERE decision = 'approved') / 60
                 FROM decided"""
        ).fetchone()
        generated_min = conn.execute(
            """SELECT sum(frames / (effective_config ->> 'fps')::float8) / 60 FROM scenes
                WHERE status = 'assembled'"""
        ).fetchone()[0]
        cast = conn.execute("SELECT count(*) FROM project_characters").fetchone()[0]
    expect(_stat(page, "delivered")).to_have_text(str(delivered))
    seen = {
        key: _stat(page, key).inner_text()
        for key in (
            "characters_ready",
            "in_flight",
            "awaiting_review",
            "approved",
            "delivered",
            "generated_min",
            "approved_min",
        )
    }
    assert seen == {
        "characters_ready": f"{ready} / {cast}",
        "in_flight": str(in_flight),
        "awaiting_review": str(waiting),
        "approved": str(approved),
        "delivered": str(delivered),
        "generated_min": f"{generated_min:.2f}",
        "approved_min": f"{approved_min:.2f}",
    }
    # the demo session approved two takes (both delivered) and left at least one waiting
    assert (seen["approved"], seen["delivered"]) == ("0", "2") and waiting > 0
    assert float(_stat(page, "gpu_s_per_approved_min").inner_text().replace(",", "")) > 0
    expect(page.locator(".pulse-stages canvas").first).to_be_visible()
    expect(page.locator(".pulse-table")).to_contain_text("demo")
    expect(page.locator(".as-of")).to_contain_text("as of 20")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-pulse.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.browser
def test_the_timeline_draws_every_segment_attempt_on_its_worker(page, served):
    from playwright.sync_api import expect

    with connect(served.database_url) as conn:
        attempts = conn.execute(
            "SELECT scene_id, index, attempt, provenance ->> 'worker' FROM segments"
        ).fetchall()
    _tab(page, "Render timeline")
    expect(page.locator(".timeline-gantt canvas").first).to_be_visible()
    # the bars' data, as the browser holds it for drawing and hovering
    bars = page.wait_for_function(
        """() => {
             for (const doc of Bokeh.documents) {
               const source = doc.get_model_by_name("timeline-attempts");
               if (source) return source.data;
             }
             return null;
           }"""
    ).json_value()
    seen = sorted(
        zip(bars["scene_id"], bars["segment"], bars["attempt"], bars["worker"], strict=True)
    )
    assert seen == sorted(attempts)
    assert set(bars["qa"]) == {"passed"}
    assert all(start < end for start, end in zip(bars["start"], bars["end"], strict=True))
    assert all(scene.endswith("(demo)") for scene in bars["scene"])
    expect(page.locator(".timeline-table")).to_contain_text("look-around-wide")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-timeline.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.browser
def test_performance_failures_and_consistency_tabs_render(page):
    from playwright.sync_api import expect

    _tab(page, "Performance")
    expect(page.locator(".performance-workers canvas").first).to_be_visible()
    expect(page.locator(".performance-trend canvas").first).to_be_visible()
    table = page.locator(".performance-table")
    expect(table).to_contain_text("worker")
    expect(table).to_contain_text("local")  # the demo's one preview worker
    _tab(page, "Failures")
    # the demo's attempts all passed and its runs all succeeded: said, not an error
    expect(page.get_by_text("No QA gate has refused a segment attempt.")).to_be_visible()
    expect(page.get_by_text("No failed runs in the lake.")).to_be_visible()
    _tab(page, "Consistency")  # the first character with identity scores, its takes
    expect(page.locator(".consistency-chart canvas").first).to_be_visible()
    expect(page.locator(".consistency-table")).to_contain_text("median_identity")


@pytest.mark.slow
@pytest.mark.browser
def test_refresh_re_exports_the_catalog_and_redraws(page, served):
    from playwright.sync_api import expect

    _tab(page, "Studio pulse")
    before = page.locator(".as-of").inner_text()
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_text("Catalog exported to the lake")).to_be_visible()
    expect(page.locator(".as-of")).not_to_have_text(before)
    expect(_stat(page, "delivered")).to_have_text("2")
    # the project filter narrows to one project: the demo is all of it
    page.locator("select").first.select_option("demo")
    expect(_stat(page, "delivered")).to_have_text("2")
