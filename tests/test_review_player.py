"""The review player's acceptance test in a real browser: a take whose frames carry their
own number in pixels (16 black/white blocks, a binary code), through the real proxy path
(`make_proxy`, frame times beside it, the media route); after each of 500 seeded random
operations (step ±1/±10, scrub, play-then-pause, seek by typed timecode) the number read
back from the <video>'s pixels, the player's label, the component's `frame` (the server's
"Note at frame N") and, every twentieth operation, a note saved there are the same frame.
Also: the browser prints the same timecodes as `trulience.review.timecode`, drawing on a
frame keeps Drawing JSON, and a sensitive take is blurred until revealed.
"""

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, page_logged_in, served
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.delivery.package import make_proxy
from trulience.media.encode import encode_frames
from trulience.review.timecode import to_timecode
from trulience.storage import Storage

pytestmark = pytest.mark.browser

BITS = 16
BLOCK = 24  # each block 24 px wide: H.264 keeps black and white apart
WIDTH, HEIGHT = BITS * BLOCK, 96
FPS = 24
FRAMES = 360  # fifteen seconds
OPERATIONS = 500
PASSWORD = "s3cret-pass"
SEED = 14
NOTE_EVERY = 20  # a note saved at the frame shown every NOTE_EVERY operations


def numbered_frame(index: int) -> np.ndarray:
    """Frame `index` with its number in binary: block b is white when bit b is set."""
    picture = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    for bit in range(BITS):
        if index >> bit & 1:
            picture[:, bit * BLOCK : (bit + 1) * BLOCK] = 255
    picture[HEIGHT - 8 :, :] = 128  # a grey band: the picture is never all black
    return picture


# Draw the picture on screen (the <video>, or the still a step drew from frames decoded in
# the page) into a canvas at its own size and read the blocks' centres back.
READ_NUMBER = f"""(box) => {{
  const still = box.querySelector(".vp-still");
  const picture = still && !still.hidden ? still : box.querySelector("video.vp-video");
  const width = picture.videoWidth || picture.width, height = picture.videoHeight || picture.height;
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = height;
  const g = canvas.getContext("2d", {{ willReadFrequently: true }});
  g.drawImage(picture, 0, 0);
  const block = width / {BITS};
  let n = 0;
  for (let bit = 0; bit < {BITS}; bit++) {{
    const [r] = g.getImageData(Math.floor((bit + 0.5) * block), 30, 1, 1).data;
    if (r > 128) n |= 1 << bit;
  }}
  return n;
}}"""


@dataclass
class Room:
    base_url: str
    db_url: str
    scene_id: int


@pytest.fixture(scope="module")
def room(server_url, template_url, tmp_path_factory) -> Iterator[Room]:
    """One reviewer and one assembled take of numbered frames with its proxy, served."""
    home = tmp_path_factory.mktemp("player")
    storage = Storage((home / "storage").as_uri())
    db_url = new_database(server_url)
    scene = home / "scene.mp4"
    encode_frames((numbered_frame(i) for i in range(FRAMES)), scene, FPS, gop=12)
    make_proxy(scene, home / "proxy.mp4")
    folder = "scenes/demo/ada/walk/take1"
    stored = storage.put_file(f"{folder}/scene.mp4", scene)
    storage.put_file(f"{folder}/proxy.mp4", home / "proxy.mp4")
    with connect(db_url, actor="tester") as conn:
        accounts.create_user(conn, "rita", "Rita", "reviewer", PASSWORD)
        make_project(conn)
        scene_id = make_take(conn, take=1)
        conn.execute(
            "UPDATE scenes SET uri = %s, sha256 = %s, frames = %s WHERE id = %s",
            (stored.uri, stored.sha256, FRAMES, scene_id),
        )
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home), "STORAGE_URL": storage.url}
    try:
        with served("review", env, home / "panel.log") as url:
            yield Room(url, db_url, scene_id)
    finally:
        drop_database(server_url, db_url)


