"""Authoring in a real browser, in the Studio (PRD-63, PRD-33): a producer opens a scene
type and sees what it sets and what it inherits, changes the prompt (a new version), diffs
it with the first version and rolls back (another new version equal to the first); then
opens the workflow its parent uses, drawn with its seed image slot highlighted."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, served
from tests.test_authoring_state import PASSWORD, authored
from trulience.catalog.database import connect
from trulience.catalog.scene_type_versions import scene_type_version
from trulience.generation.scene_history import same_settings

pytestmark = pytest.mark.browser


@dataclass
class Served:
    url: str
    db_url: str


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Served]:
    """The Studio over base and walk (inheriting it) and the workflow animatic."""
    home = tmp_path_factory.mktemp("authoring-home")
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        authored(conn)
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home)}
    try:
        with served("studio", env, home / "panel.log") as url:
            yield Served(url, db_url)
    finally:
        drop_database(server_url, db_url)


def visible(locator):
    """Only the shown ones: built pages keep their own (hidden) login forms in the page."""
    return locator.locator("visible=true")


def test_a_producer_edits_diffs_and_rolls_back_a_prompt_then_reads_a_workflow(studio, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # building a page the first time, on a busy machine
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(studio.url + "?page=scene-types")
    login = page.locator(".studio-login")
    login.get_by_placeholder("Username").fill("paul")
    login.get_by_placeholder("Password").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()

    page.locator(".scene-types-list select").select_option(label="walk (inherits base)")
    prompt = page.locator(".scene-setting-prompt_template")
    expect(prompt).to_have_attribute("data-source", "own")
    expect(prompt.locator(".scene-setting-source")).to_have_text("own")
    fps = page.locator(".scene-setting-fps")
    expect(fps).to_have_attribute("data-source", "inherited")
    expect(fps.locator(".scene-setting-source")).to_have_text("inherited from base")
    expect(page.locator(".scene-setting-seed_policy .scene-setting-source")).to_have_text("default")

    page.locator(".scene-types-prompt textarea").fill("{name} walking in the rain")
    page.get_by_role("button", name="Save prompt").click()
    expect(visible(page.get_by_text("scene type walk: new version 2"))).to_be_visible()
    expect(page.locator(".scene-types-version-2")).to_contain_text("{name} walking in the rain")

    page.locator(".scene-types-diff-old select").select_option(label="v1")
    page.locator(".scene-types-diff-new select").select_option(label="v2")
    page.get_by_role("button", name="Diff").click()
    diff = page.locator(".scene-types-diff")
    expect(diff.locator(".diff-remove")).to_have_text("-prompt_template: {name} walking")
    expect(diff.locator(".diff-add")).to_have_text("+prompt_template: {name} walking in the rain")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "scene-types.png"), full_page=True)

    page.locator(".scene-types-back-to select").select_option(label="v1")
    page.get_by_role("button", name="Roll back").click()
    expect(visible(page.get_by_text("new version 3 (equal to v1)"))).to_be_visible()
    with connect(studio.db_url) as conn:
        first, third = (scene_type_version(conn, "walk", n) for n in (1, 3))
        assert same_settings(first, third)

    page.goto(studio.url + "?page=workflows")
    page.locator(".workflows-list select").select_option(label="animatic")
    node = page.locator(".wf-node-1")
    expect(node).to_have_attribute("data-class-type", "LoadImage")
    expect(node.locator(".wf-slot-seed_image")).to_contain_text("[seed_image]")
    expect(page.locator(".wf-node-11 .wf-slot-video")).to_be_visible()
    expect(page.locator(".wf-loose")).to_contain_text("no seed slot")
    page.screenshot(path=str(SCREENSHOTS / "workflows.png"), full_page=True)
