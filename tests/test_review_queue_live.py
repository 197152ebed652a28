"""The live queue and branch list (PRD-11, PRD-92, PRD-50) in plain Python, against the real
catalog: what the catalog announces on `trulience_queue` (a decision, an assignment, a new
take, a promotion, a new revision, whoever made them), and a signed-in session that hears
it re-reading its queue (the ticked takes stay ticked) and the open take's branches, the
player left as it is. A new branch made from the session, and a refused one that stores
nothing.

The hub is the real one on the real database; its Bokeh document is the fake of
tests/test_live_events.py, whose queued callbacks the test runs.
"""

import functools
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from apps.live import Hub
from apps.review import ReviewApp
from apps.review_branches_view import OWN_WORKFLOW
from tests.branch_takes import branch_cell
from tests.review_takes import assemble
from tests.test_live_events import FakeDocument, wait_for
from trulience.auth import users as accounts
from trulience.catalog import events
from trulience.catalog.database import connect
from trulience.catalog.workflows import add_workflow
from trulience.config import Settings
from trulience.review import decide
from trulience.review.branches import create_branch, promote
from trulience.review.queue import assign
from trulience.storage import Storage

PASSWORD = "s3cret-pass"


@pytest.fixture
def studio(conn, db_url, tmp_path):
    """paul (producer) and rita (reviewer); take 1 of ada/walk on main and take 2 on the
    branch seed-42, both assembled from real segments and awaiting review."""
    people = {
        name: accounts.create_user(conn, name, name.title(), role, PASSWORD)
        for name, role in [("paul", "producer"), ("rita", "reviewer")]
    }
    storage = Storage((tmp_path / "storage").as_uri())
    main, branch = branch_cell(conn, storage, tmp_path)
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": storage.url}
    return Settings.from_env(env), people, main, branch


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    started = Hub(db_url, poll_s=0.05, backoff_s=(0.05, 0.2))
    yield started
    started.stop()


def logged_in(settings: Settings, username: str, live=None) -> ReviewApp:
    app = ReviewApp(settings)
    app.session.live = live  # before login: the session follows the queue from sign-in
    app.login.username.value, app.login.password.value = username, PASSWORD
    app.login.log_in()
    assert app.token is not None
    return app


class SessionDocument(FakeDocument):
    """The fake document as the queue's view asks it (no served session: thumbnails now)."""

    session_context = None


def on_document(hub: Hub, doc: FakeDocument) -> SimpleNamespace:
    """The hub as a served session sees it: its callbacks run on that session's document."""
    return SimpleNamespace(subscribe=functools.partial(hub.subscribe, doc=doc))


def heard(doc: FakeDocument) -> int:
    """Run the events that reached the document (waiting for the first)."""
    wait_for(lambda: bool(doc.ticks), what="a queue event")
    return doc.run_ticks()


def test_decisions_assignments_new_takes_and_promotions_are_announced(conn, db_url, studio):
    _, people, main, branch = studio
    with connect(db_url) as listener:
        events.listen(listener, [events.QUEUE])
        decide(conn, people["rita"], main, "flag", "hands")
        assign(conn, people["paul"], branch, "rita")
        new = create_branch(conn, people["paul"], main, "calm", seed=7)
        promote(conn, people["paul"], branch)
        assemble(conn, main, "take 1 reassembled")  # its revision 2 awaits review
        payloads = [e.payload for e in events.events(listener, 1.0)]
    said = {(p["kind"], p["action"], p["scene_id"]) for p in payloads}
    assert ("decision", "insert", main) in said
    assert ("assignment", "insert", branch) in said
    assert ("take", "insert", new.id) in said
    assert ("promotion", "update", branch) in said
    assert ("revision", "insert", main) in said
    assert all(set(p) == {"kind", "action", "scene_id"} for p in payloads)


def test_a_session_s_queue_follows_others_decisions_and_assignments_keeping_its_ticks(
    conn, studio, hub
):
    settings, people, main, branch = studio
    doc = SessionDocument()
    rita = logged_in(settings, "rita", on_document(hub, doc)).session
    rita.review_status = "(all)"
    rita.tick(main, True)
    rows_before = list(rita.shown)

    decide(conn, people["paul"], branch, "reject", "too dark")  # as the CLI would
    assert heard(doc) >= 1
    status = {t.scene_id: t.review_status for t in rita.shown}
    assert status[branch] == "rejected" and status[main] == rows_before[0].review_status
    assert rita.selected == [main]  # the tick stays

    assign(conn, people["paul"], main, "rita")
    heard(doc)
    assert {t.scene_id: t.assignee for t in rita.shown}[main] == "rita"
    assert rita.selected == [main]

    rita.sign_out()  # a signed-out session hears no more
    decide(conn, people["paul"], main, "approve", acknowledge_open_notes=True)
    assert hub.subscribers(0, events.QUEUE) == 0


