"""The review app in a real browser: login, frame-accurate stepping and playback in the
browser player (tests/test_review_player.py is its 500-operation acceptance test), decisions,
threaded notes, each user's own shortcut keys, onion skin and zoom, tablet and phone layout
and touch (swipe to step, tap to play, tap to decide), a sensitive take's blur and Reveal,
sound and cinema mode.

One `panel serve` and one chromium serve the whole module; each test uses its own take, so
the tests do not depend on their order.
"""

import base64
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests import panel_apps
from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, served
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.auth.acting import Operator
from trulience.catalog.database import connect
from trulience.catalog.scenes import commit_segment
from trulience.media.encode import H264Writer, encode_frames
from trulience.media.frames import frame_at
from trulience.notify import notify
from trulience.review.sensitivity import rate
from trulience.review.shortcuts import set_shortcuts
from trulience.storage import Storage

pytestmark = pytest.mark.browser

FRAMES = 12
SEGMENT_FRAMES = 4  # take 6 is three committed segments of four frames
LONG_FRAMES = 96  # take 9: eight seconds at 12 fps, so a pause lands well before the end
FPS = 12
SIDE = 64
PASSWORD = "s3cret-pass"
GREEN = (0, 200, 0)
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def grey_of(index: int) -> int:
    """Frame `index` is painted in this grey level, so its pixels tell its number."""
    return 10 + 20 * index


def index_of(picture: np.ndarray) -> int:
    """The frame number a decoded picture carries (H.264 moves a flat grey by a few levels)."""
    return round((float(picture.mean()) - 10) / 20)


def grey_frame(index: int) -> np.ndarray:
    return np.full((SIDE, SIDE, 3), grey_of(index), dtype=np.uint8)


def green_corner_frame(index: int) -> np.ndarray:
    """Frame `index` in its grey, with a fixed green top-right quadrant to zoom into."""
    picture = grey_frame(index)
    picture[: SIDE // 2, SIDE // 2 :] = GREEN
    return picture


def two_digit_frame(index: int) -> np.ndarray:
    """Frames past 12 cannot each have their own grey: the left half carries index % 12,
    the right half index // 12, in the same grey steps."""
    picture = grey_frame(index % 12)
    picture[:, SIDE // 2 :] = grey_of(index // 12)
    return picture


def two_digit_index(picture: np.ndarray) -> int:
    """The number `two_digit_frame` painted, read away from the halves' shared edge."""
    return index_of(picture[:, : SIDE // 2 - 8]) + 12 * index_of(picture[:, SIDE // 2 + 8 :])


# Take number → its frames. Take 6 is laid out as assembly stores it (scene.mp4 with a
# storyboard beside it), take 8 has a green corner, take 9 is long.
CLIPS = {n: (grey_frame, FRAMES) for n in range(1, 13)}
CLIPS[8] = (green_corner_frame, FRAMES)
CLIPS[9] = (two_digit_frame, LONG_FRAMES)


def png_file(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Studio:
    base_url: str
    db_url: str
    takes: dict[int, int]  # take number → scene id
    home: Path  # where each take's video was made: takeN.mp4


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Studio]:
    """A catalog with four users (nina's approve key is `k`) and twelve assembled takes
    with real videos, served."""
    home = tmp_path_factory.mktemp("home")
    storage = Storage((home / "storage").as_uri())
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        people = [("rita", "reviewer"), ("vic", "viewer"), ("paul", "producer")]
        for name, role in [*people, ("nina", "reviewer")]:
            accounts.create_user(conn, name, name.title(), role, PASSWORD)
        set_shortcuts(conn, "nina", assignments={"approve": "k"})
        make_project(conn)
        takes = {}
        for number, (paint, count) in CLIPS.items():
            video = home / f"take{number}.mp4"
            frames = (paint(i) for i in range(count))
            encode_frames(frames, video, FPS, gop=4)  # several GOPs: stepping must seek
            folder = f"scenes/demo/ada/walk/take{number}"
            key = f"{folder}/scene.mp4" if number == 6 else f"{folder}.mp4"
            stored = storage.put_file(key, video)
            scene = make_take(conn, take=number, age_minutes=20 - number)
            conn.execute(
                "UPDATE scenes SET uri = %s, sha256 = %s, frames = %s WHERE id = %s",
                (stored.uri, stored.sha256, count, scene),
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

    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home), "STORAGE_URL": storage.url}
    try:
        with served("review", env, home / "panel.log") as url:
            yield Studio(url, db_url, takes, home)
    finally:
        drop_database(server_url, db_url)


@pytest.fixture
def new_page(browser):
    """Pages in fresh browser contexts: each one is a separate browser session."""
    contexts = []

    def make(viewport: dict[str, int] | None = None, touch: bool = False):
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800}, has_touch=touch
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, studio: Studio, username: str) -> None:
    from playwright.sync_api import expect

    panel_apps.log_in(page, studio.base_url, username, PASSWORD)
    # a session builds the whole page (queue, player) at login: slow on a busy machine
    expect(page.get_by_text("Takes awaiting review")).to_be_visible(timeout=15_000)


def open_take(page, number: int, frames: int = FRAMES) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name=f"Open take {number}", exact=True).click()
    expect(page.get_by_text(f"frame 0 / {frames}")).to_be_visible()


