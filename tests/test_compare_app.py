"""The compare app in a real browser: attempts of a segment, and two whole takes, played
compared with their QA verdicts and its change, and one scene type across characters in a
grid of real videos played, paused, stepped and sought in sync, frame-accurately (each cell's
frame read from its pixels), also with the logged-in user's own keys."""

import base64
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest
from PIL import Image

from tests.conftest import drop_database, new_database
from tests.panel_apps import SCREENSHOTS, page_logged_in, served
from tests.review_takes import make_project, make_take
from tests.test_review_app import PASSWORD, grey_of, index_of
from trulience.auth import users as accounts
from trulience.catalog import ratings
from trulience.catalog.database import connect
from trulience.media.encode import encode_frames
from trulience.review.shortcuts import set_shortcuts
from trulience.storage import Storage

pytestmark = pytest.mark.browser

FRAMES = 12
BEA_FRAMES = 9  # Bea's take is shorter: past its end, its cell holds its last frame
ATTEMPT = 8  # frames of each attempt's clip at segment 0
FAILED_QA = {
    "passed": False,
    "failed": ["black"],
    "gates": [
        {
            "name": "black",
            "passed": False,
            "value": 0.9,
            "threshold": 0.5,
            "message": "mostly black frames",
        },
        {"name": "frame_count", "passed": True, "value": 4, "threshold": 4, "message": "ok"},
    ],
    "metrics": {"identity_median": 0.61},
}
PASSED_QA = {
    "passed": True,
    "failed": [],
    "gates": [
        {"name": "black", "passed": True, "value": 0.0, "threshold": 0.5, "message": "ok"},
        {"name": "frame_count", "passed": True, "value": 4, "threshold": 4, "message": "ok"},
    ],
    "metrics": {"identity_median": 0.82},
}


@dataclass
class Studio:
    base_url: str
    db_url: str


def store_clip(storage: Storage, home: Path, key: str, first: int, count: int):
    """A real H.264 clip whose frame i is painted grey_of(first + i), stored under `key`."""
    video = home / key.replace("/", "_")
    frames = (np.full((64, 64, 3), grey_of(first + i), dtype=np.uint8) for i in range(count))
    encode_frames(frames, video, 12, gop=4)
    return storage.put_file(key, video)


def character_take(conn: psycopg.Connection, slug: str, take: int, age_minutes: int) -> int:
    """An assembled take of character `slug` in 'walk' (adding the character if new)."""
    conn.execute(
        "INSERT INTO characters (slug, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (slug, slug.title()),
    )
    conn.execute(
        """INSERT INTO project_characters (project_id, character_id)
           SELECT p.id, c.id FROM projects p, characters c WHERE p.slug = 'demo' AND c.slug = %s
           ON CONFLICT DO NOTHING""",
        (slug,),
    )
    return conn.execute(
        """INSERT INTO scenes (project_id, character_id, scene_type_id, scene_type_version_id,
                               take, status, created_at)
           SELECT p.id, c.id, st.id, v.id, %s, 'assembled', now() - make_interval(mins => %s)
             FROM projects p, characters c, scene_types st
             JOIN scene_type_versions v ON v.scene_type_id = st.id AND v.version = 1
            WHERE p.slug = 'demo' AND c.slug = %s AND st.slug = 'walk'
           RETURNING id""",
        (take, age_minutes, slug),
    ).fetchone()[0]


def attach(conn: psycopg.Connection, scene: int, stored, frames: int) -> None:
    conn.execute(
        "UPDATE scenes SET uri = %s, sha256 = %s, frames = %s WHERE id = %s",
        (stored.uri, stored.sha256, frames, scene),
    )


def add_attempt(conn: psycopg.Connection, scene: int, index: int, attempt: int, **how) -> None:
    """A committed attempt at segment `index` (`clip` its stored video, or none)."""
    clip = how.get("clip")
    conn.execute(
        """INSERT INTO segments (scene_id, index, attempt, status, uri, sha256, frames, qa,
                                 current)
           VALUES (%s, %s, %s, %s, %s, %s, 4, %s, %s)""",
        (
            scene,
            index,
            attempt,
            how["status"],
            clip and clip.uri,
            clip and clip.sha256,
            psycopg.types.json.Jsonb(how.get("qa", {})),
            how.get("current", False),
        ),
    )


