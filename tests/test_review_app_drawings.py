"""Drawn notes in the review app's state, in plain Python against the real catalog: the
player's drawing is saved with the note at the frame on screen and cleared, the take's drawn
notes come back as the player's overlays, and a drawing the service refuses is kept for
the reviewer to fix, with the refusal said."""

import io

import numpy as np
from PIL import Image

from tests.test_review_app_state import grey, studio, with_the_video_take_open  # noqa: F401
from trulience.storage import Storage


def drawing_on(frame: int, **shape) -> dict:
    """A one-arrow drawing on `frame` of take 3 (32 × 32)."""
    arrow = {"kind": "arrow", "from": [0.1, 0.9], "to": [0.9, 0.1], "color": "#ff3b30"}
    return {
        "version": 1,
        "frame": frame,
        "width": 32,
        "height": 32,
        "shapes": [arrow | {"width": 0.05} | shape],
    }


def test_the_drawing_on_screen_is_saved_with_the_note_and_comes_back_as_an_overlay(
    conn,
    studio,  # noqa: F811
):
    settings, _, _ = studio
    app = with_the_video_take_open(settings, 4)
    session = app.session
    assert session.overlays() == []
    session.player.drawing = drawing_on(4)
    assert session.write_note("the hand melts here")
    assert session.notice == ("drawn note added at frame 4", "success")
    assert session.player.drawing is None  # cleared for the next note
    [note] = session.notes
    assert (note.frame, note.drawing) == (4, drawing_on(4))
    assert session.overlays() == [{"frame": 4, "drawing": drawing_on(4)}]
    storage = Storage(settings.storage_url)
    picture = np.asarray(
        Image.open(io.BytesIO(storage.read_bytes(storage.key_of(note.drawing_uri))))
    )
    # flattened over frame 4 of the take's video: a corner away from the arrow is its grey
    assert abs(float(picture[0:4, 0:4].mean()) - float(grey(4).mean())) < 6
    # a note without a drawing stays undrawn and adds no overlay
    session.player.go_to(1)
    assert session.write_note("fine here")
    assert session.notice == ("note added at frame 1", "success")
    assert [n.drawing is None for n in session.notes] == [False, True]
    assert len(session.overlays()) == 1


def test_a_refused_drawing_is_said_and_kept_and_no_note_is_written(conn, studio):  # noqa: F811
    settings, _, _ = studio
    app = with_the_video_take_open(settings, 2)
    session = app.session
    for drawing, said in [
        (drawing_on(2, to=[1.5, 0.1]), "drawing shapes[0].to: x 1.5 is outside 0..1"),
        (drawing_on(3), "is of frame 3, but the note is at 2"),
    ]:
        session.player.drawing = drawing
        assert not session.write_note("too dark")
        message, kind = session.notice
        assert said in message and kind != "success"
        assert session.player.drawing == drawing  # the reviewer's drawing is not lost
    assert session.notes == []
    assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
