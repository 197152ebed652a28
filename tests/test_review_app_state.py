"""The review app's state in plain Python (no browser): what a role sees enabled, the
open-notes question, and Undo, each through the same service calls the page makes."""

import pytest

from apps.review import ReviewApp
from tests.review_takes import assemble, make_project, make_take
from trulience.auth import users as accounts
from trulience.config import Settings
from trulience.review import add_note

PASSWORD = "s3cret-pass"


@pytest.fixture
def studio(conn, db_url, tmp_path):
    people = {
        name: accounts.create_user(conn, name, name.title(), role, PASSWORD)
        for name, role in [("vic", "viewer"), ("rita", "reviewer"), ("paul", "producer")]
    }
    make_project(conn)
    takes = [make_take(conn, take=n) for n in (1, 2)]
    for scene in takes:
        assemble(conn, scene, f"take {scene}")
    settings = Settings.from_env(
        {
            "DATABASE_URL": db_url,
            "TRULIENCE_HOME": str(tmp_path),
            "STORAGE_URL": (tmp_path / "storage").as_uri(),
        }
    )
    return settings, takes, people


def logged_in(settings: Settings, username: str) -> ReviewApp:
    app = ReviewApp(settings)
    app.login.username.value = username
    app.login.password.value = PASSWORD
    app.login.log_in()
    assert app.token is not None
    return app


def decision_controls(app: ReviewApp) -> list:
    return [
        *app.decision_buttons,
        app.open_reject,
        app.reject_segment_button,
        app.approve_selected_button,
    ]


def test_a_viewer_sees_every_decision_control_disabled_and_a_reviewer_enabled(studio):
    settings, _, _ = studio
    viewer = logged_in(settings, "vic")
    assert all(control.disabled for control in decision_controls(viewer))
    assert viewer.add_note_button.disabled
    reviewer = logged_in(settings, "rita")
    assert not any(control.disabled for control in decision_controls(reviewer))
    assert not reviewer.add_note_button.disabled


def test_approving_with_an_open_note_asks_and_undo_brings_the_take_back(conn, studio):
    settings, takes, people = studio
    add_note(conn, people["paul"], takes[0], "the blink at 3 is doubled", frame=3)
    app = logged_in(settings, "rita")
    (first, _) = app.takes
    assert first.scene_id == takes[0]
    app.take = first  # the player's take (opening it would decode its video)

    app.decide("approve")
    assert app.notice.alert_type == "warning" and "1 open note" in app.notice.object
    assert app.confirm_button.visible and app.confirm_button.label == "Approve anyway"
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0

    app.confirm_button.clicks += 1
    assert app.notice.object == "approved — delivery requested"
    assert app.undo.button.visible and app.undo.button.label.startswith("Undo (")
    app.decide("approve")  # a second `a`
    assert app.notice.object == "already approved by rita"
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 1

    app.undo.button.clicks += 1
    assert "decision undone" in app.notice.object
    assert not app.undo.button.visible
    assert conn.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    app.show_queue()
    assert [t.scene_id for t in app.takes] == takes