def test_the_open_take_s_branches_follow_a_promotion_and_the_player_stays(conn, studio, hub):
    settings, people, main, branch = studio
    doc = SessionDocument()
    rita = logged_in(settings, "rita", on_document(hub, doc)).session
    rita.open_take(next(t for t in rita.shown if t.scene_id == main))
    rita.player.index = 5
    src, times = rita.player.src, list(rita.player.times)
    assert [(r.take, r.current) for r in rita.branches] == [(1, True), (2, False)]

    promote(conn, people["paul"], branch)
    heard(doc)
    assert [(r.take, r.current) for r in rita.branches] == [(1, False), (2, True)]
    assert rita.marks[branch] == ("seed-42", True)
    assert (rita.player.src, rita.player.times, rita.player.index) == (src, times, 5)
    assert rita.take is not None and rita.take.scene_id == main and rita.screen == "player"


def test_a_branch_made_in_the_session_waits_in_the_list(conn, studio):
    settings, _, main, _ = studio
    add_workflow(conn, "other-flow", {"1": {"class_type": "KSampler", "inputs": {}}})
    paul = logged_in(settings, "paul").session
    paul.open_take(next(t for t in paul.shown if t.scene_id == main))
    assert paul.branch_seed is not None and paul.branch_seed >= 0  # a new random seed
    assert ("other-flow", 1) in paul.workflows

    assert paul.make_branch("calm", 7, '{"motion": 0.2}', ("other-flow", 1))
    row = next(r for r in paul.branches if r.branch == "calm")
    assert (row.take, row.status, row.current) == (3, "pending", False)
    assert row.overrides == {
        "seed": 7,
        "params": {"motion": 0.2},
        "workflow": "other-flow",
        "workflow_version": 1,
        "from_take": main,
    }
    assert "branch calm: take 3 waits for the pipeline to generate it" in paul.notice[0]


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ('{"motion": 0.2', "branch params '{\"motion\": 0.2': is not valid JSON"),
        ("[1, 2]", "branch params '[1, 2]': must be a JSON object"),
    ],
)
def test_a_branch_with_bad_params_is_refused_naming_the_field_and_nothing_is_stored(
    conn, studio, params, said
):
    settings, _, main, _ = studio
    paul = logged_in(settings, "paul").session
    paul.open_take(next(t for t in paul.shown if t.scene_id == main))
    takes_before = conn.execute("SELECT count(*) FROM scenes").fetchone()[0]
    assert not paul.make_branch("calm", 7, params)
    message, kind = paul.notice
    assert kind == "danger" and message.startswith(said)
    assert conn.execute("SELECT count(*) FROM scenes").fetchone()[0] == takes_before
    assert [r.take for r in paul.branches] == [1, 2]


def test_a_reviewer_may_not_make_a_branch(conn, studio):
    settings, _, main, _ = studio
    rita = logged_in(settings, "rita").session
    rita.open_take(next(t for t in rita.shown if t.scene_id == main))
    assert not rita.make_branch("calm", 7)
    message, kind = rita.notice
    assert kind == "danger" and "request_regeneration" in message
    assert [r.take for r in rita.branches] == [1, 2]


def test_the_new_branch_form_makes_one_with_the_workflow_picked_and_empties(conn, studio):
    settings, _, main, _ = studio
    app = logged_in(settings, "paul")
    app.session.open_take(next(t for t in app.session.shown if t.scene_id == main))
    form = app.branches
    assert not form.make.disabled and form.workflow.options == [OWN_WORKFLOW, "animatic v1"]
    form.branch_name.value, form.params.value = "calm", "{"
    form.make.clicks += 1  # refused: the form keeps what was typed
    assert "branch params '{': is not valid JSON" in app.session.notice[0]
    assert (form.branch_name.value, form.params.value) == ("calm", "{")
    form.params.value, form.workflow.value = '{"motion": 0.1}', "animatic v1"
    form.make.clicks += 1
    row = next(r for r in app.session.branches if r.branch == "calm")
    assert row.overrides["workflow"] == "animatic" and row.overrides["workflow_version"] == 1
    assert row.status == "pending" and (form.branch_name.value, form.params.value) == ("", "")
    assert any("calm" in r.objects[0].object for r in form.rows.objects)
