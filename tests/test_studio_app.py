"""The Studio in a real browser: one login reaches review, dashboards and compare, a reload
keeps the page and the session, the back button moves between pages, the dark theme is kept
across a logout, and one logout ends it all."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, served
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.catalog.themes import theme_of
from trulience.catalog.users import get_user

PASSWORD = "s3cret-pass"


@dataclass
class Served:
    url: str
    db_url: str
    home: Path


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Served]:
    """The Studio (and the share page beside it) over a catalog with a reviewer and a take."""
    home = tmp_path_factory.mktemp("studio-home")
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        accounts.create_user(conn, "rita", "Rita", "reviewer", PASSWORD)
        make_project(conn)
        make_take(conn)
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home)}
    try:
        with served("studio", env, home / "panel.log") as url:
            yield Served(url, db_url, home)
    finally:
        drop_database(server_url, db_url)


def visible(locator):
    """Only the shown ones: built pages keep their own (hidden) login forms in the page."""
    return locator.locator("visible=true")


def form(page):
    """The Studio's own login form."""
    return page.locator(".studio-login")


def log_in(page, username: str) -> None:
    form(page).get_by_placeholder("Username").fill(username)
    form(page).get_by_placeholder("Password").fill(PASSWORD)
    form(page).get_by_role("button", name="Log in").click()


def go_to(page, title: str) -> None:
    page.locator(".MuiListItemButton-root", has_text=title).click()


@pytest.mark.slow
@pytest.mark.browser
def test_one_login_reaches_every_page_survives_a_reload_and_keeps_the_theme(studio, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # building a page the first time, on a busy machine
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(studio.url)
    log_in(page, "rita")
    # the first page the role may open: review, its queue of the one take
    expect(visible(page.get_by_text("Logged in as")).first).to_be_visible()
    expect(visible(page.get_by_role("button", name="Refresh queue"))).to_be_visible()
    assert "page=review" in page.url

    go_to(page, "Dashboards")
    expect(visible(page.get_by_text("no lake here yet", exact=False)).first).to_be_visible()
    assert "page=dashboards" in page.url
    go_to(page, "Compare")
    expect(visible(page.get_by_text("Trulience Studio · Compare"))).to_be_visible()
    assert "page=compare" in page.url
    expect(visible(page.get_by_placeholder("Username"))).to_have_count(0)  # no second login
    go_to(page, "Queue")  # the workers and the line, with no worker registered yet
    expect(visible(page.get_by_text("Trulience Studio · Queue"))).to_be_visible()
    expect(page.locator(".queue-pool").first).to_be_visible()
    assert "page=queue" in page.url
    page.go_back()  # back to compare

    page.go_back()  # the browser's history: back to the dashboards
    expect(visible(page.get_by_text("Trulience Studio · Dashboards"))).to_be_visible()

    page.reload()  # a new document: the cookie's session and the URL's page
    expect(visible(page.get_by_text("Trulience Studio · Dashboards"))).to_be_visible()
    expect(visible(page.get_by_placeholder("Username"))).to_have_count(0)
    with connect(studio.db_url) as conn:
        assert len(accounts.sessions_of(conn, "rita", active_only=True)) == 1

    page.get_by_role("button", name="Toggle theme").click()
    expect(page.locator(".mui-light")).to_have_count(0)  # the shell is drawn dark
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "studio-dark.png"))
    with connect(studio.db_url) as conn:
        rita = get_user(conn, "rita")
        assert theme_of(conn, rita.id) == "dark"

    visible(page.get_by_role("button", name="Log out")).first.click()
    expect(form(page).get_by_placeholder("Username")).to_be_visible()
    with connect(studio.db_url) as conn:
        assert accounts.sessions_of(conn, "rita", active_only=True) == []
    page.reload()  # the cookie went with the session: the form again
    expect(form(page).get_by_placeholder("Username")).to_be_visible()

    log_in(page, "rita")  # the theme chosen before comes back with the login
    expect(visible(page.get_by_text("Logged in as")).first).to_be_visible()
    expect(page.locator(".mui-light")).to_have_count(0)  # the shell is drawn dark
    visible(page.get_by_role("button", name="Log out")).first.click()
    expect(form(page).get_by_placeholder("Username")).to_be_visible()
    context.close()
