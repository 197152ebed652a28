"""The compare app's session in plain Python (no browser), against the real database and
real H.264 clips: signing in loads the choices and the user's keys, a segment's attempts
load with their first frames and verdict lines, two whole takes are compared with their QA
and its change, the grid's cells carry each take's proxy, frame times, verdict and blur, its
frame steps with the user's keys, and a refused action is said once (the browser end to end:
tests/test_compare_app.py).
"""

import time
from pathlib import Path

import pytest

from apps.compare import CompareApp
from apps.compare_state import (
    AttemptCard,
    BrowserVideo,
    CompareSession,
    default_pair,
)
from apps.compare_views import AttemptsView, ComparePlayerView, GridView, TakesView
from apps.compare_words import grid_verdict, status_of, take_qa, take_verdict_lines
from tests.test_compare_app import (
    ATTEMPT,
    BEA_FRAMES,
    FAILED_QA,
    FRAMES,
    PASSED_QA,
    add_attempt,
    seed,
)
from tests.test_review_app import PASSWORD, index_of
from trulience.auth import users as accounts
from trulience.catalog import ratings
from trulience.catalog.comparisons import Attempt, SegmentVerdict
from trulience.config import Settings
from trulience.review.shortcuts import PRESETS
from trulience.storage import Storage


@pytest.fixture
def studio(conn, db_url, tmp_path) -> tuple[Settings, dict[str, int], Storage]:
    """The browser test's takes (`seed`), and segment 1 of Ada's old take with one attempt
    that has no video yet."""
    storage = Storage((tmp_path / "storage").as_uri())
    takes = seed(conn, storage, tmp_path)
    add_attempt(conn, takes["old"], 1, 1, status="generating")
    settings = Settings.from_env(
        {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": storage.url}
    )
    return settings, takes, storage


def signed_in(settings: Settings, username: str = "vic") -> CompareSession:
    session = CompareSession(settings)
    session.login.username.value = username
    session.login.password.value = PASSWORD
    session.login.log_in()
    return session


def test_signing_in_loads_the_takes_the_scene_types_and_the_users_keys(studio):
    settings, takes, _ = studio
    session = CompareSession(settings)
    assert session.user is None and session.takes == {}
    session.login.username.value, session.login.password.value = "vic", "wrong"
    session.login.log_in()
    assert session.user is None and session.login.notice.visible

    session = signed_in(settings)
    assert session.user.username == "vic"
    assert session.takes == {
        "Ada · Walk · take 1 (demo)": takes["old"],
        "Bea · Walk · take 1 (demo)": takes["bea"],
    }
    assert session.scene_types == {"Walk": "walk"}
    assert session.keys == dict(PRESETS["default"])
    assert signed_in(settings, "lefty").keys["forward"] == "d"


def test_the_attempts_of_a_segment_load_with_their_first_frames_and_verdicts(studio):
    settings, takes, _ = studio
    session = signed_in(settings)
    view = AttemptsView(session=session)
    assert view.take_select.value == takes["old"] == session.take  # the chooser sets it
    session.show_attempts()
    first, second = session.attempts
    assert [status_of(c.attempt) for c in (first, second)] == ["qa_failed", "qa_passed · current"]
    assert first.lines == [
        "**Attempt 1** · status `qa_failed`",
        "QA **failed**",
        "gates passed: frame_count",
        "gates failed: **black** (mostly black frames)",
        "identity median: 0.610",
    ]
    assert second.lines[1:] == [
        "QA **passed**",
        "gates passed: black, frame_count",
        "gates failed: none",
        "identity median: 0.820",
        "vs previous: black fixed, identity +0.210",
    ]
    # each card shows that attempt's own first frame
    assert [index_of(c.frame) for c in (first, second)] == [0, 3]
    assert [c.attempt.attempt for c in session.attempts] == [1, 2]
    assert len(view.attempts.objects) == 2

    session.segment = 1  # one attempt, not made yet: said on its card, not as a refusal
    session.show_attempts()
    [pending] = session.attempts
    assert pending.frame is None and pending.problem == "attempt 1 has no video"
    assert pending.lines[1:] == ["no QA verdict yet"] and session.notice is None

    session.segment = 7
    session.show_attempts()
    assert session.attempts == [] and session.shown_segment == 7
    assert view.attempts.objects[0].object == "Segment 7 has no attempts."


def test_the_grid_carries_each_characters_newest_take_with_its_verdict_and_blur(conn, studio):
    settings, takes, storage = studio
    ratings.set_rating(conn, "characters", "bea", "sensitive")
    session = signed_in(settings)
    view = GridView(session=session)
    assert view.scene_type_select.value == "walk" == session.scene_type
    session.step(+1)  # no grid yet: nothing to step
    assert session.grid is None and session.frame == 0 and not view.grid.visible

    session.show_grid()
    ada, bea = session.grid
    assert [(c.take.character, c.take.take) for c in (ada, bea)] == [("Ada", 2), ("Bea", 1)]
    assert (ada.take.scene_id, bea.take.scene_id) == (takes["new"], takes["bea"])
    assert ada.video.src.startswith("/media/") and ada.video.src.endswith("/take2.mp4")
    assert (len(ada.video.times), len(bea.video.times)) == (FRAMES, BEA_FRAMES)
    assert storage.exists("scenes/bea/walk/take1.frames.json")  # the frame times, stored once
    assert ada.verdict == "no QA verdict yet"
    assert bea.verdict == "QA failed: segment 0 black"
    assert (ada.blurred, bea.blurred) == (False, True)  # Bea is rated sensitive
    assert session.total == FRAMES  # the longest take's frames
    cells = view.grid.cells  # the browser grid has every cell, as data
    assert [c["name"] for c in cells] == ["Ada", "Bea"] and cells[1]["blurred"]
    assert cells[1]["times"] == list(bea.video.times) and cells[0]["fps"] == 12
    assert view.grid.visible and not view.empty.visible

    for delta in [+1, +1, +1, -1, +1, +1]:
        session.step(delta)
    assert session.frame == 4 == view.grid.frame
    view.grid.frame = 7  # the browser's transport moved it
    assert session.frame == 7
    session.step(+50)
    assert session.frame == FRAMES - 1
    session.step(-50)
    assert session.frame == 0


def test_the_grid_steps_with_the_users_own_keys(studio):
    settings, _, _ = studio
    app = CompareApp(settings)
    app.login.username.value, app.login.password.value = "lefty", PASSWORD
    app.login.log_in()
    assert app.compare_view.visible and app.shortcuts.table["forward"] == "d"
    app.session.show_grid()
    for key in "ddd.a":  # "." is the default forward key: not this user's
        app.shortcuts.keyboard._handle_msg({"key": key})
    assert app.session.frame == 2 == app.grid.grid.frame


def test_a_takes_qa_is_that_of_its_current_segments():
    assert take_qa([]) == {} and take_verdict_lines({}) == ["no QA verdict yet"]
    assert grid_verdict({}) == "no QA verdict yet"
    qa = take_qa([SegmentVerdict(1, 0, PASSED_QA), SegmentVerdict(1, 1, FAILED_QA)])
    assert qa["passed"] is False and qa["failed"] == ["segment 1 black"]
    assert qa["metrics"]["identity_median"] == pytest.approx((0.61 + 0.82) / 2)
    assert take_verdict_lines(qa) == [
        "QA **failed**",
        "segments passed: 1 of 2",
        "gates failed: **segment 1 black** (mostly black frames)",
        "identity median: 0.715",
    ]
    assert grid_verdict(qa) == "QA failed: segment 1 black"
    # a segment without a verdict yet: the take has not passed
    waiting = take_qa([SegmentVerdict(1, 0, PASSED_QA), SegmentVerdict(1, 1, {})])
    assert waiting["passed"] is False and waiting["segments"] == {"passed": 1, "of": 2}
    passed = take_qa([SegmentVerdict(1, 0, PASSED_QA)])
    assert passed["passed"] and grid_verdict(passed) == "QA passed · 1 segments"


def test_two_whole_takes_are_compared_with_their_qa_and_its_change(studio):
    settings, takes, _ = studio
    session = signed_in(settings)
    view = TakesView(session=session)
    player_view = ComparePlayerView(session=session)
    assert session.pair_takes == {
        "Ada · take 1 · main (demo)": takes["old"],
        "Ada · take 2 · main (demo)": takes["new"],
        "Bea · take 1 · main (demo)": takes["bea"],
    }
    # two different takes chosen first: two takes of Ada's cell
    assert (session.first_take, session.second_take) == (takes["old"], takes["new"])
    view.second_select.value = takes["bea"]  # another character's take of the scene type
    session.compare_takes()
    assert session.comparing == "takes"
    shown, compared = session.shown_video, session.compared_video
    assert shown.src.endswith("/take1.mp4") and "/media/" in compared.src
    assert (len(shown.times), len(compared.times)) == (6, BEA_FRAMES)
    assert session.compared_lines == [
        [
            "**Ada · take 1 · main (demo)**",
            "QA **passed**",
            "segments passed: 1 of 1",
            "gates failed: none",
            "identity median: 0.820",
        ],
        [
            "**Bea · take 1 · main (demo)**",
            "QA **failed**",
            "segments passed: 0 of 1",
            "gates failed: **segment 0 black** (mostly black frames)",
            "identity median: 0.610",
        ],
    ]
    assert (
        session.change == "Ada take 1 → Bea take 1: segment 0 black newly failed, identity -0.210"
    )
    player = player_view.player
    assert (player.src, player.compare_src) == (shown.src, compared.src)
    assert not player_view.shown_select.visible  # the attempts' choosers are not for takes
    assert "Two takes compared" in player_view.heading.object
    assert "newly failed" in player_view.verdicts.object and not player.blurred

    session.second_take = takes["new"]  # Ada's new take has no QA: nothing to compare
    session.compare_takes()
    assert session.compared_lines[1][1:] == ["no QA verdict yet"]
    assert session.change == "Ada take 1 → Ada take 2: no QA verdict to compare"

    session.show_attempts()  # back to attempts: the same player plays them
    assert session.comparing == "attempts" and player.src.endswith("/0-2.mp4")
    assert player_view.shown_select.visible


def test_a_refused_action_is_said_once(conn, studio):
    settings, takes, storage = studio
    session = signed_in(settings)
    view = GridView(session=session)
    # Bea's video is gone from storage: the grid says so, once, and shows no takes
    Path(storage.path("scenes/bea/walk/take1.mp4")).unlink()
    session.show_grid()
    message, kind = session.notice
    assert kind == "danger" and "scenes/bea/walk/take1.mp4" in message
    assert session.grid == [] and not view.grid.visible and view.empty.visible

    # the session is revoked elsewhere: back to the login form, saying why, and only there
    session.hush()
    accounts.revoke_session(conn, accounts.sessions_of(conn, "vic")[0].id)
    session.take, session.segment = takes["old"], 0
    session.show_attempts()
    assert session.user is None and session.login.token is None
    assert "was revoked" in session.login.notice.object
    assert session.notice is None and session.attempts is None


def test_the_current_and_the_previous_attempt_are_compared_and_can_be_switched(studio):
    settings, _, storage = studio
    session = signed_in(settings)
    view = AttemptsView(session=session)
    view.compare = ComparePlayerView(session=session)
    session.show_attempts()
    assert session.playable == {"attempt 1": 1, "attempt 2": 2}
    assert (session.shown_attempt, session.compared_attempt) == (2, 1)  # current, previous
    shown, compared = session.shown_video, session.compared_video
    time.sleep(1.1)  # a URL signed a second later would differ (its expiry is in seconds)
    session.show_attempts()  # asked again: the same URLs, so the browser keeps its videos
    assert (session.shown_video.src, session.compared_video.src) == (shown.src, compared.src)
    assert shown.src.startswith("/media/") and shown.src.endswith("/0-2.mp4")
    assert compared.src.endswith("/0-1.mp4")
    assert len(shown.times) == len(compared.times) == ATTEMPT and shown.fps == 12
    assert shown.times[0] < shown.times[1] < shown.times[-1]
    # the frame times are stored beside the attempt's own file (it has no proxy)
    assert storage.exists("segments/ada/walk/1/0-2.frames.json")
    assert [lines[0] for lines in session.compared_lines] == [
        "**Attempt 2** · status `qa_passed · current`",
        "**Attempt 1** · status `qa_failed`",
    ]
    assert session.change == "attempt 1 → 2: black fixed, identity +0.210"

    player = view.compare.player  # the browser player follows the session, both ways
    assert (player.src, player.compare_src) == (shown.src, compared.src)
    assert player.times == list(shown.times) and player.compare_mode == "side"
    assert player.keys_taken == list(PRESETS["default"].values())  # the grid's keys
    assert view.compare.shown_select.value == 2 and view.compare.compared_select.value == 1
    assert "black fixed" in view.compare.verdicts.object and view.compare._layout.visible
    player.frame = 5
    assert session.attempt_frame == 5
    player.param.update(compare_mode="wipe", wipe=0.25)
    assert (session.compare_mode, session.wipe) == ("wipe", 0.25)
    session.wipe = 0.75
    assert player.wipe == 0.75

    view.compare.shown_select.value = 1  # switching: the failed attempt played, the pass beside
    session.compared_attempt = 2
    assert player.src.endswith("/0-1.mp4") and player.compare_src.endswith("/0-2.mp4")
    assert session.change == "attempt 1 → 2: black fixed, identity +0.210"
    session.compared_attempt = 1
    assert session.change == "attempt 1 compared with itself"

    session.segment = 1  # one attempt, no video yet: nothing to play, the player hidden
    session.show_attempts()
    assert session.playable == {} and session.shown_video is None
    assert player.src == "" and player.compare_src == "" and not view.compare._layout.visible


def test_the_pair_compared_first_is_the_current_attempt_and_the_one_before_it():
    def card(number: int, current: bool = False) -> AttemptCard:
        attempt = Attempt(number, "qa_passed", current, f"file:///{number}.mp4", {})
        return AttemptCard(attempt, None, None, [], BrowserVideo("", (0.0,), 24.0))

    assert default_pair([]) == (None, None)
    assert default_pair([card(1)]) == (1, None)
    assert default_pair([card(1), card(2, True), card(3)]) == (2, 1)
    assert default_pair([card(1, True), card(2)]) == (1, 2)
    assert default_pair([card(1), card(4)]) == (4, 1)  # none current: the newest
