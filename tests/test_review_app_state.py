"""The review app's state in plain Python (no browser), against the real catalog: sign in,
the queue and its filters, opening a take and stepping it in the browser player, deciding with the
open-notes question, Undo within its window, notes and replies, the tray, an expired
session and a refused action, each through the same service calls the page makes. The
views (`ReviewApp.queue`, `.decisions`, `.notes`, `.picture`) are checked where they
follow the state; the browser tests (tests/test_review_app.py) stay the end-to-end check."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from apps.login import SignedIn
from apps.review import ReviewApp
from apps.review_state import ALL, ReviewSession
from tests.review_takes import assemble, commit_segments, make_project, make_take
from trulience.auth import users as accounts
from trulience.config import Settings
from trulience.media.encode import encode_frames
from trulience.notify import notify
from trulience.review import add_note
from trulience.review.shortcuts import shortcuts_of
from trulience.storage import Storage

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "s3cret-pass"
FRAMES = 6
SEGMENT_FRAMES = 3


def grey(index: int) -> np.ndarray:
    """Frame `index` is painted in its own grey level, so its pixels tell its number."""
    return np.full((32, 32, 3), 10 + 40 * index, dtype=np.uint8)


def index_of(picture: np.ndarray) -> int:
    return round((float(picture.mean()) - 10) / 40)


@pytest.fixture
def studio(conn, db_url, tmp_path):
    """Three users; takes 1 and 2 of project demo (no media), take 3 of demo with a real
    video of six frames in two committed segments and a storyboard, take 4 of project other."""
    people = {
        name: accounts.create_user(conn, name, name.title(), role, PASSWORD)
        for name, role in [("vic", "viewer"), ("rita", "reviewer"), ("paul", "producer")]
    }
    make_project(conn)
    make_project(conn, "other")
    takes = [make_take(conn, take=n, age_minutes=10 - n) for n in (1, 2, 3)]
    takes.append(make_take(conn, "other", take=4, age_minutes=6))
    for scene in takes:
        assemble(conn, scene, f"take {scene}", frames=FRAMES)
    storage = Storage((tmp_path / "storage").as_uri())
    video = tmp_path / "take3.mp4"
    encode_frames((grey(i) for i in range(FRAMES)), video, 12, gop=2)
    folder = "scenes/demo/ada/walk/take3"
    stored = storage.put_file(f"{folder}/scene.mp4", video)
    storage.put_bytes(f"{folder}/storyboard.png", b"\x89PNG storyboard")
    conn.execute("UPDATE scenes SET uri = %s WHERE id = %s", (stored.uri, takes[2]))
    commit_segments(conn, takes[2], FRAMES // SEGMENT_FRAMES, frames=SEGMENT_FRAMES)
    settings = Settings.from_env(
        {
            "DATABASE_URL": db_url,
            "TRULIENCE_HOME": str(tmp_path),
            "STORAGE_URL": storage.url,
        }
    )
    return settings, takes, people


def logged_in(settings: Settings, username: str) -> ReviewApp:
    """The app after `username` logged in through its login form."""
    app = ReviewApp(settings)
    app.login.username.value = username
    app.login.password.value = PASSWORD
    app.login.log_in()
    assert app.token is not None
    return app


def with_the_video_take_open(settings: Settings, frame: int) -> ReviewApp:
    """rita's app with take 3 (the one with a video) open at `frame`."""
    app = logged_in(settings, "rita")
    app.session.open_take(app.session.shown[2])
    app.session.player.go_to(frame)
    return app


def decision_controls(app: ReviewApp) -> list:
    return [*app.decisions.controls, app.queue.approve_selected_button]


def test_a_viewer_sees_every_decision_control_disabled_and_a_reviewer_enabled(studio):
    settings, _, _ = studio
    viewer = logged_in(settings, "vic")
    assert not viewer.session.may_review and not viewer.session.may_write_notes
    assert all(control.disabled for control in decision_controls(viewer))
    assert viewer.notes.add_note_button.disabled
    reviewer = logged_in(settings, "rita")
    assert reviewer.session.may_review and reviewer.session.may_write_notes
    assert not any(control.disabled for control in decision_controls(reviewer))
    assert not reviewer.notes.add_note_button.disabled


def test_signing_in_lists_the_queue_and_the_project_filter_narrows_it(studio):
    settings, takes, _ = studio
    app = logged_in(settings, "rita")
    session = app.session
    assert session.screen == "queue" and app.queue_view.visible and not app.login_view.visible
    assert session.user.username == "rita"
    assert [t.scene_id for t in session.shown] == takes
    assert session.projects == [ALL, "demo", "other"]
    assert app.queue.project_filter.options == [ALL, "demo", "other"]

    app.queue.project_filter.value = "other"  # the reviewer picks a project
    assert session.project == "other"
    assert [t.scene_id for t in session.shown] == [takes[3]]
    assert len(app.queue.queue.objects) == 1
    session.character = "nobody"  # no take passes: the queue says so
    assert session.shown == []
    assert app.queue.queue.objects[0].object == "Nothing is waiting for review."
    session.show_queue()  # a filter that left the queue falls back to all
    assert session.character == ALL and app.queue.character_filter.value == ALL


