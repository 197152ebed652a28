"""The queue page's state in plain Python against the real catalog (PRD-08, PRD-34): the
workers and the line as `trulience queue` shows them, a priority change reordering the line,
a take paused and cancelled (after asking), a worker drained by an operator and not by a
producer, a bad priority refused naming the field, every change audited under the user."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest

from apps.queue_state import QueueSession
from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.catalog.database import connect
from trulience.catalog.scenes import commit_segment, record_prompt, take_control
from trulience.config import Settings
from trulience.media.encode import encode_frames
from trulience.storage import Storage
from trulience.workers import pool, segment_queue

PASSWORD = "s3cret-pass"
# No loop renews these requests while they wait, nor the lease granted: both last as long as
# a test runs.
WAITER_ALIVE_S = 3600.0
CAPABLE = {"node_classes": ["SaveVideo"], "models": {}, "devices": ["NVIDIA L4"]}


@dataclass
class Line:
    """Take 1 running on gpu-a (segment 0 committed, segment 1 running), takes 2 and 3
    waiting in that order."""

    takes: dict[int, int]  # take number → scene id
    requests: dict[int, int]  # take number → its segment request
    storage: Storage | None = None
    work: Path | None = None


def commit_clip(
    conn: psycopg.Connection, storage: Storage, work: Path, scene_id: int, index: int
) -> None:
    """Commit segment `index` of a take from a real six-frame video (flat greys)."""
    clip = work / f"{scene_id}-{index}.mp4"
    frames = (np.full((48, 64, 3), 60 + 40 * index + i, np.uint8) for i in range(6))
    encode_frames(frames, clip, 12, gop=6)
    stored = storage.put_file(f"segments/{scene_id}/{index}-1.mp4", clip)
    commit_segment(
        conn, scene_id, index, 1, uri=stored.uri, sha256=stored.sha256, frames=6, provenance={}
    )


def line_up(conn: psycopg.Connection, storage: Storage, work: Path) -> Line:
    """paul (producer), olga (admin), vic (viewer); one worker of one slot in pool default;
    take 1 of ada/walk holds it, its segment 0 committed from a real video, takes 2 and 3
    wait for it."""
    for name, role in [("paul", "producer"), ("olga", "admin"), ("vic", "viewer")]:
        accounts.create_user(conn, name, name.title(), role, PASSWORD)
    pool.add_worker(conn, "http://127.0.0.1:8190", "default", 1, "gpu-a", queue_depth=0)
    pool.record_health(conn, "gpu-a", ok=True, capabilities=CAPABLE, catalogue_sha256="a" * 64)
    make_project(conn)
    takes = {n: make_take(conn, take=n, status="generating") for n in (1, 2, 3)}
    conn.execute("UPDATE scenes SET planned_segments = 3 WHERE id = %s", (takes[1],))
    commit_clip(conn, storage, work, takes[1], 0)
    requests = {}
    for n in (1, 2, 3):
        requests[n] = segment_queue.request_slot(
            conn,
            "default",
            "loop",
            purpose=f"demo/ada/walk/take-{n} segment {1 if n == 1 else 0}",
            take_id=takes[n],
            segment=1 if n == 1 else 0,
            alive_s=WAITER_ALIVE_S,
            ttl_s=WAITER_ALIVE_S,  # nor heartbeats take 1's lease
        )
    record_prompt(conn, takes[1], 1, "http://127.0.0.1:8190", "prompt-1")
    return Line(takes, requests)


@pytest.fixture
def studio(conn, db_url, tmp_path) -> tuple[Settings, Line]:
    storage = Storage((tmp_path / "storage").as_uri())
    line = line_up(conn, storage, tmp_path)
    line.storage, line.work = storage, tmp_path
    settings = Settings.from_env(
        {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": storage.url}
    )
    return settings, line


def signed_in(settings: Settings, username: str) -> QueueSession:
    session = QueueSession(settings)
    session.login.username.value = username
    session.login.password.value = PASSWORD
    session.login.log_in()
    assert session.user is not None, session.login.notice.object
    return session


def audited(db_url: str, table: str, column: str) -> list[tuple[str, object]]:
    with connect(db_url) as conn:
        return conn.execute(
            f"SELECT actor, after->>'{column}' FROM audit_log WHERE table_name = %s"
            " AND action = 'UPDATE' AND before->>%s IS DISTINCT FROM after->>%s ORDER BY id",
            (table, column, column),
        ).fetchall()


def test_the_page_shows_each_worker_running_and_the_line_in_order(studio):
    settings, line = studio
    session = signed_in(settings, "vic")
    (worker,) = session.workers
    assert (worker.name, worker.state, worker.gpu, worker.busy, worker.slots) == (
        "gpu-a",
        "online",
        "NVIDIA L4",
        1,
        1,
    )
    (running,) = worker.running
    assert (running.scene_id, running.segment, running.attempt) == (line.takes[1], 1, 1)
    assert running.label == "demo/ada/walk take 1"
    assert [(r.position, r.scene_id) for r in session.waiting] == [
        (1, line.takes[2]),
        (2, line.takes[3]),
    ]
    assert {r.estimate for r in session.waiting} == {"unknown"}  # no segment finished yet
    assert not session.may_reorder and not session.may_operate


def test_a_priority_change_reorders_the_line_and_is_audited_under_the_producer(studio, db_url):
    settings, line = studio
    session = signed_in(settings, "paul")
    assert session.set_priority(line.takes[3], "10")
    assert [r.scene_id for r in session.waiting] == [line.takes[3], line.takes[2]]
    assert session.waiting[0].priority == 10
    assert session.notice == (f"take #{line.takes[3]}: priority 10", "success")
    # raised by one from the drawer: take 2 goes ahead again
    session.open_take(line.takes[2])
    assert session.nudge_priority(line.takes[2], +11)
    assert [r.scene_id for r in session.waiting] == [line.takes[2], line.takes[3]]
    assert audited(db_url, "scenes", "priority") == [("user:paul", "10"), ("user:paul", "11")]
    # a change from elsewhere (the CLI's service) shows on the next read
    with connect(db_url) as conn:
        segment_queue.set_take_priority(conn, line.takes[3], 50)
    session.read()
    assert [r.scene_id for r in session.waiting] == [line.takes[3], line.takes[2]]


def test_a_bad_priority_is_refused_naming_the_field_and_nothing_changes(studio, db_url):
    settings, line = studio
    session = signed_in(settings, "paul")
    said = {
        "high": "take priority 'high': must be a whole number",
        "": "take priority '': must be a whole number",
        "500": "take priority 500: must be between -100 and 100",
    }
    for bad, message in said.items():
        assert not session.set_priority(line.takes[2], bad)
        assert session.notice == (message, "danger")
    assert [r.priority for r in session.waiting] == [0, 0]
    assert audited(db_url, "scenes", "priority") == []


def test_pause_and_resume_set_the_take_control_and_cancel_asks_first(studio, db_url):
    settings, line = studio
    session = signed_in(settings, "paul")
    take = line.takes[1]
    session.open_take(take)
    drawer = session.drawer
    assert (drawer.status, drawer.control, drawer.planned) == ("generating", "run", 3)
    (segment,) = drawer.segments
    assert segment.index == 0 and segment.picture.startswith("data:image/png;base64,")
    assert session.control(take, "pause")
    assert session.drawer.control == "pause"
    with connect(db_url) as conn:
        assert take_control(conn, take) == ("pause", "user:paul")
    assert session.control(take, "run") and session.drawer.control == "run"
    assert not session.control(take, "cancel")  # asks first
    assert session.asking.startswith(f"Cancel take #{take}?")
    session.dismiss()
    assert session.asking is None and session.drawer.control == "run"
    session.control(take, "cancel")
    assert session.confirm() and session.drawer.control == "cancel"
    # a segment committed meanwhile shows when the drawer is read again
    with connect(db_url) as conn:
        commit_clip(conn, line.storage, line.work, take, 1)
    session.read()
    assert [s.index for s in session.drawer.segments] == [0, 1]


def test_an_operator_drains_a_worker_and_a_producer_may_not(studio, db_url):
    settings, _line = studio
    producer = signed_in(settings, "paul")
    assert not producer.drain("gpu-a")
    assert producer.notice == (
        "not allowed: user 'paul' (role producer) does not have the permission 'operate_workers'",
        "danger",
    )
    assert producer.workers[0].state == "online"
    operator = signed_in(settings, "olga")
    assert operator.may_operate
    assert operator.drain("gpu-a")
    assert operator.workers[0].state == "draining"
    assert operator.notice == ("worker gpu-a: draining (1 running)", "success")
    assert audited(db_url, "workers", "state") == [("user:olga", "draining")]
    assert operator.undrain("gpu-a") and operator.workers[0].state == "online"


def test_freeing_a_lease_asks_then_gives_the_slot_to_the_first_in_line(studio):
    settings, line = studio
    operator = signed_in(settings, "olga")
    ((lease_id, holder),) = operator.workers[0].leases
    assert holder == "demo/ada/walk/take-1 segment 1"
    assert not operator.release("gpu-a", lease_id)
    assert "lease" in operator.asking
    assert operator.confirm()
    assert [r.scene_id for r in operator.waiting] == [line.takes[3]]  # take 2 got the slot


def test_the_page_built_in_plain_python_shows_the_queue_once_signed_in(studio):
    from apps.queue import QueueApp

    settings, line = studio
    app = QueueApp(settings)
    assert app.login.form.visible and not app.queue_view.visible
    app.login.username.value, app.login.password.value = "paul", PASSWORD
    app.login.log_in()
    assert app.queue_view.visible and not app.login.form.visible
    assert [type(o).__name__ for o in app.workers.list.objects] == ["FlexBox"]
    app.session.open_take(line.takes[1])
    assert app.drawer.box.visible and app.drawer.controls.visible
    assert "queue-segment-thumb" in app.drawer.segments.object


def test_a_grant_reaches_the_page_through_the_live_hub_on_the_pool_channel(studio, db_url):
    import threading

    from apps.live import EVERY_TAKE, Hub
    from apps.queue import CHANNELS
    from trulience.catalog import events

    settings, line = studio
    heard: list[dict] = []
    arrived = threading.Event()

    def hear(payload: dict) -> None:
        heard.append(payload)
        if "request" in payload:  # the grant (the lease released and taken come too)
            arrived.set()

    live = Hub(db_url, poll_s=0.05, channels=CHANNELS)
    try:
        live.subscribe(EVERY_TAKE, hear, events.POOL, doc=None)
        assert live.connected.wait(5), "the hub did not connect"
        operator = signed_in(settings, "olga")
        ((lease_id, _),) = operator.workers[0].leases
        operator.release("gpu-a", lease_id)
        assert operator.confirm()
        assert arrived.wait(10), "no grant was heard"
    finally:
        live.stop()
    grants = [p for p in heard if "request" in p]
    assert grants == [{"request": line.requests[2], "pool": "default"}]
    assert ("lease", "update") in {(p.get("kind"), p.get("action")) for p in heard}


def test_an_operator_interrupts_a_worker_after_asking_and_its_take_is_cancelled(studio, db_url):
    from tests.fakes.animatic import WORKFLOW
    from tests.fakes.comfyui import FakeComfyUI
    from tests.ingest_files import ASTRONAUT
    from trulience.generation.comfyui import ComfyUIClient

    settings, line = studio
    with FakeComfyUI() as fake:
        fake.add_input("example.png", ASTRONAUT.read_bytes())
        fake.slow(2.0)  # still running when the operator interrupts it
        with connect(db_url) as conn:
            pool.add_worker(conn, fake.url, "fake", 1, "gpu-f")
            running = ComfyUIClient(fake.url).submit(WORKFLOW, client_id="trulience")
            record_prompt(conn, line.takes[2], 0, fake.url, running.prompt_id)
        operator = signed_in(settings, "olga")
        operator.pool = "fake"
        assert [w.name for w in operator.workers] == ["gpu-f"]
        assert not operator.interrupt("gpu-f")
        assert operator.asking == "Interrupt worker gpu-f? The takes it runs are cancelled."
        assert operator.confirm()
        message, kind = operator.notice
    assert kind == "success" and "demo/ada/walk take 2 segment 0" in message
    assert f"prompt {running.prompt_id}" in message and "the take cancelled" in message
    with connect(db_url) as conn:
        assert take_control(conn, line.takes[2]) == ("cancel", "user:olga")


def test_the_batches_dagster_runs_or_will_run_are_listed_running_first(studio, db_url):
    from trulience.catalog.batches import NewBatch, insert_batch, insert_items
    from trulience.production.batch import record_launch

    settings, _line = studio
    with connect(db_url) as conn:
        ids = []
        for priority in (0, 5, 9):
            ids.append(insert_batch(conn, NewBatch("demo", priority, "paul", None, None, None, {})))
            insert_items(conn, ids[-1], ["ada"], ["walk"])
        record_launch(conn, ids[0], "backfill-abc")
        conn.execute("UPDATE batches SET status = 'cancelled' WHERE id = %s", (ids[2],))
    session = signed_in(settings, "vic")
    assert [(b.id, b.status, b.priority, b.backfill, b.items) for b in session.batches] == [
        (ids[0], "running", 0, "backfill-abc", 1),
        (ids[1], "queued", 5, None, 1),
    ]
