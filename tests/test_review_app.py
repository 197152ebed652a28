"""The review app in a real browser: login, frame-accurate stepping, decisions, shared notes.

One `panel serve` and one chromium serve the whole module; each test uses its own take, so
the tests do not depend on their order.
"""

import base64
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import drop_database, new_database
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.catalog.scenes import commit_segment
from trulience.media.encode import encode_frames
from trulience.notify import notify
from trulience.storage import Storage

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "docs" / "screenshots"
FRAMES = 12
SEGMENT_FRAMES = 4  # take 6 is three committed segments of four frames
PASSWORD = "s3cret-pass"


def grey_of(index: int) -> int:
    """Frame `index` is painted in this grey level, so its pixels tell its number."""
    return 10 + 20 * index


def index_of(picture: np.ndarray) -> int:
    """The frame number a decoded picture carries (H.264 moves a flat grey by a few levels)."""
    return round((float(picture.mean()) - 10) / 20)


def png_file(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Studio:
    base_url: str
    db_url: str
    takes: dict[int, int]  # take number → scene id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_served(url: str, server: subprocess.Popen, log: Path, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"panel serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"panel serve did not answer at {url} within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Studio]:
    """A catalog with three users and three assembled takes with real videos, served."""
    home = tmp_path_factory.mktemp("home")
    storage = Storage((home / "storage").as_uri())
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        for name, role in [("rita", "reviewer"), ("vic", "viewer"), ("paul", "producer")]:
            accounts.create_user(conn, name, name.title(), role, PASSWORD)
        make_project(conn)
        takes = {}
        for number in (1, 2, 3, 4, 5, 6, 7):
            video = home / f"take{number}.mp4"
            frames = (np.full((64, 64, 3), grey_of(i), dtype=np.uint8) for i in range(FRAMES))
            encode_frames(frames, video, 12, gop=4)  # several GOPs: stepping must seek
            # take 6 is laid out as assembly stores it: scene.mp4 with storyboard.png beside it
            folder = f"scenes/demo/ada/walk/take{number}"
            key = f"{folder}/scene.mp4" if number == 6 else f"{folder}.mp4"
            stored = storage.put_file(key, video)
            scene = make_take(conn, take=number, age_minutes=10 - number)
            conn.execute(
                "UPDATE scenes SET uri = %s, sha256 = %s, frames = %s WHERE id = %s",
                (stored.uri, stored.sha256, FRAMES, scene),
            )
            takes[number] = scene
        strip = np.full((32, 96, 3), 200, dtype=np.uint8)
        storage.put_bytes("scenes/demo/ada/walk/take6/storyboard.png", png_file(strip))
        for index in range(FRAMES // SEGMENT_FRAMES):
            commit_segment(
                conn,
                takes[6],
                index,
                1,
                uri=f"{storage.url}/segments/take6/{index}.mp4",
                sha256="0" * 64,
                frames=SEGMENT_FRAMES,
                provenance={"backend": "test"},
            )

    port = free_port()
    log = home / "panel.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TRULIENCE_HOME": str(home),
        "STORAGE_URL": storage.url,
    }
    command = [
        sys.executable,
        "-m",
        "panel",
        "serve",
        "apps/review.py",
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--allow-websocket-origin",
        f"127.0.0.1:{port}",
    ]
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}/review"
        wait_until_served(url, server, log)
        yield Studio(url, db_url, takes)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        drop_database(server_url, db_url)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed: make test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts: each one is a separate browser session."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, studio: Studio, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(studio.base_url)
    page.get_by_placeholder("Username").fill(username)
    page.get_by_placeholder("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Takes awaiting review")).to_be_visible()


def open_take(page, number: int) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name=f"Open take {number}").click()
    expect(page.get_by_text(f"frame 0 / {FRAMES}")).to_be_visible()


