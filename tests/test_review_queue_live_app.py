"""The live queue and branch list in a real browser (PRD-11, PRD-92, PRD-50): two reviewers
on one served review app, each in their own browser session. B's queue row changes status
when A decides and its assignee when the service assigns (as the CLI does), B's tick and
row stay; B's branch list shows the branch A promotes; A makes a branch from the app (a bad
params JSON is refused naming the field, nothing stored) and it appears, waiting, in both
lists. No page is reloaded.

One `panel serve`, one chromium, one journey."""

import re
from collections.abc import Iterator

import pytest

from tests.branch_takes import ServedCell, served_branch_cell
from tests.panel_apps import page_logged_in
from trulience.catalog import users as catalog_users
from trulience.catalog.database import connect
from trulience.review.queue import assign

pytestmark = pytest.mark.browser

PASSWORD = "s3cret-pass"


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[ServedCell]:
    """paul (producer) and rita (reviewer); take 1 of ada/walk on main and take 2 on
    seed-42, assembled from real segments, awaiting review; served."""
    users = {"paul": "producer", "rita": "reviewer"}
    home = tmp_path_factory.mktemp("home")
    with served_branch_cell(server_url, home, users, PASSWORD) as served:
        yield served


def logged_in(browser, studio: ServedCell, username: str):
    """`username` logged in on a page of their own browser session, on the queue."""
    from playwright.sync_api import expect

    page = page_logged_in(browser, studio.base_url, username, PASSWORD)
    expect(page.get_by_text("Takes awaiting review")).to_be_visible()
    return page


def scenes(studio: ServedCell) -> int:
    with connect(studio.db_url) as conn:
        return conn.execute("SELECT count(*) FROM scenes").fetchone()[0]


def test_queues_and_branch_lists_follow_another_reviewer_without_a_reload(studio, browser):
    from playwright.sync_api import expect

    a, b = logged_in(browser, studio, "paul"), logged_in(browser, studio, "rita")
    b.locator(".queue-status-filter select").select_option("(all)")
    expect(b.get_by_text("Takes: (all)")).to_be_visible()
    b.locator(".select-take-2 input[type=checkbox]").check()
    # a mark on B's page: gone if the page reloaded, and on take 2's row if it was kept
    b.evaluate("window.notReloaded = true")
    b.locator(".queue-take-2").evaluate("row => { row.dataset.kept = 'yes'; }")
    expect(b.locator(".queue-take-1 .queue-status")).to_have_text("awaiting")

    # A approves take 1 in the player: B's row says so
    a.get_by_role("button", name="Open take 1", exact=True).click()
    a.get_by_role("button", name=re.compile(r"^Approve \(")).click()
    expect(a.get_by_text("approved — delivery requested")).to_be_visible()
    expect(b.locator(".queue-take-1 .queue-status")).to_have_text("approved")
    expect(b.locator(".select-take-2 input[type=checkbox]")).to_be_checked()
    expect(b.locator(".queue-take-2")).to_have_attribute("data-kept", "yes")

    # the service (as `trulience takes assign` does) gives take 2 to rita
    with connect(studio.db_url) as conn:
        assign(conn, catalog_users.get_user(conn, "paul"), studio.branch, "rita")
    expect(b.locator(".queue-take-2 .queue-assignee")).to_have_text("rita")
    expect(b.locator(".select-take-2 input[type=checkbox]")).to_be_checked()

    # B on take 1's branches; A promotes take 2: B's list says it is current
    b.get_by_role("button", name="Open take 1", exact=True).click()
    expect(b.locator(".branch-take-1 .branch-current")).to_be_visible()
    a.locator(".branch-promote-2 button").click()
    a.get_by_role("button", name="Promote take 2 (seed-42)").click()
    expect(a.locator(".branch-take-2 .branch-current")).to_be_visible()
    expect(b.locator(".branch-take-2 .branch-current")).to_be_visible()
    expect(b.locator(".branch-take-1 .branch-current")).to_have_count(0)

    # A makes a branch from the app: bad params first, refused naming the field
    before = scenes(studio)
    a.locator(".branch-name input").fill("calm")
    a.locator(".branch-params textarea").fill('{"motion": 0.2')
    a.get_by_role("button", name="New branch").click()
    expect(a.get_by_text(re.compile(r"branch params .* is not valid JSON"))).to_be_visible()
    assert scenes(studio) == before
    a.locator(".branch-params textarea").fill('{"motion": 0.2}')
    a.get_by_role("button", name="New branch").click()
    expect(a.get_by_text("branch calm: take 3 waits for the pipeline")).to_be_visible()
    for page in (a, b):
        row = page.locator(".branch-take-3")
        expect(row).to_contain_text("calm")
        expect(row).to_contain_text("waiting to be generated")
    assert scenes(studio) == before + 1
    assert b.evaluate("window.notReloaded") is True
    for page in (a, b):
        page.context.close()
