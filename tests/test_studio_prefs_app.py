"""The Studio in a real browser, what it keeps per user: the example plugin's page in the
navigation, the session cookie HttpOnly (no script sees it), the take in the URL across a
reload, and the page and its filters across a logout and login."""

from collections.abc import Iterator

import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import served
from tests.review_takes import make_project, make_take
from tests.test_studio_app import Served, form, go_to, log_in, visible
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.catalog.layouts import layout_of
from trulience.catalog.users import get_user

PASSWORD = "s3cret-pass"


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Served]:
    """The Studio over a catalog with a reviewer and a take; the plugin installed."""
    home = tmp_path_factory.mktemp("studio-prefs-home")
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


@pytest.mark.slow
@pytest.mark.browser
def test_a_plugin_page_the_httponly_cookie_and_filters_kept_across_logout(studio, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(studio.url)
    # the cookie holds the session, set by the server for the page's one-time nonce
    with page.expect_response("**/studio-cookie/**") as handed:
        log_in(page, "rita")
    assert handed.value.status == 204
    expect(visible(page.get_by_role("button", name="Refresh queue"))).to_be_visible()
    cookies = {c["name"]: c for c in context.cookies()}
    cookie = cookies["trulience_studio"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "trulience_studio" not in page.evaluate("document.cookie")

    # the example plugin (examples/trulience-hello-plugin) adds a page to the navigation
    go_to(page, "Hello")
    expect(visible(page.get_by_text("Hello from a plugin"))).to_be_visible()
    expect(visible(page.locator(".hello-greeting"))).to_contain_text("Hello, rita")
    assert "page=hello" in page.url

    # the review page writes the take it opens into the URL; a reload stays in the player
    go_to(page, "Review")
    visible(page.get_by_role("button", name="Open take 1")).click()
    expect(visible(page.get_by_role("button", name="Back to queue"))).to_be_visible()
    page.wait_for_url("**take=*")
    page.reload()
    expect(visible(page.get_by_role("button", name="Back to queue"))).to_be_visible()
    visible(page.get_by_role("button", name="Back to queue")).click()

    # a filter chosen, then a logout and a login: the page and the filter come back
    visible(page.locator(".queue-overdue-only input")).check()
    visible(page.get_by_role("button", name="Log out")).first.click()
    expect(form(page).get_by_placeholder("Username")).to_be_visible()
    page.goto(studio.url)  # no ?page=: the page left open
    log_in(page, "rita")
    expect(visible(page.get_by_role("button", name="Refresh queue"))).to_be_visible()
    expect(visible(page.locator(".queue-overdue-only input"))).to_be_checked()
    assert "page=review" in page.url
    with connect(studio.db_url) as conn:
        saved = layout_of(conn, get_user(conn, "rita").id)
    assert saved["review.overdue"] is True and saved["studio.page"] == "review"
    context.close()