@pytest.fixture(scope="module")
def page(room, browser):
    """Rita's page with the take open at frame 0, on a wide screen."""
    from playwright.sync_api import expect

    page = page_logged_in(browser, room.base_url, "rita", PASSWORD, width=1440)
    page.get_by_role("button", name="Open take 1", exact=True).click()
    expect(page.get_by_text(f"frame 0 / {FRAMES}")).to_be_visible()
    settled(page, 0)
    page.screenshot(path=str(SCREENSHOTS / "review-player-wide.png"))
    yield page
    page.context.close()


def settled(page, expected: int | None = None, timeout_ms: int = 10_000) -> tuple[int, int, str]:
    """Wait (in the browser) until the player shows a frame with no seek pending, frame
    `expected` if given; then (the number in the picture, the player's frame, its label)."""
    found = page.locator(".vp-box").evaluate(
        f"""async (b, [expected, timeout]) => {{
          const end = performance.now() + timeout;
          const done = () => b.dataset.state === "settled" &&
            (expected === null || Number(b.dataset.frame) === expected);
          while (!done()) {{
            if (performance.now() > end) return null;
            await new Promise((ok) => requestAnimationFrame(ok));
          }}
          return [({READ_NUMBER})(b), Number(b.dataset.frame),
                  b.querySelector('.vp-label').textContent];
        }}""",
        [expected, timeout_ms],
    )
    if found is None:
        pytest.fail(f"the player did not settle on frame {expected} within {timeout_ms} ms")
    return tuple(found)


# Whether a button anywhere in the page (Panel renders in shadow roots) reads `text`.
BUTTON_READS = """(text) => {
  const search = (root) => {
    for (const node of root.querySelectorAll("*")) {
      if (node.tagName === "BUTTON" && node.textContent.trim() === text) return true;
      if (node.shadowRoot && search(node.shadowRoot)) return true;
    }
    return false;
  };
  return search(document);
}"""


def server_says(page, text: str) -> None:
    """Wait until the server's state shows in the page as a button reading `text`."""
    page.wait_for_function(BUTTON_READS, arg=text, polling="raf", timeout=10_000)


def find_box(page):
    return page.locator(".vp-box")


def test_the_browser_prints_the_same_timecodes_as_the_studio(page):
    box = find_box(page)
    cases = [(f, 30000 / 1001, True) for f in (0, 1799, 1800, 1801, 17981, 17982, 17983, 19782)]
    cases += [(f, 60000 / 1001, True) for f in (3599, 3600, 35964)]
    cases += [(f, 24, False) for f in (0, 23, 24, 86399, 1001)]
    printed = box.evaluate(
        "(b, cases) => cases.map(([f, fps, drop]) => b.player.timecode(f, fps, drop))", cases
    )
    assert printed == [to_timecode(f, fps, drop_frame=drop) for f, fps, drop in cases]


