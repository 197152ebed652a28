"""The worker pool (PRD-46) and hardware monitoring (PRD-06) against the real catalog."""

import json
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trulience.catalog.database import connect
from trulience.catalog.errors import AlreadyExists, InvalidValue
from trulience.workers import pool, segment_queue
from trulience.workers.hardware import (
    record_samples,
    sample_local_gpus,
    samples_from_system_stats,
)

# recorded from a real ComfyUI 0.3.64 server (tests/data/comfyui/PROTOCOL.md)
CAPTURES = Path(__file__).resolve().parent / "data" / "comfyui" / "captures"
CAPABLE = {
    "node_classes": ["LoadImage", "SaveVideo", "TrulienceAnimatic"],
    "models": {"checkpoints": ["sdxl.safetensors"]},
}


@pytest.fixture
def workers(conn):
    for name, slots in (("gpu-a", 1), ("gpu-b", 2)):
        pool.add_worker(conn, f"http://127.0.0.1:81{len(name)}{slots}", "studio", slots, name)
        pool.record_health(conn, name, ok=True, capabilities=CAPABLE, catalogue_sha256="a" * 64)
    return conn


def test_registration_refuses_duplicates_and_bad_urls(workers):
    with pytest.raises(AlreadyExists):
        pool.add_worker(workers, "http://127.0.0.1:8152", "studio", 1, "gpu-a")
    with pytest.raises(InvalidValue) as err:
        pool.add_worker(workers, "gpu3:8188", "studio", 1, "gpu-c")
    assert err.value.field == "url"
    with pytest.raises(InvalidValue) as err:
        pool.add_worker(workers, "http://gpu3:8188", "studio", 0, "gpu-c")
    assert err.value.field == "slots"


def test_a_password_in_a_worker_url_is_in_neither_its_name_nor_an_error(conn):
    named = pool.add_worker(conn, "http://studio:hunter2@gpu3:8188/comfy", "studio")
    assert named.name == "gpu3-8188-comfy"
    with pytest.raises(AlreadyExists) as err:  # the refusal quotes the URL, masked
        pool.add_worker(conn, "http://studio:hunter2@gpu3:8188/comfy", "studio")
    assert "hunter2" not in str(err.value)


def test_leases_fill_the_least_loaded_worker_and_respect_slots(workers):
    taken = [pool.acquire(workers, "studio", f"run-{i}") for i in range(4)]
    assert [lease.worker if lease else None for lease in taken] == [
        "gpu-a",
        "gpu-b",
        "gpu-b",
        None,
    ]  # gpu-a is full at 1, gpu-b at 2
    pool.release(workers, taken[0].id, "done")
    assert pool.acquire(workers, "studio", "run-4").worker == "gpu-a"
    assert pool.get_worker(workers, "gpu-b").active_leases == 2


def test_concurrent_acquirers_never_share_a_slot(workers, db_url):
    results, barrier = [], threading.Barrier(6)

    def grab(i):
        with connect(db_url) as own:
            barrier.wait()
            lease = pool.acquire(own, "studio", f"thread-{i}")
            results.append(lease.worker if lease else None)

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r for r in results if r) == ["gpu-a", "gpu-b", "gpu-b"]
    assert results.count(None) == 3


def test_a_worker_being_leased_is_skipped_not_waited_for(workers, db_url):
    from trulience.catalog import workers as catalog

    gpu_a = pool.get_worker(workers, "gpu-a")
    with connect(db_url) as other, workers.transaction():
        assert catalog.online_slots_for_update_skip_locked(workers, gpu_a.id) == 1
        other.execute("SET lock_timeout = '2s'")  # a lock waited for fails the test
        started = time.monotonic()
        assert catalog.online_slots_for_update_skip_locked(other, gpu_a.id) is None
        lease = pool.acquire(other, "studio", "second")
        assert time.monotonic() - started < 5
    assert lease is not None and lease.worker == "gpu-b"


def test_expired_leases_free_the_slot_and_heartbeats_keep_it(workers):
    lease = pool.acquire(workers, "studio", "run-1", ttl_s=0.3)
    kept = pool.acquire(workers, "studio", "run-2", ttl_s=0.3)
    assert pool.heartbeat(workers, kept.id, ttl_s=30)
    time.sleep(0.4)
    assert not pool.heartbeat(workers, lease.id)  # the holder was too late: slot lost
    assert pool.sweep_expired(workers) == 1
    outcome = workers.execute(
        "SELECT outcome FROM worker_leases WHERE id = %s", (lease.id,)
    ).fetchone()[0]
    assert outcome == "expired"
    assert pool.get_worker(workers, kept.worker).active_leases == 1