def decoded(image) -> np.ndarray:
    """The picture an <img> shows, decoded from its PNG data URL."""
    source = image.get_attribute("src")
    assert source.startswith("data:image/png;base64,")
    data = base64.b64decode(source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


# Wait until the browser player is settled on a frame (no seek pending, not playing), then
# draw its <video> into a canvas: [frame, width, height, RGBA bytes].
SHOWN_PICTURE = """async (box, [expected, timeout]) => {
  const end = performance.now() + timeout;
  const done = () => box.dataset.state === "settled" &&
    (expected === null || Number(box.dataset.frame) === expected);
  while (!done()) {
    if (performance.now() > end) return null;
    await new Promise((ok) => requestAnimationFrame(ok));
  }
  // the picture on screen: the still a paused step drew from frames decoded in the page,
  // or the <video>
  const still = box.querySelector(".vp-still");
  const picture = still && !still.hidden ? still : box.querySelector("video.vp-video");
  const canvas = document.createElement("canvas");
  canvas.width = picture.videoWidth || picture.width;
  canvas.height = picture.videoHeight || picture.height;
  const g = canvas.getContext("2d");
  g.drawImage(picture, 0, 0);
  const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
  return [Number(box.dataset.frame), canvas.width, canvas.height, Array.from(data)];
}"""


def shown_frame(page, expected: int) -> np.ndarray:
    """The picture the browser player shows once it is settled on frame `expected`, read
    back from the picture on screen through a canvas."""
    found = page.locator(".vp-box").evaluate(SHOWN_PICTURE, [expected, 15_000])
    if found is None:
        pytest.fail(f"the player did not settle on frame {expected}")
    _, width, height, data = found
    return np.array(data, dtype=np.uint8).reshape(height, width, 4)[:, :, :3]


def frame_on_screen(page) -> int:
    return int(page.locator(".vp-box").get_attribute("data-frame"))


def settled_frame(page) -> int:
    """The frame the browser player settles on (after a pause)."""
    found = page.locator(".vp-box").evaluate(SHOWN_PICTURE, [None, 15_000])
    if found is None:
        pytest.fail("the player did not settle")
    return found[0]


def poll(condition, timeout: float = 10, what: str = "condition") -> None:
    """Wait until `condition()` holds, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.05)


def reviews_of(studio: Studio, number: int) -> list[tuple[str, str]]:
    with connect(studio.db_url) as conn:
        return conn.execute(
            "SELECT r.decision, u.username FROM reviews r JOIN users u ON u.id = r.reviewer_id "
            "WHERE r.scene_id = %s ORDER BY r.id",
            (studio.takes[number],),
        ).fetchall()


def test_reviewer_steps_frames_by_keyboard_and_approves_requesting_delivery(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    expect(page.get_by_role("button", name="Open take 3", exact=True)).to_be_visible()
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
    page.get_by_role("button", name="+1", exact=True).click()  # the player's own button
    assert index_of(shown_frame(page, 6)) == 6
    page.keyboard.press("ArrowLeft")  # the player's own keys: ← one back
    assert index_of(shown_frame(page, 5)) == 5
    page.keyboard.press("ArrowRight")
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
    # a second `a` is the same approval: nothing more is stored
    page.keyboard.press("a")
    expect(page.get_by_text("already approved by rita")).to_be_visible()
    assert reviews_of(studio, 1) == [("approved", "rita")]

    # taken back within the window: the take is waiting for review again
    page.get_by_role("button", name=re.compile(r"^Undo \(\d+ s\)$")).click()
    expect(page.get_by_text("decision undone — back in the queue for review")).to_be_visible()
    assert reviews_of(studio, 1) == []
    page.get_by_role("button", name="Back to queue").click()
    expect(page.get_by_role("button", name="Open take 1", exact=True)).to_be_visible()
    with connect(studio.db_url) as conn:
        audited = conn.execute(
            "SELECT actor, action FROM audit_log WHERE table_name = 'reviews' AND row_key = %s "
            "ORDER BY id",
            (str(reviews[0][0]),),
        ).fetchall()
    assert audited == [("user:rita", "INSERT"), ("user:rita", "DELETE")]


def test_a_typed_frame_and_play_show_the_frame_at_the_index_and_stop_at_the_end(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    open_take(page, 7)
    goto = page.locator(".vp-goto")
    goto.fill("7")  # a frame number (or a timecode)
    goto.press("Enter")
    expect(page.get_by_text(f"frame 7 / {FRAMES}")).to_be_visible()
    assert index_of(shown_frame(page, 7)) == 7
    expect(page.get_by_role("button", name="Note at frame 7")).to_be_visible()
    goto.fill("00:00:01:00")  # frame 12, past the last: said, nothing moves
    goto.press("Enter")
    expect(page.get_by_text(f"the take has frames 0–{FRAMES - 1}")).to_be_visible()

    # Played from frame 7, the take stops by itself at its last frame.
    page.get_by_role("button", name="Play", exact=True).click()
    last = FRAMES - 1
    assert index_of(shown_frame(page, last)) == last
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    expect(page.get_by_text(f"frame {last} / {FRAMES}")).to_be_visible()
    expect(page.get_by_role("button", name=f"Note at frame {last}")).to_be_visible()


def test_a_viewer_sees_decisions_disabled_and_a_key_press_is_refused(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "vic")
    expect(page.get_by_role("button", name="Approve selected")).to_be_disabled()
    open_take(page, 2)
    for name in ("Approve (a)", "Reject (r)", "Flag (f)", "Reject segment…"):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    expect(page.get_by_role("button", name="Note at frame 0")).to_be_disabled()
    # the service still decides: a key press reaching it is refused
    page.keyboard.press("a")
    expect(page.get_by_text("not allowed")).to_be_visible()
    with connect(studio.db_url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM reviews WHERE scene_id = %s", (studio.takes[2],)
        ).fetchone()[0]
    assert count == 0


def test_note_at_a_frame_is_replied_to_and_resolved_by_a_second_logged_in_user(studio, new_page):
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
    note = reader.locator(".review-note", has_text=body)
    expect(note).to_contain_text("rita")
    expect(note).to_contain_text("open")
    note.get_by_role("button", name="frame 3").click()  # the player jumps to the note's frame
    expect(reader.get_by_text(f"frame 3 / {FRAMES}")).to_be_visible()
    assert index_of(shown_frame(reader, 3)) == 3

    answer = "agreed: regenerate segment 0"
    note.get_by_role("button", name="Reply").click()
    expect(reader.get_by_text("Reply to rita's note at frame 3")).to_be_visible()
    reader.get_by_placeholder("Your reply").fill(answer)
    reader.get_by_role("button", name="Send reply").click()
    expect(reader.get_by_text("reply added to rita's note")).to_be_visible()
    reply = reader.locator(".review-note", has_text=answer)
    expect(reply).to_contain_text("paul")
    expect(reply).to_have_class(re.compile(r"note-depth-1"))
    reader.locator(".review-note", has_text=body).get_by_role("button", name="Resolve").click()
    expect(reader.get_by_text("note resolved")).to_be_visible()
    expect(reader.locator(".review-note", has_text=body)).to_contain_text("resolved")
    resolved = reader.locator(".review-note", has_text=body)
    expect(resolved.get_by_role("button", name="Reopen")).to_be_visible()

    writer.get_by_role("button", name="Refresh notes").click()
    expect(writer.locator(".review-note", has_text=body)).to_contain_text("resolved")
    expect(writer.locator(".review-note", has_text=answer)).to_contain_text("paul")
    with connect(studio.db_url) as conn:
        notes = conn.execute(
            "SELECT n.id, n.parent_id, n.status, n.frame, u.username FROM notes n "
            "JOIN users u ON u.id = n.author_id WHERE n.scene_id = %s ORDER BY n.id",
            (studio.takes[3],),
        ).fetchall()
        resolved_by = conn.execute(
            "SELECT actor FROM audit_log WHERE table_name = 'notes' AND action = 'UPDATE' "
            "AND row_key = %s",
            (str(notes[0][0]),),
        ).fetchall()
    (first, parent, status, frame, author), (_, reply_parent, reply_status, _, replier) = notes
    assert (parent, status, frame, author) == (None, "resolved", 3, "rita")
    assert (reply_parent, reply_status, replier) == (first, "open", "paul")
    assert resolved_by == [("user:paul",)]
    assert reviews_of(studio, 3) == []

    # paul's reply is still open: approving asks first, and approves once confirmed
    writer.get_by_role("button", name="Approve (a)").click()
    expect(writer.get_by_text("1 open note")).to_be_visible()
    assert reviews_of(studio, 3) == []
    writer.get_by_role("button", name="Approve anyway").click()
    expect(writer.get_by_text("approved — delivery requested")).to_be_visible()
    assert reviews_of(studio, 3) == [("approved", "rita")]


def test_batch_approve_of_two_selected_takes_writes_two_approved_reviews(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    for number in (4, 5):
        page.locator(f".select-take-{number} input[type=checkbox]").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_text("2 takes approved")).to_be_visible()
    expect(page.get_by_role("button", name="Open take 4", exact=True)).to_have_count(0)
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


def test_a_users_remapped_approve_key_approves_and_the_old_key_does_not(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "nina")
    open_take(page, 10)
    expect(page.get_by_role("button", name="Approve (k)")).to_be_visible()
    expect(page.locator('.shortcut-legend kbd[data-action="approve"]')).to_have_text("k")
    page.keyboard.press("a")
    page.keyboard.press(".")  # handled after the "a": once frame 1 shows, "a" was handled
    assert index_of(shown_frame(page, 1)) == 1
    assert reviews_of(studio, 10) == []
    page.keyboard.press("k")
    expect(page.get_by_text("approved — delivery requested")).to_be_visible()
    assert reviews_of(studio, 10) == [("approved", "nina")]


def test_onion_skin_blends_the_previous_frame_and_zoom_enlarges_the_chosen_region(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "rita")
    open_take(page, 8)
    for _ in range(5):
        page.keyboard.press(".")
    current = shown_frame(page, 5)
    video = studio.home / "take8.mp4"
    earlier, now = frame_at(video, 4), frame_at(video, 5)

    page.locator(".studio-more").get_by_role("button", name="More").click()  # the aids
    page.locator(".review-onion select").select_option("previous")
    image = page.locator("img.review-aid-image")  # composed on the server while on
    expect(image).to_have_attribute("data-onion", "4")
    blended = decoded(image)
    grey = blended[SIDE - 8, 8].astype(int)  # the grey bottom-left, away from the green
    assert (grey > grey_of(4) + 5).all() and (grey < grey_of(5) - 5).all()
    expected = np.rint(0.5 * now.astype(float) + 0.5 * earlier.astype(float)).astype(np.uint8)
    assert np.array_equal(blended, expected)
    assert not np.array_equal(blended, now)
    assert index_of(current[SIDE // 2 :, : SIDE // 2]) == 5  # the player shows frame 5 itself

    page.locator(".review-onion select").select_option("off")
    expect(image).to_have_count(0)
    page.locator(".review-zoom-region select").select_option("top-right")
    zoomed = page.locator("img.review-zoom-image")
    expect(zoomed).to_have_attribute("data-region", "top-right")
    enlarged = decoded(zoomed)
    assert enlarged.shape == now.shape  # a quarter of the frame, twice as large each way
    quadrant = now[: SIDE // 2, SIDE // 2 :]
    assert np.array_equal(enlarged, quadrant.repeat(2, axis=0).repeat(2, axis=1))
    red, green, blue = enlarged[8:-8, 8:-8].reshape(-1, 3).mean(axis=0)
    assert green > 150 and red < 40 and blue < 40  # all green: the chosen corner
    page.locator(".review-zoom-region select").select_option("bottom-left")
    expect(zoomed).to_have_attribute("data-region", "bottom-left")
    assert index_of(decoded(zoomed)) == 5  # all grey of frame 5: no green corner in it


def no_sideways_scrolling(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def fits_across(page, locator) -> bool:
    """Whether `locator` is on screen from its left edge to its right edge."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


@pytest.mark.parametrize(
    ("viewport", "number"), [(TABLET, 11), (PHONE, 12)], ids=["tablet", "phone"]
)
def test_tablet_and_phone_layouts_do_not_scroll_sideways_and_approve_by_tap(
    studio, new_page, viewport, number
):
    from playwright.sync_api import expect

    page = new_page(viewport, touch=True)
    page.goto(studio.base_url)
    expect(page.get_by_placeholder("Username")).to_be_visible()
    assert no_sideways_scrolling(page)
    log_in(page, studio, "rita")
    assert no_sideways_scrolling(page)
    open_take(page, number)
    image = page.locator("video.vp-video:not(.vp-compare)")
    expect(image).to_be_visible()
    approve = page.get_by_role("button", name="Approve (a)")
    expect(approve).to_be_visible()
    assert fits_across(page, image) and fits_across(page, approve)
    assert no_sideways_scrolling(page)
    for name in ("Approve (a)", "Reject (r)", "Flag (f)", "Reject segment…"):
        assert page.get_by_role("button", name=name).bounding_box()["height"] >= 44  # a finger's
    if viewport is TABLET:
        page.screenshot(path=str(SCREENSHOTS / "review-tablet.png"), full_page=True)
    approve.tap()
    expect(page.get_by_text("approved — delivery requested")).to_be_visible()
    assert reviews_of(studio, number) == [("approved", "rita")]
    undo = page.get_by_role("button", name=re.compile(r"^Undo \(\d+ s\)$"))
    assert undo.bounding_box()["height"] >= 44


def test_a_producer_assigns_a_ticked_take_and_its_row_shows_the_assignee(studio, new_page):
    from playwright.sync_api import expect

    page = new_page()
    log_in(page, studio, "paul")
    page.locator(".select-take-7 input[type=checkbox]").check()
    page.locator(".queue-assign-to select").select_option("rita")
    page.get_by_role("button", name="Assign selected").click()
    expect(page.get_by_text("take assigned to rita")).to_be_visible()
    expect(page.locator(".queue-take-7 .queue-assignee")).to_have_text("rita")
    expect(page.locator(".queue-take-8 .queue-assignee")).to_have_text("unassigned")
    thumbnail = page.locator(".queue-take-7 .queue-thumbnail img")
    expect(thumbnail).to_have_count(1)  # served by the signed media route, and decoded:
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 240", arg=thumbnail.element_handle()
    )