def test_an_open_take_plays_its_video_in_the_browser_player_stepped_within_it(studio):
    settings, _, _ = studio
    app = logged_in(settings, "rita")
    session, player, video = app.session, app.session.player, app.picture.video
    session.open_take(session.shown[2])
    assert session.screen == "player" and app.player_view.visible
    # the browser plays the take's video from its media URL, named by its real frame times
    assert player.src.startswith("/media/") and player.src.endswith("scene.mp4")
    assert video.src == player.src and len(video.times) == player.total == FRAMES
    assert video.times == sorted(video.times) and video.fps == 12
    assert player.storyboard == b"\x89PNG storyboard"
    assert app.decisions.segment_label.object == "segment 0 · frames 0–2"
    assert [m["kind"] for m in video.markers] == ["segment", "seam"]
    assert [m["frame"] for m in video.markers] == [0, SEGMENT_FRAMES]

    player.step(-1)
    assert player.index == 0 and video.frame == 0
    player.step(+1)
    assert video.frame == 1
    video.frame = 4  # the browser shows frame 4 (a step, a scrub): the state follows
    assert player.index == 4
    assert app.decisions.reject_segment_button.label == "Reject segment 1"
    assert app.notes.add_note_button.label == "Note at frame 4"
    player.go_to(99)
    assert player.index == FRAMES - 1 and video.frame == FRAMES - 1

    player.toggle_play()
    assert player.playing and video.playing
    video.playing = False  # paused in the browser (K, the button, the end)
    assert not player.playing
    player.toggle_play()
    player.step(-1)  # a step pauses
    assert not player.playing and not video.playing

    drawing = {"version": 1, "frame": FRAMES - 2, "width": 32, "height": 32, "shapes": []}
    video.drawing = drawing  # drawn on the frame shown
    assert player.drawing == drawing
    player.step(-1)  # another frame: the drawing of the last one is dropped
    assert player.drawing is None and video.drawing is None
    player.step(+1)

    app.picture.onion.value = "previous"  # onion skin composes the frame on the server
    assert player.aid.over == (FRAMES - 3,) and index_of(player.aid.picture) == FRAMES - 2
    assert 'data-onion="3"' in app.picture.aid.object
    player.zoom_region = "centre"
    assert player.aid.zoomed.shape[:2] == (32, 32)
    assert 'data-region="centre"' in app.picture.zoomed.object
    app.picture.onion.value = "off"
    player.zoom_region = "off"
    assert player.aid is None and app.picture.aid.object == ""

    session.open_take(session.takes[0])  # no video stored: the refusal is said
    assert player.total == 0 and video.src == "" and video.times == []
    assert session.notice[1] == "danger" and app.decisions.notice.visible


def test_approving_with_an_open_note_asks_and_undo_brings_the_take_back(conn, studio):
    settings, takes, people = studio
    add_note(conn, people["paul"], takes[0], "the blink at 3 is doubled", frame=3)
    app = logged_in(settings, "rita")
    session = app.session
    first = session.takes[0]
    assert first.scene_id == takes[0]
    session.take = first  # the player's take (opening it would read its video)

    session.decide("approve")
    assert session.notice[1] == "warning" and "1 open note" in session.notice[0]
    assert session.pending_verb == "approve"
    assert app.decisions.confirm_button.visible
    assert app.decisions.confirm_button.label == "Approve anyway"
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0

    app.decisions.confirm_button.clicks += 1
    assert session.notice == ("approved — delivery requested", "success")
    assert not app.decisions.confirm_button.visible
    assert len(session.offer.decisions) == 1 and session.offer.seconds_left > 0
    assert app.decisions.undo.button.visible
    assert app.decisions.undo.button.label.startswith("Undo (")
    session.decide("approve")  # a second `a`
    assert session.notice == ("already approved by rita", "info")
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 1

    app.decisions.undo.button.clicks += 1
    assert "decision undone" in session.notice[0]
    assert session.offer.decisions == [] and not app.decisions.undo.button.visible
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    session.show_queue()
    assert [t.scene_id for t in session.takes] == takes


def test_approving_the_ticked_takes_at_once_and_undoing_them_from_the_queue(conn, studio):
    settings, takes, _ = studio
    app = logged_in(settings, "rita")
    session = app.session
    session.approve_selected()
    assert session.queue_notice == ("select the takes to approve first", "warning")
    for row in app.queue.queue.objects[:2]:
        row.objects[0].value = True  # tick takes 1 and 2
    assert sorted(session.selected) == takes[:2]

    session.approve_selected()
    assert session.queue_notice == ("2 takes approved", "success")
    assert [t.scene_id for t in session.shown] == takes[2:]
    assert session.selected == [] and len(session.queue_offer.decisions) == 2
    assert app.queue.undo.button.visible

    session.queue_offer.take_back()
    assert session.queue_notice == ("2 decisions undone — back in the queue for review", "info")
    assert [t.scene_id for t in session.shown] == takes
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0