def test_routing_follows_capabilities_and_draining(workers):
    needs = pool.Requirements(frozenset({"LoadImage", "KSampler"}))
    assert pool.acquire(workers, "studio", "run", requires=needs) is None
    assert pool.unmet(workers, "studio", needs) == {
        "gpu-a": ["node KSampler"],
        "gpu-b": ["node KSampler"],
    }
    model = pool.Requirements(
        frozenset({"LoadImage"}), {"checkpoints": frozenset({"flux.safetensors"})}
    )
    assert pool.unmet(workers, "studio", model)["gpu-a"] == ["model checkpoints/flux.safetensors"]
    pool.set_state(workers, "gpu-b", "draining")
    runnable = pool.Requirements(frozenset({"LoadImage"}))
    assert pool.acquire(workers, "studio", "r1", requires=runnable).worker == "gpu-a"
    assert pool.acquire(workers, "studio", "r2", requires=runnable) is None
    pool.record_health(workers, "gpu-b", ok=True)
    assert pool.get_worker(workers, "gpu-b").state == "draining"  # health does not undrain


def test_failing_health_checks_take_a_worker_offline_and_back(workers):
    for _ in range(pool.OFFLINE_AFTER - 1):
        assert pool.record_health(workers, "gpu-a", ok=False, error="timeout").state == "online"
    down = pool.record_health(workers, "gpu-a", ok=False, error="connection refused")
    assert down.state == "offline" and down.last_error == "connection refused"
    assert pool.acquire(workers, "studio", "run").worker == "gpu-b"
    assert pool.record_health(workers, "gpu-a", ok=True).state == "online"


def test_a_changed_node_catalogue_is_flagged(workers):
    drifted = pool.record_health(
        workers, "gpu-a", ok=True, capabilities=CAPABLE, catalogue_sha256="b" * 64
    )
    assert drifted.catalogue_drifted
    assert not pool.acknowledge_catalogue(workers, "gpu-a").catalogue_drifted


def test_a_worker_with_leases_is_not_removed_without_force(workers):
    pool.acquire(workers, "studio", "run")
    with pytest.raises(InvalidValue, match="drain it first"):
        pool.remove_worker(workers, "gpu-a")
    pool.remove_worker(workers, "gpu-a", force=True)
    assert [w.name for w in pool.list_workers(workers)] == ["gpu-b"]


def test_no_gpu_here_is_a_clear_state_not_an_error():
    local = sample_local_gpus()
    if local.samples:  # pragma: no cover - only on a machine with an NVIDIA GPU
        assert local.unavailable is None and local.samples[0].memory_total > 0
    else:
        assert local.unavailable.startswith("no NVIDIA GPU")


def test_worker_system_stats_are_recorded_over_time(workers):
    stats = json.loads((CAPTURES / "get" / "system_stats.json").read_text())
    samples = samples_from_system_stats(stats["response"]["body"]["json"])
    assert samples[0].device == "cpu:cpu" and samples[0].memory_total > 0
    worker = pool.get_worker(workers, "gpu-a")
    assert record_samples(workers, "worker:gpu-a", samples, worker.id) == 1
    assert record_samples(workers, "worker:gpu-a", samples, worker.id) == 1
    rows = workers.execute(
        "SELECT count(*) FROM hardware_samples WHERE worker_id = %s", (worker.id,)
    ).fetchone()[0]
    assert rows == 2


# what can happen to a worker between two looks at it
_EVENTS = st.lists(st.sampled_from(["fault", "check_failed", "check_passed", "segment_done"]))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=_EVENTS)
def test_a_worker_goes_offline_after_consecutive_faults_only(workers, events):
    workers.execute(
        "UPDATE workers SET failures = 0, last_error = NULL, state = 'online' WHERE name = 'gpu-a'"
    )
    run, offline = 0, False
    for event in events:
        if event == "fault":
            pool.record_fault(workers, "gpu-a", "segment lost")
        elif event == "check_failed":
            pool.record_health(workers, "gpu-a", ok=False, error="connection refused")
        elif event == "check_passed":
            pool.record_health(workers, "gpu-a", ok=True)
        else:
            pool.record_success(workers, "gpu-a")
        if event in ("fault", "check_failed"):
            run += 1
            offline = offline or run >= pool.OFFLINE_AFTER
        else:  # a success ends the run of faults; only a passing check brings it back
            run = 0
            offline = offline and event != "check_passed"
        worker = pool.get_worker(workers, "gpu-a")
        assert worker.failures == run
        assert worker.state == ("offline" if offline else "online")
        assert (worker.last_error is None) == (run == 0)


