"""Live events (PRD-11): what the catalog announces on a note or a decision, and the hub that
hands each event to the sessions subscribed to its take, on their own document.

Against the real embedded Postgres; the Bokeh document is a fake that queues next-tick
callbacks as Bokeh does and runs them when the test says.
"""

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from apps.live import Hub
from tests.review_takes import assemble, make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog import events
from trulience.catalog import users as catalog_users
from trulience.catalog.database import connect
from trulience.catalog.records import User
from trulience.review import add_note, decide, undo_decision

PASSWORD = "s3cret-pass"


class FakeDocument:
    """A Bokeh document as the hub sees it: next-tick callbacks queue until `run_ticks`;
    `destroy()` runs the session-destroyed callbacks."""

    def __init__(self):
        self.ticks: list[Callable[[], None]] = []
        self.destroyed: list[Callable[[object], None]] = []
        self.lock = threading.Lock()
        self.closed = False

    def add_next_tick_callback(self, callback: Callable[[], None]) -> None:
        if self.closed:
            raise RuntimeError("document has no session")
        with self.lock:
            self.ticks.append(callback)

    def on_session_destroyed(self, *callbacks: Callable[[object], None]) -> None:
        self.destroyed.extend(callbacks)

    def run_ticks(self) -> int:
        with self.lock:
            due, self.ticks = self.ticks, []
        for callback in due:
            callback()
        return len(due)

    def destroy(self) -> None:
        for callback in self.destroyed:
            callback(object())


