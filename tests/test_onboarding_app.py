"""The onboarding wizard in a real browser (PRD-67): a producer uploads a CSV and a zip of
its images, sees the dry-run report with a refused row (its column and reason) while nothing
is written, then confirms: the valid rows are in the library.

One `panel serve`, one chromium, one journey."""

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import drop_database, new_database
from tests.ingest_files import ASTRONAUT, TOM
from tests.panel_apps import SCREENSHOTS, page_logged_in, served
from tests.test_onboarding_state import CSV, PASSWORD
from trulience.auth import users as accounts
from trulience.catalog import characters, projects
from trulience.catalog.database import connect

pytestmark = pytest.mark.browser


@dataclass
class Wizard:
    url: str
    db_url: str
    files: Path


@pytest.fixture(scope="module")
def wizard(server_url, template_url, tmp_path_factory) -> Iterator[Wizard]:
    home = tmp_path_factory.mktemp("home")
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        projects.create_project(conn, "moonbase", "Moonbase")
        accounts.create_user(conn, "paul", "Paul", "producer", PASSWORD)
    files = home / "upload"
    files.mkdir()
    (files / "cast.csv").write_bytes(CSV)
    with zipfile.ZipFile(files / "pics.zip", "w") as zipped:
        zipped.write(ASTRONAUT, "pics/ada.png")
        zipped.write(TOM, "pics/tom.png")
    env = {
        "DATABASE_URL": db_url,
        "TRULIENCE_HOME": str(home),
        "STORAGE_URL": (home / "storage").as_uri(),
    }
    try:
        with served("onboarding", env, home / "panel.log") as url:
            yield Wizard(url, db_url, files)
    finally:
        drop_database(server_url, db_url)


def test_a_producer_uploads_sees_a_refused_row_and_confirms(wizard, browser):
    from playwright.sync_api import expect

    page = page_logged_in(browser, wizard.url, "paul", PASSWORD)
    page.locator(".onboarding-csv input[type=file]").set_input_files(str(wizard.files / "cast.csv"))
    page.locator(".onboarding-images input[type=file]").set_input_files(
        str(wizard.files / "pics.zip")
    )
    page.get_by_role("button", name="Check").click()
    summary = page.locator(".onboarding-summary")
    expect(summary).to_contain_text("2 row(s) valid, 2 refused; nothing written yet")
    refused = page.locator("tr.onboarding-refused", has_text="tom")
    expect(refused.locator(".onboarding-field")).to_have_text("age")
    expect(refused.locator(".onboarding-reason")).to_contain_text("'old' is not of type 'integer'")
    expect(page.locator("tr.onboarding-created")).to_have_count(2)
    with connect(wizard.db_url) as conn:
        assert characters.list_characters(conn) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "onboarding.png"), full_page=True)

    page.get_by_role("button", name="Confirm").click()
    expect(summary).to_contain_text("2 character(s) created, 2 refused")
    with connect(wizard.db_url) as conn:
        assert [c.slug for c in characters.list_characters(conn)] == ["ada", "cy"]