def shown_frame(page, expected: int) -> np.ndarray:
    """The picture on screen once it is frame `expected`, decoded from the page's PNG."""
    from playwright.sync_api import expect

    image = page.locator("img.review-frame-image")
    expect(image).to_have_attribute("data-frame", str(expected))
    source = image.get_attribute("src")
    assert source.startswith("data:image/png;base64,")
    data = base64.b64decode(source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_reviewer_steps_frames_by_keyboard_and_approves_requesting_delivery(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    expect(page.get_by_role("button", name="Open take 3")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-queue.png"), full_page=True)

    open_take(page, 1)
    assert index_of(shown_frame(page, 0)) == 0
    expected = 0
    for key in [".", ".", ".", ".", ".", ",", "."]:  # ends at frame 5, crossing a GOP
        page.keyboard.press(key)
        expected += 1 if key == "." else -1
        expect(page.get_by_text(f"frame {expected} / {FRAMES}")).to_be_visible()
        assert index_of(shown_frame(page, expected)) == expected
    page.get_by_role("button", name="+1").click()
    assert index_of(shown_frame(page, 6)) == 6
    page.screenshot(path=str(SCREENSHOTS / "review-player.png"), full_page=True)

    page.keyboard.press("a")
    expect(page.get_by_text("approved — delivery requested")).to_be_visible()
    with connect(studio.db_url) as conn:
        reviews = conn.execute(
            "SELECT r.id, r.decision, u.username FROM reviews r "
            "JOIN users u ON u.id = r.reviewer_id WHERE r.scene_id = %s",
            (studio.takes[1],),
        ).fetchall()
        assert [(decision, who) for _, decision, who in reviews] == [("approved", "rita")]
        audited = conn.execute(
            "SELECT actor FROM audit_log WHERE table_name = 'reviews' AND row_key = %s",
            (str(reviews[0][0]),),
        ).fetchall()
    assert audited == [("user:rita",)]


def test_jog_slider_and_play_show_the_decoded_frame_at_the_index(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    open_take(page, 7)
    jog = page.locator(".review-jog input").first
    jog.fill("7")
    jog.press("Enter")
    expect(page.get_by_text(f"frame 7 / {FRAMES}")).to_be_visible()
    assert index_of(shown_frame(page, 7)) == 7

    page.get_by_role("button", name="Play (Space)").click()
    expect(page.get_by_role("button", name="Pause (Space)")).to_be_visible()
    time.sleep(1)  # at 12 fps the last frame (11) comes after a third of a second
    pause = page.get_by_role("button", name="Pause (Space)")
    if pause.count():  # still playing: pause it (clicking "Play" now would restart)
        pause.click()
    expect(page.get_by_role("button", name="Play (Space)")).to_be_visible()
    reached = int(page.locator("img.review-frame-image").get_attribute("data-frame"))
    assert 7 < reached <= FRAMES - 1
    expect(page.get_by_text(f"frame {reached} / {FRAMES}")).to_be_visible()
    assert index_of(shown_frame(page, reached)) == reached
    expect(jog).to_have_value(str(reached))


def test_viewers_approve_is_refused_in_the_ui_and_nothing_is_written(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "vic")
    open_take(page, 2)
    page.keyboard.press("a")
    expect(page.get_by_text("not allowed")).to_be_visible()
    page.get_by_role("button", name="Approve (a)").click()
    expect(page.get_by_text("not allowed")).to_be_visible()
    with connect(studio.db_url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM reviews WHERE scene_id = %s", (studio.takes[2],)
        ).fetchone()[0]
    assert count == 0


def test_note_at_a_frame_is_seen_by_a_second_logged_in_user(studio, new_page):
    from playwright.sync_api import expect

    writer, reader = new_page(), new_page()
    log_in(reader, studio, "paul")
    open_take(reader, 3)
    log_in(writer, studio, "rita")
    open_take(writer, 3)
    for _ in range(3):
        writer.keyboard.press(".")
    assert index_of(shown_frame(writer, 3)) == 3
    # The text holds shortcut keys (a, r, f, '.'): typed into the field they must not act.
    body = "fix the hand flicker here, after frame 3."
    writer.get_by_placeholder("What needs fixing here?").press_sequentially(body)
    writer.get_by_role("button", name="Note at frame 3").click()
    expect(writer.get_by_text("note added at frame 3")).to_be_visible()
    assert index_of(shown_frame(writer, 3)) == 3

    reader.get_by_role("button", name="Refresh notes").click()
    note = reader.locator("li", has_text=body)
    expect(note).to_contain_text("frame 3")
    expect(note).to_contain_text("rita")
    with connect(studio.db_url) as conn:
        reviews = conn.execute(
            "SELECT count(*) FROM reviews WHERE scene_id = %s", (studio.takes[3],)
        ).fetchone()[0]
    assert reviews == 0


def test_batch_approve_of_two_selected_takes_writes_two_approved_reviews(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    for number in (4, 5):
        page.locator(f".select-take-{number} input[type=checkbox]").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_text("2 takes approved")).to_be_visible()
    expect(page.get_by_role("button", name="Open take 4")).to_have_count(0)
    with connect(studio.db_url) as conn:
        reviews = conn.execute(
            "SELECT r.scene_id, r.decision, u.username FROM reviews r "
            "JOIN users u ON u.id = r.reviewer_id WHERE r.scene_id = ANY(%s) ORDER BY r.scene_id",
            ([studio.takes[4], studio.takes[5]],),
        ).fetchall()
    assert reviews == [
        (studio.takes[4], "approved", "rita"),
        (studio.takes[5], "approved", "rita"),
    ]


def test_rejecting_the_segment_on_screen_rejects_notes_and_supersedes_it(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    open_take(page, 6)
    expect(page.locator("img.review-storyboard-image")).to_be_visible()
    for _ in range(5):  # frame 5 lies in segment 1 (frames 4–7)
        page.keyboard.press(".")
    assert index_of(shown_frame(page, 5)) == 5
    page.get_by_role("button", name="Reject segment…").click()
    expect(page.get_by_text("segment 1 · frames 4–7")).to_be_visible()
    page.get_by_role("button", name="Reject segment 1").click()
    expect(page.get_by_text("say what is wrong with the segment")).to_be_visible()
    page.get_by_placeholder("What is wrong with this segment?").fill("the arm pops")
    page.get_by_role("button", name="Reject segment 1").click()
    expect(page.get_by_text("segment 1 rejected")).to_be_visible()
    with connect(studio.db_url) as conn:
        decisions = conn.execute(
            "SELECT decision FROM reviews WHERE scene_id = %s", (studio.takes[6],)
        ).fetchall()
        notes = conn.execute(
            "SELECT body, frame FROM notes WHERE scene_id = %s", (studio.takes[6],)
        ).fetchall()
        segment = conn.execute(
            "SELECT status, current FROM segments WHERE scene_id = %s AND index = 1",
            (studio.takes[6],),
        ).fetchall()
    assert decisions == [("rejected",)]
    assert notes == [("segment 1: the arm pops", SEGMENT_FRAMES)]
    assert segment == [("superseded", False)]


def test_reviewer_sees_a_ready_for_review_notification_and_marks_it_read(studio, new_page):
    from playwright.sync_api import expect

    body = "take 9 of ada in walk is ready for review"
    with connect(studio.db_url, actor="tester") as conn:
        notify(conn, "ready_for_review", {"scene_id": studio.takes[3]}, body, users=["rita"])
    page = new_page()
    log_in(page, studio, "rita")
    tray = page.locator(".notification-tray")
    expect(tray).to_contain_text(body)
    expect(page.locator(".tray-badge")).not_to_have_text("0")
    page.get_by_role("button", name="Mark all read").click()
    expect(tray).to_contain_text("No unread notifications.")
    expect(page.locator(".tray-badge")).to_have_text("0")
    with connect(studio.db_url) as conn:
        waiting = conn.execute(
            "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
            "WHERE u.username = 'rita' AND n.read_at IS NULL"
        ).fetchone()[0]
    assert waiting == 0