def wait_for(condition: Callable[[], bool], timeout: float = 5, what: str = "it") -> float:
    """Seconds until `condition()` holds (failing after `timeout`)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - start


@pytest.fixture
def studio(conn: psycopg.Connection) -> dict[str, int]:
    """Two assembled takes; rita, a reviewer."""
    accounts.create_user(conn, "rita", "Rita", "reviewer", PASSWORD)
    make_project(conn)
    take, other = make_take(conn, take=1), make_take(conn, take=2)
    assemble(conn, take, "take 1", frames=24)
    assemble(conn, other, "take 2", frames=24)
    return {"take": take, "other": other}


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    started = Hub(db_url, poll_s=0.05, backoff_s=(0.05, 0.2))
    unsubscribe = started.subscribe(0, lambda _: None, doc=FakeDocument())  # starts it
    assert started.connected.wait(5), "the hub did not connect"
    unsubscribe()
    yield started
    started.stop()


def rita(conn: psycopg.Connection) -> User:
    return catalog_users.get_user(conn, "rita")


def test_a_note_and_a_decision_are_announced_on_commit_with_their_take(conn, db_url, studio):
    with connect(db_url) as listener:
        events.listen(listener, [events.REVIEW])
        note = add_note(conn, rita(conn), studio["take"], "hands drift", frame=12)
        decision = decide(conn, rita(conn), studio["take"], "reject", acknowledge_open_notes=True)
        undo_decision(conn, rita(conn), decision.review_id)
        heard = [e.payload for e in events.events(listener, 1.0)]
    assert heard[0] == {
        "kind": "note",
        "action": "insert",
        "scene_id": studio["take"],
        "id": note.id,
        "by": "Rita",
        "frame": 12,
        "reply": False,
    }
    decisions = [p for p in heard if p["kind"] == "decision"]
    assert {p["action"] for p in decisions} >= {"insert", "delete"}
    assert all(p["scene_id"] == studio["take"] and p["by"] == "Rita" for p in decisions)
    assert decisions[-1] == {
        "kind": "decision",
        "action": "delete",
        "scene_id": studio["take"],
        "id": decision.review_id,
        "by": "Rita",
        "decision": decisions[-1]["decision"],
    }


def test_a_rolled_back_note_is_never_announced(conn, db_url, studio):
    with connect(db_url) as listener:
        events.listen(listener, [events.REVIEW])
        with pytest.raises(psycopg.errors.RaiseException), conn.transaction():
            add_note(conn, rita(conn), studio["take"], "never kept", frame=3)
            conn.execute("DO $$ BEGIN RAISE EXCEPTION 'changed my mind'; END $$")
        assert list(events.events(listener, 0.3)) == []


def test_publish_refuses_an_unknown_channel_and_a_payload_notify_cannot_carry(conn):
    with pytest.raises(events.UnknownChannel, match="'trulience_chat' is not one of"):
        events.publish(conn, "trulience_chat", {"room": 1})
    with pytest.raises(events.EventTooLarge, match=r"payload is \d+ bytes; NOTIFY carries"):
        events.publish(conn, events.ROOM, {"room": 1, "presenter": "x" * 8000})


def test_events_skip_a_stray_notify_that_is_not_a_json_object(conn, db_url):
    with connect(db_url) as listener:
        events.listen(listener, [events.ROOM])
        conn.execute("SELECT pg_notify('trulience_room', 'not json')")
        conn.execute("SELECT pg_notify('trulience_room', '[1, 2]')")
        events.publish(conn, events.ROOM, {"room": 7, "frame": 3})
        heard = list(events.events(listener, 0.3))
    assert heard == [events.Event(events.ROOM, {"room": 7, "frame": 3})]


def test_hub_runs_a_take_s_events_on_each_subscribed_session_document(conn, studio, hub):
    page_a, page_b, elsewhere = FakeDocument(), FakeDocument(), FakeDocument()
    heard: dict[str, list[dict]] = {"a": [], "b": [], "other": []}
    hub.subscribe(studio["take"], heard["a"].append, doc=page_a)
    hub.subscribe(studio["take"], heard["b"].append, doc=page_b)
    hub.subscribe(studio["other"], heard["other"].append, doc=elsewhere)

    start = time.monotonic()
    note = add_note(conn, rita(conn), studio["take"], "too fast", frame=5)
    wait_for(lambda: page_a.ticks and page_b.ticks, what="the note reaching both sessions")
    print(f"\nnote to the sessions' documents in {1000 * (time.monotonic() - start):.1f} ms")
    # nothing runs on the listener thread: only on the document's next tick
    assert heard["a"] == heard["b"] == []
    page_a.run_ticks(), page_b.run_ticks()
    assert [p["id"] for p in heard["a"]] == [p["id"] for p in heard["b"]] == [note.id]
    assert elsewhere.ticks == [] and heard["other"] == []


def test_unsubscribed_and_destroyed_sessions_hear_nothing_more(conn, studio, hub):
    kept, gone, closed = FakeDocument(), FakeDocument(), FakeDocument()
    heard: list[dict] = []
    hub.subscribe(studio["take"], heard.append, doc=kept)
    unsubscribe = hub.subscribe(studio["take"], heard.append, doc=gone)
    hub.subscribe(studio["take"], heard.append, doc=closed)
    unsubscribe()
    closed.destroy()
    assert hub.subscribers(studio["take"]) == 1
    add_note(conn, rita(conn), studio["take"], "once", frame=1)
    wait_for(lambda: kept.ticks, what="the note reaching the kept session")
    assert kept.run_ticks() == 1 and gone.ticks == [] and closed.ticks == []


def test_a_session_whose_document_refuses_callbacks_is_dropped(conn, studio, hub):
    doc = FakeDocument()
    hub.subscribe(studio["take"], lambda _: None, doc=doc)
    doc.closed = True
    add_note(conn, rita(conn), studio["take"], "to nobody", frame=1)
    wait_for(lambda: hub.subscribers(studio["take"]) == 0, what="the closed session dropped")


def test_a_failing_callback_does_not_stop_the_hub(conn, studio, hub):
    doc = FakeDocument()
    heard: list[dict] = []

    def broken(_payload: dict) -> None:
        raise ValueError("a session's bug")

    hub.subscribe(studio["take"], broken, doc=doc)
    hub.subscribe(studio["take"], heard.append, doc=doc)
    add_note(conn, rita(conn), studio["take"], "first", frame=1)
    wait_for(lambda: len(doc.ticks) == 2, what="both callbacks scheduled")
    doc.run_ticks()
    add_note(conn, rita(conn), studio["take"], "second", frame=2)
    wait_for(lambda: len(doc.ticks) == 2, what="the hub still delivering")
    doc.run_ticks()
    assert [p["frame"] for p in heard] == [1, 2]


def test_hub_reconnects_after_its_connection_is_killed_and_says_resync(conn, studio, hub):
    doc = FakeDocument()
    heard: list[dict] = []
    hub.subscribe(studio["take"], heard.append, doc=doc)
    # what a database restart does to the listener: its backend is terminated
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    wait_for(lambda: doc.ticks, what="the resync after reconnecting")
    doc.run_ticks()
    assert heard == [{"kind": "resync", "scene_id": studio["take"]}] and hub.connected.is_set()
    add_note(conn, rita(conn), studio["take"], "after the restart", frame=4)
    wait_for(lambda: doc.ticks, what="a note after reconnecting")
    doc.run_ticks()
    assert heard[-1]["kind"] == "note" and heard[-1]["frame"] == 4


def test_room_events_reach_the_room_s_subscribers_through_the_hub_s_publish(studio, hub):
    doc = FakeDocument()
    heard: list[dict] = []
    hub.subscribe(studio["take"], heard.append, channel=events.ROOM, doc=doc)
    hub.publish(events.ROOM, {"room": studio["take"], "frame": 9, "playing": False})
    hub.publish(events.ROOM, {"room": studio["other"], "frame": 1, "playing": True})
    wait_for(lambda: doc.ticks, what="the room event")
    time.sleep(0.2)
    doc.run_ticks()
    assert heard == [{"room": studio["take"], "frame": 9, "playing": False}]


def test_what_reorders_or_changes_a_pool_is_announced_on_trulience_pool(conn, db_url, studio):
    """The queue page re-reads on each of these, whoever makes the change (migration 0036);
    renewals are not announced."""
    from trulience.workers import pool, segment_queue

    with connect(db_url) as listener:
        events.listen(listener, [events.POOL])
        pool.add_worker(conn, "http://127.0.0.1:1", pool="gpu", name="gpu-a")
        first = segment_queue.request_slot(conn, "gpu", "take-1", take_id=studio["other"])
        # the worker's one place in its own queue (queue_depth 1) takes the second
        segment_queue.request_slot(conn, "gpu", "take-2", take_id=studio["take"])
        segment_queue.set_take_priority(conn, studio["take"], 5)
        conn.execute("UPDATE segment_requests SET alive_until = now() + interval '1 minute'")
        conn.execute("UPDATE worker_leases SET heartbeat_at = now()")  # renewals: quiet
        pool.set_state(conn, "gpu-a", "draining")
        pool.release(conn, segment_queue.granted(conn, first).id, "done")
        heard = [e.payload for e in events.events(listener, 1.0)]
    told = [(p.get("kind"), p.get("action"), p.get("pool"), p.get("scene_id")) for p in heard]
    assert told == [
        ("worker", "insert", "gpu", None),
        ("request", "insert", "gpu", studio["other"]),
        ("lease", "insert", "gpu", None),
        (None, None, "gpu", None),  # the grant its waiter matches by request id
        ("request", "insert", "gpu", studio["take"]),
        ("lease", "insert", "gpu", None),
        (None, None, "gpu", None),
        ("take", "update", None, studio["take"]),
        ("worker", "update", "gpu", None),
        ("lease", "update", "gpu", None),
    ]
    assert heard[3]["request"] == first
