"""The library and character pages in a real browser, inside the Studio: a producer filters
the library, opens a character from its row, enters an invalid age (the error shows at the
field and nothing is written), fixes it and saves."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, served
from trulience.auth import users as accounts
from trulience.catalog.characters import create_character, get_character
from trulience.catalog.database import connect
from trulience.catalog.projects import create_project

PASSWORD = "s3cret-pass"


@dataclass
class Served:
    url: str
    db_url: str


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Served]:
    """The Studio over a catalog with a producer and a small cast in project demo."""
    home = tmp_path_factory.mktemp("library-home")
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        accounts.create_user(conn, "paul", "Paul", "producer", PASSWORD)
        create_project(conn, "demo", "Demo")
        for slug, name in [("ada", "Ada"), ("bob", "Bob"), ("cy", "Cy Twombly")]:
            create_character(conn, slug, name, {"name": name, "age": 30}, projects=["demo"])
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home)}
    try:
        with served("studio", env, home / "panel.log") as url:
            yield Served(url, db_url)
    finally:
        drop_database(server_url, db_url)


def visible(locator):
    """Only the shown ones: built pages keep their own (hidden) login forms in the page."""
    return locator.locator("visible=true")


@pytest.mark.slow
@pytest.mark.browser
def test_a_producer_filters_opens_a_character_and_fixes_an_invalid_value(studio, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(studio.url + "?page=library")
    login = page.locator(".studio-login")
    login.get_by_placeholder("Username").fill("paul")
    login.get_by_placeholder("Password").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    rows = page.locator(".library-row")
    expect(rows).to_have_count(3)
    expect(page.locator(".library-where")).to_contain_text("3 characters")
    page.locator(".library-text input").fill("twom")
    page.locator(".library-text input").press("Enter")
    expect(rows).to_have_count(1)
    expect(page.locator(".library-row-cy")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "library.png"))

    page.locator(".library-row-cy a.library-open").click()
    expect(page.locator(".character-title")).to_contain_text("Cy Twombly")
    assert "page=character" in page.url and "character=cy" in page.url
    age = page.locator(".character-field-age input")
    age.fill("thirty")
    age.press("Enter")
    page.locator(".character-save button").click()
    error = page.locator(".character-field-age .character-field-error")
    expect(error).to_contain_text("'thirty' is not of type 'integer'")
    with connect(studio.db_url) as conn:
        assert get_character(conn, "cy").metadata["age"] == 30  # nothing written

    age.fill("41")
    age.press("Enter")
    page.locator(".character-save button").click()
    expect(visible(page.locator(".studio-notice")).first).to_contain_text("saved cy's metadata")
    expect(error).to_be_hidden()
    with connect(studio.db_url) as conn:
        assert get_character(conn, "cy").metadata == {"name": "Cy Twombly", "age": 41}
    page.screenshot(path=str(SCREENSHOTS / "character.png"))
    context.close()
