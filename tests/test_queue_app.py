"""The queue page in a real browser (PRD-08, PRD-34): an operator logs in and sees the
worker's running segment and the line; a waiting take moves up when its priority is changed
through the service (as `trulience queue priority` does) while the row that kept its place
keeps its DOM; they open the running take, see its committed segment's picture, pause it,
and drain the worker. No page is reloaded.

One `panel serve`, one chromium, one journey."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, page_logged_in, served
from tests.review_takes import make_take
from tests.test_queue_app_state import PASSWORD, WAITER_ALIVE_S, Line, line_up
from trulience.catalog.database import connect
from trulience.catalog.scenes import take_control
from trulience.storage import Storage
from trulience.workers import pool, segment_queue

pytestmark = pytest.mark.browser


@dataclass
class Studio:
    base_url: str
    db_url: str
    line: Line
    fourth: int  # take 4's scene id: last in line, it never moves


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Studio]:
    """The state tests' line (take 1 running on gpu-a, takes 2 and 3 waiting) and take 4
    waiting behind them; served."""
    home = tmp_path_factory.mktemp("home")
    storage = Storage((home / "storage").as_uri())
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        line = line_up(conn, storage, home)
        fourth = make_take(conn, take=4, status="generating")
        segment_queue.request_slot(
            conn,
            "default",
            "loop",
            purpose="demo/ada/walk/take-4 segment 0",
            take_id=fourth,
            alive_s=WAITER_ALIVE_S,
        )
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home), "STORAGE_URL": storage.url}
    try:
        with served("queue", env, home / "panel.log") as url:
            yield Studio(url, db_url, line, fourth)
    finally:
        drop_database(server_url, db_url)


def test_an_operator_follows_the_line_and_pauses_a_take_and_drains_a_worker(studio, browser):
    from playwright.sync_api import expect

    takes = studio.line.takes
    page = page_logged_in(browser, studio.base_url, "olga", PASSWORD)
    worker = page.locator(".queue-worker-gpu-a")
    expect(worker.locator(".queue-worker-state")).to_have_text("online")
    expect(worker.locator(".queue-worker-gpu")).to_have_text("NVIDIA L4")
    expect(worker.locator(".queue-running-segment")).to_have_text(
        "demo/ada/walk take 1 · segment 1 · attempt 1"
    )
    for number, position in ((2, "#1"), (3, "#2")):
        expect(page.locator(f".queue-take-{takes[number]} .queue-position")).to_have_text(position)
    last = page.locator(f".queue-take-{studio.fourth}")
    expect(last.locator(".queue-position")).to_have_text("#3")
    page.evaluate("window.notReloaded = true")
    last.evaluate("row => { row.dataset.kept = 'yes'; }")

    # the service (as `trulience queue priority` does) raises take 3: it moves up
    with connect(studio.db_url, actor="cli:tester") as conn:
        segment_queue.set_take_priority(conn, takes[3], 10)
    expect(page.locator(f".queue-take-{takes[3]} .queue-position")).to_have_text("#1")
    expect(page.locator(f".queue-take-{takes[3]} .queue-priority")).to_have_text("10")
    expect(page.locator(f".queue-take-{takes[2]} .queue-position")).to_have_text("#2")
    expect(last).to_have_attribute("data-kept", "yes")  # unchanged: the same DOM
    assert page.evaluate("window.notReloaded") is True

    # open the running take: its committed segment, then pause it
    worker.get_by_role("button", name=f"Open take #{takes[1]}").click()
    drawer = page.locator(".queue-drawer")
    expect(drawer.locator(".queue-drawer-count")).to_have_text("1")
    expect(drawer.locator(".queue-segment-0 img.queue-segment-thumb")).to_be_visible()
    drawer.get_by_role("button", name="Pause take").click()
    expect(drawer.locator(".queue-drawer-control")).to_have_text("pause")
    with connect(studio.db_url) as conn:
        assert take_control(conn, takes[1]) == ("pause", "user:olga")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

    # drain the worker: it finishes its segment, takes no new one
    page.locator(".studio-more").get_by_role("button", name="More").click()  # the actions
    worker.get_by_role("button", name="Drain gpu-a").click()
    expect(worker.locator(".queue-worker-state")).to_have_text("draining")
    expect(page.get_by_text("worker gpu-a: draining (1 running)")).to_be_visible()
    with connect(studio.db_url) as conn:
        assert pool.get_worker(conn, "gpu-a").state == "draining"
    assert page.evaluate("window.notReloaded") is True
