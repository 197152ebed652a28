"""Trims and branches in the review app, in a real browser (PRD-78, PRD-50): a producer
marks in and out points inside a segment, trims it from the trim panel and sees the new
revision with its frame count; compares the take's branch with the current take (the
compared video plays beside it) and promotes the branch, which the queue then marks
current.

One `panel serve` and one chromium serve the module (its one journey)."""

from collections.abc import Iterator

import pytest

from tests.branch_takes import FRAMES, SEGMENTS, ServedCell, served_branch_cell
from tests.panel_apps import SCREENSHOTS, log_in
from trulience.catalog.branches import current_take
from trulience.catalog.database import connect

pytestmark = pytest.mark.browser

PASSWORD = "s3cret-pass"
TOTAL = SEGMENTS * FRAMES


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[ServedCell]:
    """paul (producer); take 1 of ada/walk on main and take 2 on seed-42, assembled from
    three real segments of twelve frames each, served."""
    home = tmp_path_factory.mktemp("home")
    with served_branch_cell(server_url, home, {"paul": "producer"}, PASSWORD) as served:
        yield served


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def go_to(page, frame: int, total: int) -> None:
    from playwright.sync_api import expect

    goto = page.locator(".vp-goto")
    goto.fill(str(frame))
    goto.press("Enter")
    expect(page.get_by_text(f"frame {frame} / {total}")).to_be_visible()


def test_a_producer_trims_a_segment_then_compares_and_promotes_a_branch(studio, page):
    from playwright.sync_api import expect

    log_in(page, studio.base_url, "paul", PASSWORD)
    expect(page.get_by_text("Takes awaiting review")).to_be_visible()
    expect(page.locator(".queue-take-1 .queue-current")).to_be_visible()
    expect(page.locator(".queue-take-2 .queue-branch")).to_have_text("seed-42")
    page.get_by_role("button", name="Open take 1", exact=True).click()
    expect(page.get_by_text(f"frame 0 / {TOTAL}")).to_be_visible()

    # In at frame 14 and out at 22, inside segment 1 (frames 12-23): cut 2 and 1
    go_to(page, FRAMES + 2, TOTAL)
    page.locator(".vp-in").click()
    go_to(page, 2 * FRAMES - 2, TOTAL)
    page.locator(".vp-out").click()
    expect(page.locator(".trim-head input")).to_have_value("2")
    expect(page.locator(".trim-tail input")).to_have_value("1")
    page.get_by_role("button", name="Trim segment 1").click()
    expect(
        page.get_by_text("segment 1 trimmed (head 2, tail 1): 33 frames, revision 2")
    ).to_be_visible()
    expect(page.get_by_text(f"frame {FRAMES} / {TOTAL - 3}")).to_be_visible()
    expect(page.locator(".trim-segment")).to_contain_text("9 frames shown (trimmed 2 + 1)")

    # the branch beside the current take, then promoted after asking
    branch = page.locator(".branch-take-2")
    expect(branch).to_contain_text("seed-42")
    expect(branch).to_contain_text("seed 42")
    expect(page.locator(".branch-take-1 .branch-current")).to_be_visible()
    expect(page.locator("video.vp-compare")).to_be_hidden()
    page.locator(".branch-compare-2 button").click()
    expect(page.locator("video.vp-compare")).to_be_visible()
    expect(page.locator(".vp-box")).to_have_attribute("data-compare", "side")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-branches.png"), full_page=True)
    page.locator(".branch-promote-2 button").click()
    page.get_by_role("button", name="Promote take 2 (seed-42)").click()
    expect(
        page.get_by_text("take 2 (seed-42) is now the current take of ada · walk")
    ).to_be_visible()
    expect(page.locator(".branch-take-2 .branch-current")).to_be_visible()
    with connect(studio.db_url) as conn:
        assert current_take(conn, studio.main) == studio.branch

    page.get_by_role("button", name="Back to queue").click()
    expect(page.locator(".queue-take-2 .queue-current")).to_be_visible()
    expect(page.locator(".queue-take-1 .queue-current")).to_have_count(0)