def seed(conn: psycopg.Connection, storage: Storage, home: Path) -> dict[str, int]:
    """Viewers vic and lefty (left-hand keys); Ada's old and new take and Bea's shorter take
    of 'walk'; segment 0 of Ada's old take has a failed and a passing (current) attempt, that
    of Bea's take one failed attempt. Returns the takes' scene ids by name (old, new, bea)."""
    accounts.create_user(conn, "vic", "Vic", "viewer", PASSWORD)
    accounts.create_user(conn, "lefty", "Lefty", "viewer", PASSWORD)
    set_shortcuts(conn, "lefty", preset="left_hand")
    make_project(conn)
    old = make_take(conn, take=1, age_minutes=30)
    # The old take's video starts at frame 6: the grid must not show it.
    attach(conn, old, store_clip(storage, home, "scenes/ada/walk/take1.mp4", 6, 6), 6)
    for attempt, first, status, qa in [
        (1, 0, "qa_failed", FAILED_QA),
        (2, 3, "qa_passed", PASSED_QA),
    ]:
        clip = store_clip(storage, home, f"segments/ada/walk/1/0-{attempt}.mp4", first, ATTEMPT)
        add_attempt(conn, old, 0, attempt, status=status, qa=qa, clip=clip, current=attempt == 2)
    new = make_take(conn, take=2, age_minutes=10)
    attach(conn, new, store_clip(storage, home, "scenes/ada/walk/take2.mp4", 0, FRAMES), FRAMES)
    bea = character_take(conn, "bea", 1, 20)
    clip = store_clip(storage, home, "scenes/bea/walk/take1.mp4", 0, BEA_FRAMES)
    attach(conn, bea, clip, BEA_FRAMES)
    add_attempt(conn, bea, 0, 1, status="qa_failed", qa=FAILED_QA, clip=clip, current=True)
    return {"old": old, "new": new, "bea": bea}


@pytest.fixture(scope="module")
def studio(server_url, template_url, tmp_path_factory) -> Iterator[Studio]:
    """The compare app served over `seed`'s takes."""
    home = tmp_path_factory.mktemp("home")
    storage = Storage((home / "storage").as_uri())
    db_url = new_database(server_url)
    with connect(db_url, actor="tester") as conn:
        seed(conn, storage, home)
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(home), "STORAGE_URL": storage.url}
    try:
        with served("compare", env, home / "panel.log") as url:
            yield Studio(url, db_url)
    finally:
        drop_database(server_url, db_url)


def logged_in(browser, studio: Studio, username: str):
    """A page of a new browser session, logged in as `username`."""
    from playwright.sync_api import expect

    page = page_logged_in(browser, studio.base_url, username, PASSWORD, height=1000)
    expect(page.get_by_text("Logged in as")).to_be_visible()
    return page


@pytest.fixture(scope="module")
def page(browser, studio):
    """One logged-in viewer's page (the view permission is all the app needs)."""
    page = logged_in(browser, studio, "vic")
    yield page
    page.context.close()


