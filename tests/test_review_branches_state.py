"""The review app's state for branches (PRD-50), in plain Python (no browser) against the
real catalog and real assembled takes: the open take's cell lists its branches with what
each changes, its QA, decision and which is current; a branch is played beside the open
take in the player's compare mode; promoting one asks first, is a producer's action, and
the queue then marks it current."""

import base64
import json

import pytest

from apps.review import ReviewApp
from apps.review_state import differs
from tests.branch_takes import assembled_take
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.branches import current_take
from trulience.config import Settings
from trulience.storage import Storage

PASSWORD = "s3cret-pass"
SEED_42 = {"seed": 42, "params": {"motion": 0.9}}


@pytest.fixture
def studio(conn, db_url, tmp_path):
    """paul (producer) and rita (reviewer); take 1 of ada/walk on main and take 2 on the
    branch seed-42, both assembled from real segments."""
    for name, role in [("paul", "producer"), ("rita", "reviewer")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    storage = Storage((tmp_path / "storage").as_uri())
    make_project(conn)
    main = assembled_take(conn, storage, tmp_path, 1)
    branch = assembled_take(conn, storage, tmp_path, 2, "seed-42", SEED_42)
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": storage.url}
    return Settings.from_env(env), main, branch


def media_key(url: str) -> str:
    """The stored object a signed media URL serves (its token's payload)."""
    payload = url.split("/")[2].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["key"]


def opened(settings: Settings, username: str, take: int = 1) -> ReviewApp:
    app = ReviewApp(settings)
    app.login.username.value, app.login.password.value = username, PASSWORD
    app.login.log_in()
    app.session.open_take(next(t for t in app.session.shown if t.take == take))
    return app


def test_the_open_takes_cell_lists_its_branches_and_which_is_current(studio):
    settings, main, branch = studio
    session = opened(settings, "paul").session
    rows = {row.take: row for row in session.branches}
    assert (rows[1].scene_id, rows[1].branch, rows[1].current) == (main, "main", True)
    assert (rows[2].scene_id, rows[2].branch, rows[2].current) == (branch, "seed-42", False)
    assert differs(rows[2].overrides) == "seed 42; params motion=0.9"
    assert differs(rows[1].overrides) == "the scene type's own configuration"
    assert (rows[2].status, rows[2].segments, rows[2].decision) == ("assembled", 3, None)
    assert session.marks[main] == ("main", True) and session.marks[branch] == ("seed-42", False)


def test_comparing_a_branch_plays_it_beside_the_open_take(studio):
    settings, _, branch = studio
    session = opened(settings, "rita").session
    player, row = session.player, next(r for r in session.branches if r.take == 2)
    assert player.compare_src == ""
    assert session.compare_branch(row)
    assert media_key(player.compare_src) == "scenes/demo/ada/walk/take2/proxy.mp4"
    assert media_key(player.src) == "scenes/demo/ada/walk/take1/proxy.mp4"
    assert len(player.compare_times) == 36 and session.compared.scene_id == branch
    assert "take 2 (seed-42) beside take 1" in session.notice[0]
    session.stop_comparing()
    assert (player.compare_src, player.compare_times, session.compared) == ("", [], None)

    # opened on the branch, "compare with current" plays the current take beside it
    branch_session = opened(settings, "rita", take=2).session
    own = next(r for r in branch_session.branches if r.take == 2)
    assert branch_session.compare_branch(own)
    assert media_key(branch_session.player.compare_src) == "scenes/demo/ada/walk/take1/proxy.mp4"


def test_promoting_a_branch_asks_first_then_makes_it_current_in_the_queue(conn, studio):
    settings, main, branch = studio
    session = opened(settings, "paul").session
    assert session.may_promote
    row = next(r for r in session.branches if r.take == 2)
    session.ask_promote(row)
    assert session.promoting == row and current_take(conn, main) == main
    assert "promote take 2 (seed-42) to the current take?" in session.notice[0]
    assert session.promote()
    assert session.promoting is None and current_take(conn, main) == branch
    assert [(r.take, r.current) for r in session.branches] == [(1, False), (2, True)]
    assert session.marks[branch] == ("seed-42", True) and session.marks[main] == ("main", False)
    assert "take 2 (seed-42) is now the current take of ada · walk" in session.notice[0]


def test_a_reviewer_may_not_promote_a_branch(conn, studio):
    settings, main, _ = studio
    session = opened(settings, "rita").session
    assert not session.may_promote
    session.ask_promote(next(r for r in session.branches if r.take == 2))
    assert not session.promote()
    message, kind = session.notice
    assert kind == "danger" and message.startswith("not allowed: ")
    assert "request_regeneration" in message
    assert current_take(conn, main) == main


def test_a_branch_not_yet_generated_is_listed_but_neither_compared_nor_promoted(conn, studio):
    settings, main, _ = studio
    pending = make_take(conn, take=3, status="pending")
    conn.execute("UPDATE scenes SET branch = 'calm' WHERE id = %s", (pending,))
    session = opened(settings, "paul").session
    row = next(r for r in session.branches if r.take == 3)
    assert (row.branch, row.status, row.current) == ("calm", "pending", False)
    assert not session.compare_branch(row)
    assert session.notice == ("take 3 (calm) has no video yet", "danger")
    assert session.player.compare_src == ""
    session.ask_promote(row)
    assert not session.promote()
    assert "only a generated or assembled take can be promoted" in session.notice[0]
    assert current_take(conn, main) == main


def test_the_states_compare_modes_are_the_browser_players():
    from apps import review_player, video_player

    assert review_player.COMPARE_MODES == video_player.COMPARE_MODES