def swipe(page, start: tuple[float, float], end: tuple[float, float], moves: int = 8) -> None:
    """One finger from `start` to `end` (viewport pixels), through chromium's touch input:
    the pointer events of pointerType "touch" a tablet sends, under the page's touch-action."""
    cdp = page.context.new_cdp_session(page)
    try:
        (x0, y0), (x1, y1) = start, end
        touch = "Input.dispatchTouchEvent"
        cdp.send(touch, {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
        for n in range(1, moves + 1):
            point = {"x": x0 + (x1 - x0) * n / moves, "y": y0 + (y1 - y0) * n / moves}
            cdp.send(touch, {"type": "touchMove", "touchPoints": [point]})
        cdp.send(touch, {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


def test_on_a_tablet_a_swipe_steps_frames_a_tap_plays_and_pauses_and_a_finger_draws(
    studio, new_page
):
    from playwright.sync_api import expect

    page = new_page(TABLET, touch=True)
    log_in(page, studio, "rita")
    open_take(page, 9, LONG_FRAMES)
    player = page.locator(".vp-box")
    stage = page.locator(".vp-stage")
    stage.scroll_into_view_if_needed()
    area = stage.bounding_box()
    left, middle = area["x"] + area["width"] * 0.3, area["y"] + area["height"] / 2

    def shows(frame: int) -> None:
        expect(player).to_have_attribute("data-frame", str(frame))
        expect(page.get_by_text(f"frame {frame} / {LONG_FRAMES}")).to_be_visible()
        assert two_digit_index(shown_frame(page, frame)) == frame

    swipe(page, (left, middle), (left + 100, middle))  # 24 px a frame: four forward
    shows(4)
    swipe(page, (left, middle), (left - 15, middle))  # a short swipe back: one frame
    shows(3)
    top = page.evaluate("window.scrollY")
    swipe(page, (left, middle), (left + 2, middle - 120))  # up: the page scrolls, no step
    poll(lambda: page.evaluate("window.scrollY") > top, what="the page scrolling up")
    area = stage.bounding_box()
    middle = area["y"] + area["height"] / 2
    swipe(page, (left, middle), (left + 15, middle))
    shows(4)
    assert no_sideways_scrolling(page)
    assert page.evaluate("window.scrollX") == 0

    page.touchscreen.tap(left, middle)
    expect(player).to_have_attribute("data-state", "playing")
    page.wait_for_function("box => Number(box.dataset.frame) > 6", arg=player.element_handle())
    page.touchscreen.tap(left, middle)
    paused = settled_frame(page)
    assert 6 < paused < LONG_FRAMES - 1  # paused by the tap, well before the end
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    shows(paused)
    expect(page.get_by_role("button", name=f"Note at frame {paused}")).to_be_visible()

    # A drawing tool takes the finger: the swipe draws a stroke and steps nothing.
    ink = page.locator(".vp-ink")
    page.locator(".review-tool").get_by_role("button", name="pen", exact=True).tap()
    expect(ink).to_have_attribute("data-tool", "pen")
    area = ink.bounding_box()  # the tap on the tool may have scrolled the page
    left, middle = area["x"] + area["width"] * 0.3, area["y"] + area["height"] / 2
    swipe(page, (left, middle), (left + 150, middle + 40))
    expect(ink).to_have_attribute("data-shapes", "1")
    assert frame_on_screen(page) == paused
    assert page.evaluate("window.scrollX") == 0


def sensitive_take_with_sound(studio: Studio, number: int) -> None:
    """Take `number`, of eve (a character rated sensitive) in walk, with a tone on its
    sound track, added to the studio's catalog and storage."""
    video = studio.home / f"take{number}.mp4"
    with H264Writer(video, FPS, SIDE, SIDE, gop=4, audio_rate=48_000) as writer:
        for index in range(FRAMES):
            writer.write(grey_frame(index))
        samples = np.arange(48_000 * FRAMES // FPS)
        tone = (0.4 * np.sin(2 * np.pi * 440 * samples / 48_000)).astype(np.float32)
        sound = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="fltp", layout="mono")
        sound.sample_rate = 48_000
        writer.write_audio(sound)
        writer.close()
    storage = Storage((studio.home / "storage").as_uri())
    stored = storage.put_file(f"scenes/demo/eve/walk/take{number}.mp4", video)
    with connect(studio.db_url, actor="tester") as conn:
        eve = conn.execute(
            "INSERT INTO characters (slug, name) VALUES ('eve', 'Eve') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO project_characters (project_id, character_id) "
            "SELECT id, %s FROM projects WHERE slug = 'demo'",
            (eve,),
        )
        rate(conn, Operator("cli:ana"), "character", "eve", "sensitive")
        scene = make_take(conn, take=number)
        conn.execute(
            "UPDATE scenes SET character_id = %s, uri = %s, sha256 = %s, frames = %s WHERE id = %s",
            (eve, stored.uri, stored.sha256, FRAMES, scene),
        )
        studio.takes[number] = scene


def test_a_sensitive_take_is_blurred_until_revealed_its_sound_toggles_and_cinema_fills_the_screen(
    studio, new_page
):
    from playwright.sync_api import expect

    sensitive_take_with_sound(studio, 13)
    page = new_page()
    log_in(page, studio, "rita")  # rita blurs sensitive media (everyone's default)
    open_take(page, 13)
    stage, video = page.locator(".vp-stage"), page.locator("video.vp-video:not(.vp-compare)")
    reveal = page.get_by_role("button", name="Reveal")
    expect(stage).to_have_class(re.compile(r"\bvp-blurred\b"))
    expect(reveal).to_be_visible()
    assert "blur(" in video.evaluate("v => getComputedStyle(v).filter")
    reveal.click()
    expect(stage).not_to_have_class(re.compile(r"\bvp-blurred\b"))
    expect(reveal).to_be_hidden()
    assert video.evaluate("v => getComputedStyle(v).filter") == "none"
    page.keyboard.press("ArrowRight")  # revealed for this take: a step keeps it shown
    assert index_of(shown_frame(page, 1)) == 1
    expect(stage).not_to_have_class(re.compile(r"\bvp-blurred\b"))

    # The take has sound: the toggle shows, and turns the <video>'s sound on and off.
    mute = page.locator(".vp-mute")
    expect(mute).to_have_text("Muted")
    assert video.evaluate("v => v.muted") is True
    mute.click()
    expect(mute).to_have_text("Sound")
    assert video.evaluate("v => v.muted") is False
    page.keyboard.press("m")
    expect(mute).to_have_text("Muted")
    assert video.evaluate("v => v.muted") is True

    # Cinema mode: the player's box is the full-screen element (in its shadow root; the
    # document sees the component's host); Shift+F enters it, the Cinema button leaves it.
    full_screen = "box => box.getRootNode().fullscreenElement === box"
    player = page.locator(".vp-box")
    page.keyboard.press("Shift+F")
    page.wait_for_function(full_screen, arg=player.element_handle())
    assert page.evaluate("document.fullscreenElement !== null")
    page.get_by_role("button", name="Cinema").click()
    page.wait_for_function("() => document.fullscreenElement === null")
    page.get_by_role("button", name="Cinema").click()  # and enters it again
    page.wait_for_function(full_screen, arg=player.element_handle())
    assert index_of(shown_frame(page, 1)) == 1  # the same frame, full screen