def decoded(image) -> np.ndarray:
    """The picture a shown <img> carries, decoded from its PNG data URL."""
    source = image.get_attribute("src")
    assert source.startswith("data:image/png;base64,")
    data = base64.b64decode(source.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_attempts_of_a_segment_show_side_by_side_with_the_failing_gate_named(page):
    from playwright.sync_api import expect

    page.locator(".compare-take select").select_option(label="Ada · Walk · take 1 (demo)")
    page.get_by_role("button", name="Compare attempts").click()
    cards = page.locator(".compare-attempt")
    expect(cards).to_have_count(2)
    first, second = cards.nth(0), cards.nth(1)
    expect(first).to_contain_text("Attempt 1")
    expect(first).to_contain_text("qa_failed")
    expect(first).to_contain_text("gates failed: black")
    expect(first).to_contain_text("identity median: 0.610")
    expect(second).to_contain_text("Attempt 2")
    expect(second).to_contain_text("qa_passed · current")
    expect(second).to_contain_text("gates failed: none")
    expect(second).to_contain_text("black fixed")
    expect(second).to_contain_text("identity +0.210")
    # Each card shows that attempt's own first frame.
    assert index_of(decoded(first.locator("img.compare-attempt-image"))) == 0
    assert index_of(decoded(second.locator("img.compare-attempt-image"))) == 3


# Wait until the compare player is settled on `frame` with its compared video on `other`,
# then draw both <video>s into a canvas: the mean grey level of each.
COMPARED_PICTURES = """async (box, [frame, other, timeout]) => {
  const end = performance.now() + timeout;
  const done = () => box.dataset.state === "settled" && Number(box.dataset.frame) === frame &&
    Number(box.dataset.compareFrame) === other;
  while (!done()) {
    if (performance.now() > end) return null;
    await new Promise((ok) => requestAnimationFrame(ok));
  }
  return Array.from(box.querySelectorAll("video")).map((video) => {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    const g = canvas.getContext("2d");
    g.drawImage(video, 0, 0);
    const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let n = 0; n < data.length; n += 4) sum += data[n] + data[n + 1] + data[n + 2];
    return sum / (3 * canvas.width * canvas.height);
  });
}"""


# Whether the compared <video> plays while the played one does (waiting up to `timeout`).
PLAYING_ALONG = """async (box, timeout) => {
  const end = performance.now() + timeout;
  const other = box.querySelector("video.vp-compare");
  while (!(box.dataset.state === "playing" && !other.paused && other.playbackRate === 0.25)) {
    if (performance.now() > end) return false;
    await new Promise((ok) => requestAnimationFrame(ok));
  }
  return true;
}"""


def compared_frames(page, frame: int, other: int) -> list[int]:
    """The frame numbers both videos of the compare player show (read from their pixels)
    once it is settled on `frame` and its compared video on `other`."""
    found = page.locator(".vp-box").evaluate(COMPARED_PICTURES, [frame, other, 15_000])
    if found is None:
        box = page.locator(".vp-box")
        pytest.fail(
            f"the compare player did not settle on {frame} / {other}: frame "
            f"{box.get_attribute('data-frame')}, compared {box.get_attribute('data-compare-frame')}"
            f" {box.get_attribute('data-state')}"
        )
    return [round((mean - 10) / 20) for mean in found]


def videos_on_screen(page) -> tuple[dict, dict]:
    """Where the played and the compared <video> are on the page."""
    played = page.locator(".vp-box video.vp-video:not(.vp-compare)").bounding_box()
    return played, page.locator(".vp-box video.vp-compare").bounding_box()


def test_two_attempts_play_compared_side_by_side_then_as_a_wipe(page):
    from playwright.sync_api import expect

    page.locator(".compare-take select").select_option(label="Ada · Walk · take 1 (demo)")
    page.get_by_role("button", name="Compare attempts").click()
    verdicts = page.locator(".compare-verdicts")
    expect(verdicts).to_contain_text("Attempt 2")  # the current attempt, the previous beside
    expect(verdicts).to_contain_text("Attempt 1")
    expect(verdicts).to_contain_text("attempt 1 → 2: black fixed, identity +0.210")
    box = page.locator(".vp-box")
    expect(box).to_have_attribute("data-compare", "side")
    # attempt 2's frame i is painted grey_of(3 + i), attempt 1's grey_of(i)
    assert compared_frames(page, 0, 0) == [3, 0]
    for _ in range(5):
        page.locator(".vp-forward").click()
    assert compared_frames(page, 5, 5) == [8, 5]
    expect(page.locator(".vp-label")).to_have_text(f"frame 5 / {ATTEMPT}")
    played, compared = videos_on_screen(page)
    assert abs(played["width"] - compared["width"]) < 1  # side by side at equal width
    assert abs(compared["x"] - (played["x"] + played["width"])) < 1

    page.locator(".compare-mode").get_by_role("button", name="wipe").click()
    expect(box).to_have_attribute("data-compare", "wipe")
    stage = page.locator(".vp-stage").bounding_box()
    played, compared = videos_on_screen(page)
    assert played == compared  # laid exactly over the played one
    divider = page.locator(".vp-divider")
    expect(divider).to_be_visible()

    def centre() -> float:
        found = divider.bounding_box()
        return found["x"] + found["width"] / 2

    assert abs(centre() - (stage["x"] + stage["width"] / 2)) < 2
    page.mouse.move(centre(), stage["y"] + stage["height"] / 2)
    page.mouse.down()
    page.mouse.move(stage["x"] + stage["width"] / 4, stage["y"] + stage["height"] / 2, steps=5)
    page.mouse.up()
    expect(box).to_have_attribute("data-wipe", "0.25")
    assert abs(centre() - (stage["x"] + stage["width"] / 4)) < 2
    clip = page.locator(".vp-compare").evaluate("video => video.style.clipPath")
    assert clip == "inset(0px 0px 0px 25%)"
    expect(page.locator(".compare-wipe")).to_contain_text("0.25")  # the session has it
    assert compared_frames(page, 5, 5) == [8, 5]  # still frame for frame

    # played at a quarter speed from the start, the compared one plays along; paused, both
    # settle on the same frame
    page.locator(".vp-rate").select_option("0.25")
    page.locator(".vp-back10").click()
    assert compared_frames(page, 0, 0) == [3, 0]
    page.locator(".vp-play").click()
    expect(box).to_have_attribute("data-state", "playing")
    assert box.evaluate(PLAYING_ALONG, 10_000), "the compared video did not play along"
    page.wait_for_timeout(1000)
    page.locator(".vp-play").click()
    expect(box).to_have_attribute("data-state", "settled")
    paused = int(box.get_attribute("data-frame"))
    assert 0 < paused < ATTEMPT - 1
    assert compared_frames(page, paused, paused) == [paused + 3, paused]


def test_two_whole_takes_play_compared_with_their_qa_and_its_change(page):
    from playwright.sync_api import expect

    played = page.locator(".vp-box video.vp-video:not(.vp-compare)")
    before = played.get_attribute("src") or ""
    page.locator(".compare-pair-scene-type select").select_option(label="Walk")
    page.locator(".compare-first-take select").select_option(label="Ada · take 1 · main (demo)")
    page.locator(".compare-second-take select").select_option(label="Bea · take 1 · main (demo)")
    page.get_by_role("button", name="Compare takes").click()
    verdicts = page.locator(".compare-verdicts")
    expect(verdicts).to_contain_text("Ada · take 1 · main (demo)")
    expect(verdicts).to_contain_text("Bea · take 1 · main (demo)")
    expect(verdicts).to_contain_text("segments passed: 0 of 1")
    expect(verdicts).to_contain_text(
        "Ada take 1 → Bea take 1: segment 0 black newly failed, identity -0.210"
    )
    expect(page.locator(".compare-heading")).to_contain_text("Two takes compared")
    expect(page.locator(".compare-shown")).to_be_hidden()  # the attempts' choosers
    # the player's sources change after the words do: wait for them before stepping
    expect(played).not_to_have_attribute("src", before)
    compared = page.locator(".vp-box video.vp-compare")
    expect(compared).to_have_attribute("src", re.compile(r"/take1\.mp4$"))
    # Ada's old take's frame i is painted grey_of(6 + i), Bea's grey_of(i)
    assert compared_frames(page, 0, 0) == [6, 0]
    for _ in range(3):
        page.locator(".vp-forward").click()
    assert compared_frames(page, 3, 3) == [9, 3]
    page.locator(".compare-mode").get_by_role("button", name="wipe").click()
    expect(page.locator(".vp-box")).to_have_attribute("data-compare", "wipe")
    assert compared_frames(page, 3, 3) == [9, 3]
    page.locator(".compare-mode").get_by_role("button", name="side").click()


# Wait until the grid is settled on `frame` (each cell on it, or on its own last frame),
# then draw every cell's <video> into a canvas: [cell's frame label, its mean grey, ended].
GRID_PICTURES = """async (box, [frame, lengths, timeout]) => {
  const end = performance.now() + timeout;
  const cells = () => Array.from(box.querySelectorAll(".vg-cell"));
  const done = () => box.dataset.state === "settled" && Number(box.dataset.frame) === frame &&
    cells().length === lengths.length &&
    cells().every((c, n) => Number(c.dataset.frame) === Math.min(frame, lengths[n] - 1));
  while (!done()) {
    if (performance.now() > end) return null;
    await new Promise((ok) => requestAnimationFrame(ok));
  }
  return cells().map((cell) => {
    const video = cell.querySelector("video");
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    const g = canvas.getContext("2d");
    g.drawImage(video, 0, 0);
    const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let n = 0; n < data.length; n += 4) sum += data[n] + data[n + 1] + data[n + 2];
    const label = Number(cell.querySelector(".vg-frame").textContent.replace("frame ", ""));
    return [label, sum / (3 * canvas.width * canvas.height), cell.dataset.ended === "true"];
  });
}"""
# While the grid plays up to its frame `upto`: the largest difference between the frames
# its cells name, checked at every animation frame (null if it never gets there).
PLAYING_IN_SYNC = """async (box, [upto, timeout]) => {
  const end = performance.now() + timeout;
  let worst = 0;
  while (Number(box.dataset.frame) < upto) {
    if (performance.now() > end || box.dataset.state !== "playing") return null;
    await new Promise((ok) => requestAnimationFrame(ok));
    const shown = Array.from(box.querySelectorAll(".vg-cell"), (c) => Number(c.dataset.frame));
    worst = Math.max(worst, Math.max(...shown) - Math.min(...shown));
  }
  return worst;
}"""
LENGTHS = [FRAMES, BEA_FRAMES]  # Ada's newest take, Bea's


def grid_frames(page, frame: int) -> list[tuple[int, int, bool]]:
    """Each grid cell's (frame label, frame read from its pixels, ended) once the grid is
    settled on `frame`."""
    box = page.locator(".vg-box")
    found = box.evaluate(GRID_PICTURES, [frame, LENGTHS, 15_000])
    if found is None:
        cells = page.locator(".vg-cell")
        shown = [cells.nth(n).get_attribute("data-frame") for n in range(cells.count())]
        pytest.fail(
            f"the grid did not settle on {frame}: frame {box.get_attribute('data-frame')} "
            f"{box.get_attribute('data-state')}, cells {shown}"
        )
    return [(label, round((mean - 10) / 20), ended) for label, mean, ended in found]


def same_frame(frame: int) -> list[tuple[int, int, bool]]:
    """What every cell shows at the grid's `frame`: it, or its own last frame, ended."""
    return [(min(frame, n - 1),) * 2 + (frame > n - 1,) for n in LENGTHS]


def test_scene_type_grid_plays_and_steps_every_characters_newest_take_in_sync(page):
    from playwright.sync_api import expect

    page.locator(".compare-scene-type select").select_option(label="Walk")
    page.get_by_role("button", name="Compare characters").click()
    cells = page.locator(".vg-cell")
    expect(cells).to_have_count(2)
    expect(cells.nth(0)).to_contain_text("Ada · take 2")
    expect(cells.nth(0)).to_contain_text("no QA verdict yet")
    expect(cells.nth(1)).to_contain_text("Bea · take 1")
    expect(cells.nth(1)).to_contain_text("QA failed: segment 0 black")
    assert grid_frames(page, 0) == same_frame(0)
    expected = 0
    for button, delta in [("forward", 1)] * 3 + [("back", -1), ("forward10", 10), ("back10", -10)]:
        page.locator(f".vg-{button}").click()
        expected = min(max(expected + delta, 0), FRAMES - 1)
        assert grid_frames(page, expected) == same_frame(expected)
        expect(page.locator(".vg-label")).to_have_text(f"frame {expected} / {FRAMES}")
    page.locator(".vg-forward10").click()  # past Bea's end: her cell holds its last frame
    assert grid_frames(page, FRAMES - 1) == same_frame(FRAMES - 1)
    expect(cells.nth(1).locator(".vg-ended")).to_be_visible()
    expect(cells.nth(0).locator(".vg-ended")).to_be_hidden()

    # seek by clicking the shared scrubber, a third of the way
    bar = page.locator(".vg-scrubber").bounding_box()
    page.mouse.click(bar["x"] + bar["width"] / 3, bar["y"] + bar["height"] / 2)
    expected = round((FRAMES - 1) / 3)
    assert grid_frames(page, expected) == same_frame(expected)

    # played from the start at half speed and paused: every cell on the same frame
    page.locator(".vg-rate").select_option("0.5")
    page.locator(".vg-back10").click()
    assert grid_frames(page, 0) == same_frame(0)
    box = page.locator(".vg-box")
    page.locator(".vg-play").click()
    expect(box).to_have_attribute("data-state", "playing")
    # while playing (up to frame 3), the cells stay within a frame of each other
    worst = box.evaluate(PLAYING_IN_SYNC, [3, 15_000])
    assert worst is not None and worst <= 1, f"the cells drifted {worst} frames apart"
    page.locator(".vg-play").click()
    expect(box).not_to_have_attribute("data-state", "playing")
    paused = int(box.get_attribute("data-frame"))
    assert 3 <= paused < FRAMES - 1
    assert grid_frames(page, paused) == same_frame(paused)
    page.locator(".vg-forward").click()  # and stepping on from there
    assert grid_frames(page, paused + 1) == same_frame(paused + 1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "compare.png"), full_page=True)

    # at 768 px and below the cells stack in one column
    page.set_viewport_size({"width": 700, "height": 1000})
    try:
        expect(cells.nth(1)).to_be_visible()
        first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
        assert abs(first["x"] - second["x"]) < 1 and second["y"] >= first["y"] + first["height"]
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})
    first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"]  # side by side again


