"""The Studio's header in a real browser: Ctrl+K, a character's name and Enter open it; the
job tray shows a segment waiting for a slot; Help opens the open page's help."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, served
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.catalog.synthetic import fill_synthetic_characters
from trulience.workers import segment_queue

PASSWORD = "s3cret-pass"


@dataclass
class Served:
    url: str
    take_id: int


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Served]:
    """The Studio over a catalog of 50 characters, a producer, and a segment waiting."""
    home = tmp_path_factory.mktemp("palette-home")
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        accounts.create_user(conn, "pat", "Pat", "producer", PASSWORD)
        make_project(conn)
        make_take(conn)
        fill_synthetic_characters(conn, 50)
        take_id = conn.execute(
            "SELECT id FROM scenes WHERE status = 'generating' ORDER BY id LIMIT 1"
        ).fetchone()[0]
        # waiting for a slot of a pool with no worker (renewed for an hour: it stays)
        segment_queue.request_slot(conn, "gpu", "loop", take_id=take_id, segment=2, alive_s=3600.0)
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home)}
    try:
        with served("studio", env, Path(home) / "panel.log") as url:
            yield Served(url, take_id)
    finally:
        drop_database(server_url, db_url)


def visible(locator):
    """Only the shown ones: built pages keep their own (hidden) login forms in the page."""
    return locator.locator("visible=true")


@pytest.mark.slow
@pytest.mark.browser
def test_ctrl_k_opens_a_character_the_tray_shows_the_queue_and_help_opens(studio, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # building a page the first time, on a busy machine
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(studio.url)
    form = page.locator(".studio-login")
    form.get_by_placeholder("Username").fill("pat")
    form.get_by_placeholder("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in").click()
    expect(visible(page.get_by_text("Logged in as")).first).to_be_visible()

    page.keyboard.press("Control+k")  # anywhere in the Studio
    search = page.locator(".palette-input")
    expect(search).to_be_focused()
    search.press_sequentially("Esme Weatherwax 4")
    first = page.locator(".palette-result").first
    expect(first).to_contain_text("Esme Weatherwax 4")
    expect(first).to_have_attribute("data-key", "c-00004")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "studio-palette.png"))
    search.press("Enter")
    expect(page.locator(".palette-overlay")).to_be_hidden()
    # the character's own page
    expect(visible(page.locator(".character-facts")).first).to_contain_text("Esme Weatherwax 4")
    assert "page=character" in page.url

    page.keyboard.press("Control+k")
    expect(search).to_be_focused()
    search.press_sequentially("zzzqqq")
    expect(page.locator(".palette-empty")).to_be_visible()
    search.press("Escape")
    expect(page.locator(".palette-overlay")).to_be_hidden()

    page.locator(".tray-open").click()
    waiting = page.locator(".tray-kind-waiting")
    expect(waiting).to_contain_text(f"take #{studio.take_id} segment 2")
    expect(waiting).to_contain_text("#1 in line")
    expect(page.locator(".tray-kind-take").first).to_contain_text("0 of 4")
    page.locator(".tray-open").click()

    visible(page.locator(".studio-help")).first.click()
    expect(visible(page.locator(".help-topic")).first).to_contain_text("One character")
    assert "page=help" in page.url
    context.close()
