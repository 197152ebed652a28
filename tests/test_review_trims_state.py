"""The review app's state for trims and sensitivity, in plain Python (no browser) against
the real catalog and a real assembled take: `ReviewSession.trim` cuts the segment under the
frame on screen and shows the new revision; a sensitive take opens blurred (`sensitive`,
the blurred storyboard) until `reveal()`, for a user who blurs."""

import numpy as np
import pytest

from apps.review import ReviewApp
from apps.review_player import SegmentSpan
from apps.review_state import trim_from_points
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.auth.acting import Operator
from trulience.catalog.reviews import current_segment_at
from trulience.catalog.scenes import commit_segment
from trulience.config import Settings
from trulience.delivery.scene import assemble_take
from trulience.media.encode import encode_frames
from trulience.review.sensitivity import rate, set_show_sensitive
from trulience.storage import Storage

PASSWORD = "s3cret-pass"
SEGMENTS, FRAMES = 3, 12
FOLDER = "scenes/demo/ada/walk/take1"


@pytest.fixture
def studio(conn, db_url, tmp_path):
    """rita (reviewer) and vic (viewer); take 1 assembled from three real segments."""
    for name, role in [("rita", "reviewer"), ("vic", "viewer")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    storage = Storage((tmp_path / "storage").as_uri())
    make_project(conn)
    scene = make_take(conn, status="generated")
    conn.execute("UPDATE scenes SET planned_segments = %s WHERE id = %s", (SEGMENTS, scene))
    for index in range(SEGMENTS):
        clip = tmp_path / f"{index}.mp4"
        frames = (np.full((48, 64, 3), 30 + 60 * index + i, np.uint8) for i in range(FRAMES))
        encode_frames(frames, clip, 12, gop=6)
        stored = storage.put_file(f"{FOLDER}/{index}-1.mp4", clip)
        commit_segment(
            conn,
            scene,
            index,
            1,
            uri=stored.uri,
            sha256=stored.sha256,
            frames=FRAMES,
            provenance={"backend": "test"},
        )
    assemble_take(conn, storage, scene, tmp_path / "assembly")
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": storage.url}
    return Settings.from_env(env), storage, scene


def opened(settings: Settings, username: str) -> ReviewApp:
    app = ReviewApp(settings)
    app.login.username.value, app.login.password.value = username, PASSWORD
    app.login.log_in()
    app.session.open_take(app.session.shown[0])
    return app


def test_trimming_the_segment_on_screen_shows_the_new_revision(conn, studio):
    settings, _, scene = studio
    session = opened(settings, "rita").session
    session.player.go_to(FRAMES + 4)  # in segment 1
    assert session.trim(2, 1)
    assert session.take.revision == 2 and session.player.total == SEGMENTS * FRAMES - 3
    assert session.player.segment().index == 1 and session.player.index == FRAMES
    # segment 2 now starts 3 frames earlier, in the player and for a note at its first frame
    assert [s.start for s in session.player.segments] == [0, FRAMES, 2 * FRAMES - 3]
    assert current_segment_at(conn, scene, 2).start_frame == 2 * FRAMES - 3
    assert "segment 1 trimmed (head 2, tail 1): 33 frames, revision 2" in session.notice[0]
    refused = session.trim(FRAMES, 0)  # would leave nothing of segment 1's 12 frames
    assert not refused and "at least 1 frame" in session.notice[0]


def test_the_trim_panel_takes_its_frames_from_the_in_and_out_points(studio):
    settings, _, _ = studio
    session = opened(settings, "rita").session
    player = session.player
    player.go_to(FRAMES + 4)  # in segment 1, frames 12-23
    assert (session.trim_head, session.trim_tail) == (0, 0)
    player.in_point, player.out_point = FRAMES + 2, 2 * FRAMES - 2
    assert (session.trim_head, session.trim_tail) == (2, 1)
    session.trim_tail = 3  # typed: stays while stepping within the segment
    player.step(1)
    assert (session.trim_head, session.trim_tail) == (2, 3)
    assert session.trim_as_set()
    assert session.take.revision == 2 and player.total == SEGMENTS * FRAMES - 5
    # the panel now shows the standing trim; a new in point cuts on top of it
    assert (session.trims[1].head, session.trims[1].tail) == (2, 3)
    assert (session.trim_head, session.trim_tail) == (2, 3)
    player.in_point = FRAMES + 1
    assert (session.trim_head, session.trim_tail) == (3, 3)
    session.param.update(trim_head=9, trim_tail=3)
    assert not session.trim_as_set()
    assert "segment 1 has 12 frames; a trim must leave at least 1 frame" in session.notice[0]
    assert "9+3" in session.notice[0] and session.take.revision == 2


def test_in_and_out_points_outside_the_segment_cut_nothing():
    span = SegmentSpan(1, 12, 24)
    assert trim_from_points(span, None, None, None) == (0, 0)
    assert trim_from_points(span, None, 3, 30) == (0, 0)  # both outside segment 1
    assert trim_from_points(span, None, 12, 23) == (0, 0)  # the segment's own ends
    assert trim_from_points(None, None, 14, 20) == (0, 0)


def test_a_viewer_may_not_trim(studio):
    settings, _, _ = studio
    session = opened(settings, "vic").session
    session.player.go_to(1)
    assert not session.trim(1, 0)
    assert session.take.revision == 1


def test_a_sensitive_take_opens_blurred_until_revealed(conn, studio):
    settings, storage, _ = studio
    sharp = storage.read_bytes(f"{FOLDER}/storyboard.png")
    blurred = storage.read_bytes(f"{FOLDER}/storyboard.blur.png")
    session = opened(settings, "rita").session
    assert not session.sensitive and session.player.storyboard == sharp

    rate(conn, Operator("cli:ana"), "character", "ada", "sensitive")
    session.open_take(session.take)
    assert session.sensitive and session.player.storyboard == blurred
    session.reveal()
    assert not session.sensitive and session.player.storyboard == sharp

    set_show_sensitive(conn, Operator("cli:ana"), "rita", "show")
    session.open_take(session.take)
    assert not session.sensitive and session.player.storyboard == sharp