def test_a_wait_is_explained_worker_by_worker():
    def worker(name, state="online", capabilities=CAPABLE, leases=0, error=None):
        return pool.Worker(
            1, name, "http://x", "studio", 1, 1, state, capabilities, None, 0, error, False, leases
        )

    needs = pool.Requirements(frozenset({"LoadImage", "KSampler"}))
    said = pool.describe_wait(
        [
            worker("a", leases=1, capabilities={"node_classes": ["LoadImage", "KSampler"]}),
            worker("b", state="offline", error="connection refused"),
            worker("c", state="draining"),
            worker("d", capabilities={}),
            worker("e"),
        ],
        "studio",
        needs,
    )
    assert said == (
        "pool 'studio': a busy (1/1 slots); b offline (connection refused); c draining; "
        "d not checked yet; e lacks node KSampler"
    )
    assert "trulience workers add URL --pool studio" in pool.describe_wait([], "studio", needs)


# -- the segment queue (PRD-07, 08, 87) ---------------------------------------------------


@pytest.fixture
def one_worker(conn):
    """One worker with one slot and no segment queued beyond it."""
    pool.add_worker(conn, "http://127.0.0.1:8190", "studio", 1, "gpu-a", queue_depth=0)
    pool.record_health(conn, "gpu-a", ok=True, capabilities=CAPABLE, catalogue_sha256="a" * 64)
    return conn


def queued(conn) -> list[str]:
    return [w.holder for w in segment_queue.waiting(conn, "studio")]


def test_a_released_slot_goes_to_the_first_in_line_and_a_priority_change_reorders_the_line(
    one_worker,
):
    from tests.review_takes import make_project, make_take

    conn = one_worker
    make_project(conn)
    takes = {n: make_take(conn, take=n, status="generating") for n in (1, 2, 3)}
    first = segment_queue.request_slot(conn, "studio", "take-1", take_id=takes[1], segment=0)
    running = segment_queue.granted(conn, first)
    assert running is not None and running.worker == "gpu-a"  # a free slot is given at once
    waiting = {
        n: segment_queue.request_slot(conn, "studio", f"take-{n}", take_id=takes[n]) for n in (2, 3)
    }
    assert queued(conn) == ["take-2", "take-3"]  # oldest first
    segment_queue.set_take_priority(conn, takes[3], 10)
    assert queued(conn) == ["take-3", "take-2"]  # take 3 moved ahead at once
    assert [w.position for w in segment_queue.waiting(conn, "studio")] == [1, 2]
    pool.release(conn, running.id, "done")
    assert segment_queue.granted(conn, waiting[3]) is not None
    assert segment_queue.granted(conn, waiting[2]) is None and queued(conn) == ["take-2"]
    with pytest.raises(InvalidValue) as err:
        segment_queue.set_take_priority(conn, takes[2], 101)
    assert err.value.field == "priority"


def test_a_grant_is_announced_to_its_waiter_at_commit(one_worker, db_url):
    from trulience.catalog import events

    conn = one_worker
    running = segment_queue.granted(conn, segment_queue.request_slot(conn, "studio", "first"))
    second = segment_queue.request_slot(conn, "studio", "second")
    with connect(db_url) as listener:
        events.listen(listener, [events.POOL])
        pool.release(conn, running.id, "done")
        heard = [e.payload for e in events.events(listener, 2.0) if e.channel == events.POOL]
    assert {"request": second, "pool": "studio"} in heard


def test_a_worker_is_given_its_queue_depth_beyond_its_slots_then_segments_wait(conn):
    pool.add_worker(conn, "http://127.0.0.1:8191", "studio", 1, "gpu-a", queue_depth=1)
    pool.record_health(conn, "gpu-a", ok=True, capabilities=CAPABLE, catalogue_sha256="a" * 64)
    requests = [segment_queue.request_slot(conn, "studio", f"take-{n}") for n in range(3)]
    leases = [segment_queue.granted(conn, r) for r in requests]
    assert [lease.worker if lease else None for lease in leases] == ["gpu-a", "gpu-a", None]
    why = pool.describe_wait(pool.list_workers(conn, "studio"), "studio", None)
    assert "gpu-a busy (1/1 slots, 1 queued)" in why


