"""The review room and the live review page in plain Python (PRD-11), through the real hub
on the real catalog: each session's events run on its own (fake) Bokeh document.

The browser journey (tests/test_review_live.py) stays the end-to-end check.
"""

import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from panel.io.state import set_curdoc

from apps.actions import ActionRunner
from apps.live import Hub
from apps.login import SignedIn
from apps.review_news import news
from apps.review_player import Player
from apps.review_room import ALONE, FOLLOWER, PRESENTER, ReviewRoom
from apps.review_state import ReviewSession
from tests.review_takes import assemble, make_project, make_take
from tests.test_drawings import red_pen
from tests.test_live_events import FakeDocument
from trulience.auth import users as accounts
from trulience.catalog.records import User
from trulience.media.encode import encode_frames
from trulience.review import add_note, decide
from trulience.review.shortcuts import shortcuts_of
from trulience.storage import Storage

PASSWORD = "s3cret-pass"
TAKE = 41  # a room's id is its take's; the room tests need no take in the catalog


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    started = Hub(db_url, poll_s=0.05, backoff_s=(0.05, 0.2))
    yield started
    started.stop()


class Page:
    """One reviewer's page: its document, its player and room, what it was told."""

    def __init__(self, hub: Hub, username: str, storage: Storage):
        self.doc, self.said = FakeDocument(), []
        self.actions = ActionRunner(lambda error: pytest.fail(str(error)), self.tell)
        self.player = Player(storage, self.actions)
        self.redrawn = 0
        self.room = ReviewRoom(self.player, hub, self.actions, lambda: username, self.redraw)

    def tell(self, message: str, kind: str) -> None:
        self.said.append(message)

    def redraw(self) -> None:
        self.redrawn += 1

    def act(self, action: Callable[[], None]) -> None:
        """Run an action as the page's own session does (subscribing on its document)."""
        with set_curdoc(self.doc):
            action()


def settle(*pages: Page, until: Callable[[], bool] = lambda: True, timeout: float = 5) -> None:
    """Run the pages' next-tick callbacks as events arrive, until `until()` holds and a
    short quiet spell has passed."""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if sum(page.doc.run_ticks() for page in pages):
            quiet_since = time.monotonic()
        elif until() and time.monotonic() - quiet_since > 0.2:
            return
        time.sleep(0.01)
    pytest.fail("the pages did not settle")


@pytest.fixture
def pages(hub: Hub, tmp_path) -> tuple[Page, Page]:
    storage = Storage((tmp_path / "storage").as_uri())
    return Page(hub, "rita", storage), Page(hub, "nina", storage)


def test_a_presenter_s_pause_moves_the_follower_to_the_same_frame(pages):
    presenter, follower = pages
    presenter.act(lambda: presenter.room.start(TAKE))
    follower.player.index = 3
    follower.act(lambda: follower.room.join(TAKE))
    # the presenter answers the join with where it is: frame 0, paused
    settle(presenter, follower, until=lambda: follower.room.presenter == "rita")
    assert follower.player.index == 0 and presenter.room.followers == ["nina"]
    assert (presenter.room.role, follower.room.role) == (PRESENTER, FOLLOWER)

    presenter.player.playing = True
    settle(presenter, follower, until=lambda: follower.player.playing)
    presenter.player.param.update(index=17)  # the presenter's playback moved on
    presenter.player.playing = False  # paused at 17
    settle(presenter, follower, until=lambda: not follower.player.playing)
    assert (follower.player.index, follower.player.playing) == (17, False)
    assert follower.redrawn >= 3


def test_a_follower_s_own_steps_and_play_are_undone_until_it_leaves(pages):
    presenter, follower = pages
    presenter.player.index = 5
    presenter.act(lambda: presenter.room.start(TAKE))
    follower.act(lambda: follower.room.join(TAKE))
    settle(presenter, follower, until=lambda: follower.player.index == 5)
    follower.player.index = 9
    assert follower.player.index == 5
    follower.player.playing = True
    assert not follower.player.playing
    follower.act(follower.room.leave)
    settle(presenter, follower, until=lambda: presenter.room.followers == [])
    follower.player.index = 9
    assert follower.player.index == 9 and follower.room.role == ALONE


def test_while_playing_the_presenter_resyncs_at_most_once_a_second(pages, db_url):
    presenter, follower = pages
    presenter.act(lambda: presenter.room.start(TAKE))
    follower.act(lambda: follower.room.join(TAKE))
    settle(presenter, follower, until=lambda: follower.room.presenter == "rita")
    heard: list[dict] = []
    watcher = FakeDocument()
    presenter.room.live.subscribe(TAKE, heard.append, channel="trulience_room", doc=watcher)
    presenter.player.playing = True
    for frame in range(1, 13):  # half a second of playback at 24 fps
        presenter.player.index = frame
        time.sleep(1 / 24)
    presenter.player.playing = False
    settle(presenter, follower, until=lambda: not follower.player.playing)
    watcher.run_ticks()
    frames = [(e["frame"], e["playing"]) for e in heard if "frame" in e]
    assert frames == [(0, True), (12, False)]
    assert follower.player.index == 12


def test_the_presenter_leaving_ends_the_room_for_its_followers(pages):
    presenter, follower = pages
    presenter.act(lambda: presenter.room.start(TAKE))
    follower.act(lambda: follower.room.join(TAKE))
    settle(presenter, follower, until=lambda: follower.room.presenter == "rita")
    presenter.act(presenter.room.leave)
    settle(presenter, follower, until=lambda: follower.room.role == ALONE)
    assert "rita ended the room" in follower.said
    follower.player.index = 7
    assert follower.player.index == 7