def test_500_random_operations_show_the_same_frame_in_picture_label_state_and_note(room, page):
    from playwright.sync_api import expect

    rng = random.Random(SEED)
    scrubber = page.locator(".vp-scrubber")
    goto = page.locator(".vp-goto")
    note_button = page.get_by_role("button", name="Note at frame")
    expected, mismatches, notes = 0, [], []
    started = time.monotonic()
    for n in range(OPERATIONS):
        kind = rng.choice(["step", "step", "scrub", "play", "timecode"])
        if kind == "step":
            delta = rng.choice([-10, -1, 1, 10])
            key = ("Shift+" if abs(delta) == 10 else "") + (
                "ArrowRight" if delta > 0 else "ArrowLeft"
            )
            page.keyboard.press(key)
            expected = min(max(expected + delta, 0), FRAMES - 1)
        elif kind == "scrub":
            expected = rng.randrange(FRAMES)
            area = scrubber.bounding_box()
            x = area["x"] + (expected + 0.5) / FRAMES * area["width"]
            page.mouse.click(x, area["y"] + area["height"] / 2)
        elif kind == "timecode":
            expected = rng.randrange(FRAMES)
            goto.fill(to_timecode(expected, FPS))
            goto.press("Enter")
        else:
            if expected >= FRAMES - 12:  # room to play
                expected = rng.randrange(FRAMES // 2)
                goto.fill(str(expected))
                goto.press("Enter")
                settled(page, expected)
            page.keyboard.press("l")
            page.wait_for_timeout(rng.randint(40, 240))
            page.keyboard.press("k")
            expected = None
        number, frame, label = settled(page, expected)
        # the server's state follows the browser: the note button names the same frame
        server_says(page, f"Note at frame {frame}")
        if not (number == frame and label == f"frame {frame} / {FRAMES}"):
            mismatches.append((n, kind, expected, number, frame, label))
        expected = frame
        if n % NOTE_EVERY == 0:
            body = f"check {n}"
            field = page.get_by_placeholder("What needs fixing here?")
            field.fill(body)
            field.press("Enter")  # the field's value reaches the server before the click
            note_button.click()
            expect(page.get_by_text(f"note added at frame {frame}")).to_be_visible()
            notes.append((body, frame))
    elapsed = time.monotonic() - started
    print(f"{OPERATIONS} operations in {elapsed:.1f} s")
    assert mismatches == []
    with connect(room.db_url) as conn:
        saved = conn.execute(
            "SELECT body, frame FROM notes WHERE scene_id = %s AND body LIKE 'check %%' "
            "ORDER BY id",
            (room.scene_id,),
        ).fetchall()
    assert saved == notes


def test_a_rectangle_and_a_text_drawn_on_a_frame_stay_with_that_frame(page):
    from playwright.sync_api import expect

    ink = page.locator(".vp-ink")
    tools = page.locator(".review-tool")
    tools.get_by_role("button", name="rect", exact=True).click()
    expect(ink).to_have_attribute("data-tool", "rect")  # the server set the player's tool
    frame = settled(page)[1]
    area = ink.bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.2, area["y"] + area["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.7, steps=4)
    page.mouse.up()
    tools.get_by_role("button", name="text", exact=True).click()
    expect(ink).to_have_attribute("data-tool", "text")
    page.mouse.click(area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.5)
    page.locator(".vp-text-field").fill("hand")
    page.locator(".vp-text-field").press("Enter")
    expect(ink).to_have_attribute("data-shapes", "2")
    assert ink.get_attribute("data-frame") == str(frame)
    page.screenshot(path=str(SCREENSHOTS / "review-player-drawing.png"))
    tools.get_by_role("button", name="none", exact=True).click()
    expect(ink).to_have_attribute("data-tool", "none")
    page.keyboard.press("ArrowRight" if frame == 0 else "ArrowLeft")  # another frame
    other = frame + 1 if frame == 0 else frame - 1
    settled(page, other)
    assert ink.evaluate("i => i.dataset.shapes") == "0"  # not shown on another frame
    # the server dropped the unsaved drawing when the frame changed: back there, none shows
    server_says(page, f"Note at frame {other}")
    page.keyboard.press("ArrowLeft" if frame == 0 else "ArrowRight")
    settled(page, frame)
    server_says(page, f"Note at frame {frame}")
    assert ink.evaluate("i => i.dataset.shapes") == "0"


def test_steps_while_paused_are_drawn_from_frames_decoded_in_the_page(page):
    # The proxy's packet index reaches the browser, so a paused step shows the frame the
    # page decoded itself (the still over the video), named by that frame's own timestamp.
    goto = page.locator(".vp-goto")
    goto.fill("20")
    goto.press("Enter")
    settled(page, 20)
    still = page.locator(".vp-still")
    steps = [("ArrowRight", 21), ("ArrowRight", 22), ("ArrowLeft", 21)]
    steps += [("Shift+ArrowRight", 31), ("Shift+ArrowLeft", 21)]  # into the next GOP and back
    for key, expected in steps:
        page.keyboard.press(key)
        number, frame, label = settled(page, expected)
        assert (number, frame, label) == (expected, expected, f"frame {expected} / {FRAMES}")
        assert still.is_visible() and still.get_attribute("data-frame") == str(expected)
    for _ in range(15):  # held down: presses faster than any seek, none lost
        page.keyboard.press("ArrowRight")
    assert settled(page, 36)[:2] == (36, 36)
    page.keyboard.press("l")  # play: the video is the picture again
    page.wait_for_timeout(200)
    page.keyboard.press("k")
    number, frame, _ = settled(page)
    assert number == frame and frame > 36
    assert not still.is_visible()