def test_a_request_no_free_worker_can_run_lets_the_next_go_ahead(one_worker):
    conn = one_worker
    needs_more = pool.Requirements(frozenset({"UpscaleNode"}))
    picky = segment_queue.request_slot(conn, "studio", "picky", requires=needs_more)
    shunned = segment_queue.request_slot(
        conn, "studio", "lost-here", exclude=[pool.get_worker(conn, "gpu-a").id]
    )
    plain = segment_queue.request_slot(conn, "studio", "plain")
    assert (
        segment_queue.granted(conn, picky) is None and segment_queue.granted(conn, shunned) is None
    )
    assert segment_queue.granted(conn, plain).worker == "gpu-a"
    assert queued(conn) == ["picky", "lost-here"]


def test_giving_up_leaves_the_line_and_a_slot_granted_meanwhile_is_given_back(one_worker):
    conn = one_worker
    first = segment_queue.request_slot(conn, "studio", "first")
    second = segment_queue.request_slot(conn, "studio", "second")
    segment_queue.give_up(conn, second)  # still waiting: it just leaves the line
    assert queued(conn) == []
    segment_queue.give_up(conn, first)  # granted before its waiter gave up: the slot comes back
    assert pool.get_worker(conn, "gpu-a").active_leases == 0
    third = segment_queue.request_slot(conn, "studio", "third")
    assert segment_queue.granted(conn, third).worker == "gpu-a"


def test_a_worker_coming_back_online_takes_the_first_in_line(one_worker):
    conn = one_worker
    pool.set_state(conn, "gpu-a", "offline")
    waiting = segment_queue.request_slot(conn, "studio", "take-1")
    assert segment_queue.granted(conn, waiting) is None
    pool.set_state(conn, "gpu-a", "online")
    assert segment_queue.granted(conn, waiting).worker == "gpu-a"


def test_concurrent_requests_never_get_more_slots_than_there_are(one_worker, db_url):
    results: list[bool] = []

    def ask(n: int) -> None:
        with connect(db_url) as own:
            results.append(
                segment_queue.granted(own, segment_queue.request_slot(own, "studio", f"t{n}"))
                is not None
            )

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(segment_queue.waiting(one_worker, "studio")) == 7


def test_the_queue_from_the_command_line_shows_the_line_and_reorders_it(one_worker, db_url):
    from click.testing import CliRunner

    from tests.review_takes import make_project, make_take
    from trulience.cli import main

    conn = one_worker
    make_project(conn)
    takes = {n: make_take(conn, take=n, status="generating") for n in (1, 2, 3)}
    for n in (1, 2, 3):
        segment_queue.request_slot(
            conn,
            "studio",
            f"take-{n}",
            purpose=f"demo/ada/walk/take-{n} segment 0",
            take_id=takes[n],
        )

    def run(*args: str):
        return CliRunner().invoke(main, list(args), env={"DATABASE_URL": db_url})

    shown = run("queue", "--pool", "studio")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == "pool studio: 1 running, 2 waiting"
    assert "gpu-a" in lines[1] and "take-1 segment 0" in lines[1]
    assert lines[2].startswith("  #1 ") and "take-2" in lines[2] and "starts in unknown" in lines[2]
    assert run("queue", "priority", str(takes[3]), "5").exit_code == 0
    lines = run("queue", "--pool", "studio").output.splitlines()
    assert "take-3" in lines[2] and "priority    5" in lines[2] and "take-2" in lines[3]
    refused = run("queue", "priority", str(takes[2]), "500")
    assert refused.exit_code != 0 and "priority" in refused.output and "500" in refused.output
    unknown = run("queue", "priority", "999999", "1")
    assert unknown.exit_code != 0 and "999999" in unknown.output


def test_a_backend_used_by_a_run_is_closed_after_it_even_when_the_run_fails():
    from trulience.generation.preview import LocalPreviewBackend
    from trulience.workers.configured import closing_backend

    class Held:
        closed = 0

        def close(self) -> None:
            self.closed += 1

    held = Held()
    with pytest.raises(RuntimeError), closing_backend(held):
        raise RuntimeError("the run failed")
    assert held.closed == 1
    with closing_backend(LocalPreviewBackend()) as preview:  # holds nothing to close
        assert preview.name == "preview"