def test_no_room_without_an_open_take(pages):
    presenter, _ = pages
    presenter.act(lambda: presenter.room.start(None))
    assert presenter.room.role == ALONE
    assert presenter.said == ["open a take to start or join its room"]


def test_news_says_who_did_what_and_nothing_of_one_s_own():
    note = {"kind": "note", "action": "insert", "by": "Rita", "frame": 12, "reply": False}
    assert news(note, "Nina") == "Rita added a note at frame 12"
    assert news(note, "Rita") is None
    assert news(note | {"reply": True}, "Nina") == "Rita replied to a note"
    decided = {"kind": "decision", "action": "insert", "by": "Rita", "decision": "approved"}
    assert news(decided, "Nina") == "Rita approved this take"
    assert news(decided | {"action": "delete"}, None) == "Rita took back a decision (approved)"
    assert news({"kind": "resync", "scene_id": 1}, "Nina") is None


def test_a_review_page_shows_another_reviewer_s_note_live_and_says_so(conn, db_url, hub, tmp_path):
    rita = accounts.create_user(conn, "rita", "Rita", "reviewer", PASSWORD)
    accounts.create_user(conn, "nina", "Nina", "reviewer", PASSWORD)
    make_project(conn)
    scene = make_take(conn, take=1)
    assemble(conn, scene, "take 1", frames=24)
    session = ReviewSession(db_url, Storage((tmp_path / "s").as_uri()), pytest.fail, hub)
    login = accounts.authenticate(conn, "nina", PASSWORD, user_agent="test")
    session.sign_in(SignedIn(login.token, login.user, shortcuts_of(conn, login.user.id)))
    doc = FakeDocument()
    with set_curdoc(doc):
        session.open_take(session.takes[0])  # no video: the player says so, notes still show
    assert session.notes == [] and hub.subscribers(scene) == 1

    add_note(conn, rita, scene, "the hand flickers", frame=12)
    deadline = time.monotonic() + 5
    while not doc.ticks and time.monotonic() < deadline:
        time.sleep(0.01)
    doc.run_ticks()
    assert [n.body for n in session.notes] == ["the hand flickers"]
    assert session.notice == ("Rita added a note at frame 12", "info")

    # her own decision re-reads the notes and says nothing of herself
    session.decide("reject", acknowledge=True)
    before = session.notice
    time.sleep(0.3)
    doc.run_ticks()
    assert session.notice == before
    session.show_queue()  # the take is closed: nothing more is heard about it
    assert hub.subscribers(scene) == 0
    decide(conn, rita, scene, "flag", acknowledge_open_notes=True)
    time.sleep(0.3)
    assert doc.ticks == []


def test_the_room_view_follows_who_presents_and_who_follows(pages):
    from apps.review_room_views import RoomView

    presenter, follower = pages
    shown, followed = RoomView(presenter.room, lambda: TAKE), RoomView(follower.room, lambda: TAKE)
    assert shown.start.visible and not shown.leave.visible
    presenter.act(lambda: presenter.room.start(TAKE))
    follower.act(lambda: follower.room.join(TAKE))
    settle(presenter, follower, until=lambda: follower.room.presenter == "rita")
    assert shown.who.object == "**Presenting** · following: nina"
    assert followed.who.object.startswith("**Following rita**")
    assert followed.leave.visible and not followed.join.visible


@pytest.fixture
def drawn_take(conn, storage, tmp_path) -> tuple[int, User]:
    """An assembled take with a stored 64×48 video to draw on; rita, a reviewer."""
    make_project(conn)
    scene = make_take(conn)
    video = tmp_path / "scene.mp4"
    encode_frames((np.full((48, 64, 3), 30 + 20 * i, np.uint8) for i in range(8)), video, 24)
    stored = storage.put_file(f"scenes/{scene}/scene.mp4", video)
    conn.execute(
        "UPDATE scenes SET status = 'assembled', uri = %s, sha256 = %s, frames = 8 WHERE id = %s",
        (stored.uri, stored.sha256, scene),
    )
    return scene, accounts.create_user(conn, "rita", "Rita", "reviewer", PASSWORD)


def test_a_drawn_note_reaches_another_reviewer_s_page_with_its_drawing(
    conn, db_url, hub, storage, drawn_take
):
    scene, rita = drawn_take
    accounts.create_user(conn, "nina", "Nina", "reviewer", PASSWORD)
    session = ReviewSession(db_url, storage, pytest.fail, hub)
    login = accounts.authenticate(conn, "nina", PASSWORD, user_agent="test")
    session.sign_in(SignedIn(login.token, login.user, shortcuts_of(conn, login.user.id)))
    doc = FakeDocument()
    with set_curdoc(doc):
        session.open_take(next(t for t in session.takes if t.scene_id == scene))
    # the drawing is saved in the note's transaction: the note's one event brings both
    start = time.monotonic()
    add_note(conn, rita, scene, "too dark here", drawing=red_pen(), storage=storage)
    while not doc.ticks and time.monotonic() - start < 5:
        time.sleep(0.01)
    doc.run_ticks()
    print(f"\ndrawn note to the other session in {1000 * (time.monotonic() - start):.0f} ms")
    assert session.notice == ("Rita added a note at frame 3", "info")
    assert [o["frame"] for o in session.overlays()] == [3]
    assert session.overlays()[0]["drawing"]["shapes"][0]["kind"] == "pen"