def test_grid_steps_with_the_users_own_keys_and_blurs_a_sensitive_take(browser, studio):
    from playwright.sync_api import expect

    with connect(studio.db_url, actor="tester") as conn:
        ratings.set_rating(conn, "characters", "bea", "sensitive")
    page = logged_in(browser, studio, "lefty")  # the left_hand preset: a back, d forward
    try:
        expect(page.locator('.shortcut-legend kbd[data-action="forward"]')).to_have_text("d")
        page.locator(".compare-scene-type select").select_option(label="Walk")
        page.get_by_role("button", name="Compare characters").click()
        expect(page.locator(".vg-cell")).to_have_count(2)
        assert grid_frames(page, 0) == same_frame(0)
        for _ in range(3):
            page.keyboard.press("d")
        assert grid_frames(page, 3) == same_frame(3)
        page.keyboard.press(".")  # the default forward key: not this user's
        page.keyboard.press("a")
        assert grid_frames(page, 2) == same_frame(2)
        # Bea is rated sensitive and lefty blurs: her cell is blurred until revealed
        ada, bea = page.locator(".vg-stage").nth(0), page.locator(".vg-stage").nth(1)
        expect(bea).to_have_class(re.compile(r"vg-blurred"))
        expect(ada).not_to_have_class(re.compile(r"vg-blurred"))
        assert bea.locator("video").evaluate("v => getComputedStyle(v).filter").startswith("blur")
        bea.get_by_role("button", name="Reveal").click()
        expect(bea).not_to_have_class(re.compile(r"vg-blurred"))
    finally:
        page.context.close()
        with connect(studio.db_url, actor="tester") as conn:
            ratings.set_rating(conn, "characters", "bea", "general")