def test_a_note_at_a_frame_is_replied_to_resolved_and_reopened(studio):
    settings, _, _ = studio
    app = with_the_video_take_open(settings, 2)
    session = app.session
    assert not session.write_note("")  # nothing typed: nothing sent
    app.notes.note_text.value_input = "the arm pops"
    app.notes.write_note()
    assert session.notice == ("note added at frame 2", "success")
    assert app.notes.note_text.value_input == ""
    [note] = session.notes
    assert (note.frame, note.author, note.status, note.body) == (2, "rita", "open", "the arm pops")

    session.start_reply(note)
    assert app.notes.reply_form.visible
    assert app.notes.reply_label.object == "Reply to **rita**'s note at frame 2:"
    app.notes.reply_text.value_input = "fixed in the next attempt"
    app.notes.write_reply()
    assert session.notice == ("reply added to rita's note", "success")
    assert session.replying_to is None and not app.notes.reply_form.visible
    assert [(n.body, n.depth) for n in session.notes] == [
        ("the arm pops", 0),
        ("fixed in the next attempt", 1),
    ]
    assert "note-depth-1" in app.notes.notes.objects[1].css_classes

    session.set_note_status(session.notes[0], resolved=True)
    assert session.notice == ("note resolved", "success")
    assert session.notes[0].status == "resolved"
    session.set_note_status(session.notes[0], resolved=False)
    assert session.notes[0].status == "open"

    session.player.jump_to(4)  # a note's frame button
    assert session.player.index == 4


def test_rejecting_the_segment_on_screen_needs_a_note_and_sends_it_back(studio):
    settings, _, _ = studio
    app = with_the_video_take_open(settings, 4)
    session = app.session
    session.toggle_reject_form()
    assert app.decisions.reject_form.visible
    assert not session.reject_segment("")
    message, kind = session.notice
    assert "say what is wrong with the segment" in message and kind == "danger"
    assert session.reject_segment("the arm pops")
    assert session.notice == ("segment 1 rejected — sent back for regeneration", "success")
    assert not session.rejecting and not app.decisions.reject_form.visible
    assert any("the arm pops" in n.body for n in session.notes)


def test_the_tray_lists_unread_notifications_and_marks_them_read(conn, studio):
    settings, takes, _ = studio
    notify(conn, "ready_for_review", {"scene_id": takes[0]}, "take 1 is ready", users=["rita"])
    app = logged_in(settings, "rita")
    session = app.session
    assert [n.body for n in session.unread] == ["take 1 is ready"]
    assert app.tray.badge.object == '<span class="tray-badge">1</span>'
    (row,) = app.tray.list.objects
    assert row.objects[-1].object == "**ready for review**: take 1 is ready"
    session.mark_all_read()
    assert session.unread == []
    assert app.tray.list.objects[0].object == "No unread notifications."


def test_an_expired_session_returns_to_the_login_form_saying_why(conn, studio):
    settings, _, _ = studio
    app = logged_in(settings, "rita")
    accounts.revoke_session(conn, accounts.sessions_of(conn, "rita")[0].id)
    app.session.open_take(app.session.shown[2])
    assert app.session.screen == "login" and app.login_view.visible
    assert not app.player_view.visible and app.token is None
    assert app.session.token is None and app.session.user is None
    assert "was revoked" in app.login.notice.object
    app.session.show_queue()  # nothing to act for any more
    assert app.session.screen == "login"


def test_a_refused_action_is_said_once_by_the_runner(conn, studio):
    settings, _, _ = studio
    app = logged_in(settings, "vic")
    session = app.session
    session.take = session.shown[0]
    session.decide("approve")  # a key press of a viewer reaches the service, which refuses
    message, kind = session.notice
    assert message.startswith("not allowed: ") and "'review'" in message and kind == "danger"
    assert app.decisions.notice.visible and app.decisions.notice.object == message
    assert session.pending_verb is None and session.offer.decisions == []
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    assert not session.write_note("a viewer's note") and session.notice[1] == "danger"


def test_a_session_needs_no_page_to_sign_in_and_decide(conn, studio):
    settings, _, _ = studio
    expired: list = []
    session = ReviewSession(settings.database_url, Storage(settings.storage_url), expired.append)
    login = accounts.authenticate(conn, "rita", PASSWORD, user_agent="test")
    session.sign_in(SignedIn(login.token, login.user, shortcuts_of(conn, login.user.id)))
    assert session.screen == "queue" and len(session.takes) == 4
    session.take = session.takes[1]
    session.decide("flag")
    assert session.notice == ("flagged by rita", "info")
    accounts.logout(conn, login.token)
    session.show_notes()
    assert [type(e).__name__ for e in expired] == ["SessionRefused"]


def test_the_state_and_the_action_runner_load_no_panel():
    # what a plain test drives is plain Python: Panel (and Bokeh) come only with the views
    code = (
        "import sys, apps.actions, apps.review_player, apps.review_state, apps.undo; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'panel', 'bokeh'}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
