"""The loop on a pool of two (fake) ComfyUI workers: registration and routing from their
catalogues, failover when a worker dies mid-segment, socket drops reconciled without
resubmission, every segment committed exactly once."""

import threading
import time
from functools import partial

import pytest

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI
from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.generation.comfyui.errors import WorkflowValidationError
from trulience.generation.loop import run_loop
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.workers import health, pool, segment_queue
from trulience.workers.pooled_backend import PooledBackend


@pytest.fixture
def workers():
    with FakeComfyUI() as a, FakeComfyUI() as b:
        a.add_input("example.png", ASTRONAUT.read_bytes())
        b.add_input("example.png", ASTRONAUT.read_bytes())
        yield a, b


@pytest.fixture
def studio(conn, storage, face_models, workers):
    a, b = workers
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    for name, fake in (("gpu-a", a), ("gpu-b", b)):
        pool.add_worker(conn, fake.url, "studio", 1, name)
        assert health.check_worker(conn, name).state == "online"
    registered = register_workflow(conn, "animatic", WORKFLOW, SLOTS, worker_url=a.url)
    assert registered.validated_on == a.url
    define(
        conn,
        Definition(
            "walk",
            "Walk",
            settings={
                "workflow": "animatic",
                "target_duration_s": 4,
                "segment_duration_s": 1,
                "fps": 12,
                "width": 128,
                "height": 128,
            },
        ),
    )
    return conn


def pooled(db_url, **timeouts):
    factory = partial(
        ComfyUIBackend, segment_timeout_s=30, reconnect_timeout_s=2, idle_timeout_s=10, **timeouts
    )
    return PooledBackend(db_url, "studio", backend_factory=factory, wait_s=10, poll_s=0.2)


def committed_once(conn, scene_id):
    rows = conn.execute(
        "SELECT index, count(*) FROM segments WHERE scene_id = %s GROUP BY index ORDER BY index",
        (scene_id,),
    ).fetchall()
    return [n for _, n in rows]


def test_the_loop_runs_on_the_pool(studio, storage, db_url, workers, tmp_path):
    result = run_loop(studio, storage, pooled(db_url), "eileen", "walk", tmp_path)
    assert result.take.status == "generated" and result.plan == [12, 12, 12, 12]
    assert committed_once(studio, result.take.id) == [1, 1, 1, 1]
    provenance = [s.provenance for s in scenes.current_segments(studio, result.take.id).values()]
    assert {p["backend"] for p in provenance} == {"comfyui"}
    assert all(p["last_frame_source"] == "lossless" for p in provenance)
    assert provenance[1]["seed_frame_sha256"] == provenance[0]["last_frame_sha256"]
    assert sum(len(f.submissions) for f in workers) == 4
    leases = studio.execute("SELECT outcome, count(*) FROM worker_leases GROUP BY 1").fetchall()
    assert leases == [("done", 4)]


def test_a_worker_dying_mid_segment_finishes_the_scene_on_the_other(
    studio, storage, db_url, workers, tmp_path
):
    a = workers[0]
    a.slow(0.2)
    a.die_mid_run(after_nodes=2)  # crashes inside its first segment
    result = run_loop(studio, storage, pooled(db_url), "eileen", "walk", tmp_path)
    assert result.take.status == "generated"
    assert committed_once(studio, result.take.id) == [1, 1, 1, 1]  # no duplicate segment
    workers_used = {
        s.provenance["backend_metadata"]["worker_name"]
        for s in scenes.current_segments(studio, result.take.id).values()
    }
    assert workers_used == {"gpu-b"}
    outcomes = dict(
        studio.execute("SELECT outcome, count(*) FROM worker_leases GROUP BY 1").fetchall()
    )
    assert outcomes["done"] == 4 and outcomes["worker_lost"] >= 1
    dead = pool.get_worker(studio, "gpu-a")
    assert dead.failures >= 1 and dead.last_error
    health.check_pool(studio)
    assert pool.get_worker(studio, "gpu-a").failures >= 2  # still refusing connections


def test_a_dropped_socket_is_reconciled_without_resubmission(
    studio, storage, db_url, workers, tmp_path
):
    a, b = workers
    pool.set_state(studio, "gpu-b", "draining")  # everything on gpu-a
    a.slow(0.1)
    a.drop_socket_after(8)
    result = run_loop(studio, storage, pooled(db_url), "eileen", "walk", tmp_path)
    assert result.take.status == "generated"
    assert len(a.submissions) == 4 and len(b.submissions) == 0  # one submission per segment
    reconciled = [
        s.provenance["backend_metadata"].get("reconciled", 0)
        for s in scenes.current_segments(studio, result.take.id).values()
    ]
    assert sum(reconciled) >= 1


def test_a_workflow_the_worker_cannot_run_is_refused_at_registration(studio, workers):
    broken = {
        **WORKFLOW,
        "2": {**WORKFLOW["2"], "inputs": {**WORKFLOW["2"]["inputs"], "motion": "spin"}},
    }
    with pytest.raises(WorkflowValidationError) as err:
        register_workflow(studio, "broken", broken, SLOTS, worker_url=workers[0].url)
    assert "2" in str(err.value) and "motion" in str(err.value)
    assert studio.execute("SELECT count(*) FROM workflows WHERE name = 'broken'").fetchone() == (0,)


def test_comfyui_workers_setting_switches_the_loop_to_the_pool(db_url, tmp_path, workers):
    from resources import GenerationResource
    from trulience.catalog.database import connect

    generation = GenerationResource(
        home=str(tmp_path), database_url=db_url, comfyui_workers=[workers[0].url, workers[1].url]
    )
    backend = generation.backend()
    assert isinstance(backend, PooledBackend) and backend.pool == "default"
    with connect(db_url) as conn:
        assert pool.list_workers(conn) == []  # the resource only vends the backend
    preview = GenerationResource(home=str(tmp_path), database_url=db_url).backend()
    assert preview.name == "preview"


def test_workers_and_workflows_from_the_command_line(db_url, tmp_path, workers):
    import json

    from click.testing import CliRunner

    from trulience.cli import main

    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}

    def cli(*args):
        return CliRunner().invoke(main, list(args), env=env)

    added = cli("workers", "add", workers[0].url, "--pool", "studio", "--name", "gpu-a")
    assert added.exit_code == 0 and "gpu-a" in added.output and "online" in added.output
    assert "gpu-a" in cli("workers", "list").output
    graph = tmp_path / "animatic.json"
    graph.write_text(json.dumps(WORKFLOW))
    registered = cli("workflows", "add", "animatic", str(graph), "--slots", json.dumps(SLOTS))
    assert registered.exit_code == 0, registered.output
    assert f"validated on {workers[0].url.rstrip('/')}" in registered.output
    shown = json.loads(cli("workflows", "show", "animatic").output)
    assert shown["version"] == 1 and shown["slots"]["video"] == "4"
    ui = tmp_path / "ui.json"
    ui.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}))
    refused = cli("workflows", "add", "ui", str(ui), "--slots", json.dumps(SLOTS))
    assert refused.exit_code == 1 and "Export (API)" in refused.output
    interrupted = cli("workers", "interrupt", "gpu-a")  # nothing of ours runs there
    assert interrupted.exit_code == 0 and "gpu-a" in interrupted.output
    assert "memory freed" in cli("workers", "free", "gpu-a").output
    assert "draining" in cli("workers", "drain", "gpu-a").output
    workers[0].kill()
    checked = cli("workers", "check")
    assert "gpu-a" in checked.output and "draining" in checked.output
    assert cli("workers", "remove", "gpu-a").exit_code == 0


# -- one worker in real use: restarts, interrupts, consecutive faults, waiting -------------


def single(db_url, **options):
    """The pool as the studio has it, with only gpu-a taking work (gpu-b draining)."""
    factory = partial(
        ComfyUIBackend, segment_timeout_s=30, reconnect_timeout_s=2, idle_timeout_s=10
    )
    options = {"wait_s": 30, "poll_s": 0.1, "recheck_s": 0.2, **options}
    return PooledBackend(db_url, "studio", backend_factory=factory, **options)


def when_running(fake, action, after_s=0.3):
    """Run `action` once the fake has accepted its first prompt and run for `after_s`."""

    def watch():
        while not fake.submissions:
            time.sleep(0.02)
        time.sleep(after_s)
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def lease_outcomes(conn):
    return dict(conn.execute("SELECT outcome, count(*) FROM worker_leases GROUP BY 1").fetchall())


def test_a_lone_worker_restarting_mid_segment_takes_the_segment_again_once_healthy(
    studio, storage, db_url, workers, tmp_path
):
    a = workers[0]
    pool.set_state(studio, "gpu-b", "draining")
    a.slow(0.2)
    restarter = when_running(a, a.restart)
    result = run_loop(studio, storage, single(db_url), "eileen", "walk", tmp_path)
    restarter.join(5)
    assert result.take.status == "generated"
    assert committed_once(studio, result.take.id) == [1, 1, 1, 1]
    used = {
        s.provenance["backend_metadata"]["worker_name"]
        for s in scenes.current_segments(studio, result.take.id).values()
    }
    assert used == {"gpu-a"}
    assert lease_outcomes(studio) == {"done": 4, "worker_lost": 1}
    assert len(a.submissions) == 5  # the lost prompt, then each segment once
    worker = pool.get_worker(studio, "gpu-a")
    assert (worker.state, worker.failures) == ("online", 0)  # its successes ended the fault run


def test_an_interrupt_is_retried_on_the_same_worker_and_is_no_fault(
    studio, storage, db_url, workers, tmp_path
):
    from trulience.generation.comfyui.client import ComfyUIClient

    a = workers[0]
    pool.set_state(studio, "gpu-b", "draining")
    a.slow(0.2)

    def interrupt():
        with ComfyUIClient(a.url) as client:
            client.interrupt()  # another client's global interrupt, mid-run

    interrupter = when_running(a, interrupt)
    result = run_loop(studio, storage, single(db_url), "eileen", "walk", tmp_path)
    interrupter.join(5)
    assert result.take.status == "generated"
    assert lease_outcomes(studio) == {"done": 4, "interrupted": 1}
    worker = pool.get_worker(studio, "gpu-a")
    assert (worker.state, worker.failures, worker.last_error) == ("online", 0, None)


def test_a_lone_worker_that_stays_down_fails_the_segment_naming_the_first_cause(
    studio, storage, db_url, workers, tmp_path
):
    from trulience.generation.backend import TransientBackendError

    a = workers[0]
    pool.set_state(studio, "gpu-b", "draining")
    a.slow(0.1)
    a.die_mid_run(after_nodes=2)  # crashes inside its first segment and stays down
    with pytest.raises(TransientBackendError) as err:
        run_loop(studio, storage, single(db_url, wait_s=1), "eileen", "walk", tmp_path)
    message = str(err.value)
    # what went wrong to begin with comes first, then the wait it led to
    assert message.startswith("segment 0 of moonbase/eileen/walk/take-1 failed: gpu-a: ")
    assert "no worker free for" in message and "gpu-a offline" in message


def test_faults_are_consecutive_a_finished_segment_ends_the_run_of_them(
    studio, storage, db_url, workers, tmp_path
):
    pool.set_state(studio, "gpu-b", "draining")
    for _ in range(2):  # two blips, hours ago
        pool.record_health(studio, "gpu-a", ok=False, error="connection reset")
    run_loop(studio, storage, single(db_url), "eileen", "walk", tmp_path)
    assert pool.get_worker(studio, "gpu-a").failures == 0
    for _ in range(2):  # two more, later: still no three in a row
        pool.record_health(studio, "gpu-a", ok=False, error="connection reset")
    worker = pool.get_worker(studio, "gpu-a")
    assert (worker.state, worker.failures) == ("online", 2)


def test_a_worker_known_only_by_its_url_is_checked_before_its_first_lease(
    conn, storage, db_url, face_models, tmp_path
):
    from trulience.workers.configured import backend_for, register_configured_workers

    with FakeComfyUI() as fresh:
        fresh.add_input("example.png", ASTRONAUT.read_bytes())
        projects.create_project(conn, "moonbase", "Moonbase")
        characters.create_character(conn, "eileen", "Eileen", {}, ["moonbase"])
        add_image_file(conn, storage, "eileen", ASTRONAUT)
        assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
        register_workflow(conn, "animatic", WORKFLOW, SLOTS, worker_url=fresh.url)
        walk = {"workflow": "animatic", "target_duration_s": 1, "segment_duration_s": 1}
        define(
            conn,
            Definition("walk", "Walk", settings={**walk, "fps": 12, "width": 64, "height": 64}),
        )
        # as COMFYUI_WORKERS names it: registered, never checked
        register_configured_workers(conn, [fresh.url])
        backend = backend_for(db_url, [fresh.url])
        backend.wait_s = 5
        (unchecked,) = pool.list_workers(conn)
        assert unchecked.unchecked
        result = run_loop(conn, storage, backend, "eileen", "walk", tmp_path)
    assert result.take.status == "generated"
    (checked,) = pool.list_workers(conn)
    assert "TrulienceAnimatic" in checked.capabilities["node_classes"]
    assert checked.last_seen_at is not None


def take_all_of_gpu_a(conn) -> None:
    """Other takes' segments hold gpu-a's one slot and the place queued beyond it."""
    animatic = pool.Requirements(frozenset({"TrulienceAnimatic"}))
    for _ in range(2):
        request = segment_queue.request_slot(conn, "studio", "another-take", requires=animatic)
        assert segment_queue.granted(conn, request).worker == "gpu-a"


def test_a_waiting_segment_says_what_it_waits_for(studio, storage, db_url, workers, tmp_path):
    from trulience.generation.backend import TransientBackendError

    pool.set_state(studio, "gpu-b", "draining")
    pool.add_worker(studio, "http://127.0.0.1:9", "studio", 1, "gpu-c")
    pool.record_health(studio, "gpu-c", ok=True, capabilities={"node_classes": ["LoadImage"]})
    take_all_of_gpu_a(studio)
    heard: list[str] = []
    backend = single(db_url, wait_s=1, report_s=0.2, report=heard.append)
    with pytest.raises(TransientBackendError) as err:
        run_loop(studio, storage, backend, "eileen", "walk", tmp_path)
    assert heard, "a waiting segment said nothing"
    assert all(line.startswith("moonbase/eileen/walk/take-1 segment 1: waiting") for line in heard)
    last = heard[-1]
    assert "gpu-a busy (1/1 slots, 1 queued)" in last and "gpu-b draining" in last
    assert "gpu-c lacks node CreateVideo" in last and "node TrulienceAnimatic" in last
    assert "gpu-a busy (1/1 slots, 1 queued)" in str(err.value)


def test_a_take_cancelled_while_waiting_for_a_worker_stops_waiting(
    studio, storage, db_url, workers, tmp_path
):
    from trulience.catalog.database import connect
    from trulience.generation.loop import LoopStopped

    pool.set_state(studio, "gpu-b", "draining")
    take_all_of_gpu_a(studio)

    def cancel(_line):  # the producer gives up once told what the take waits for
        with connect(db_url, actor="producer") as other:
            take = scenes.latest_take(other, "moonbase", "eileen", "walk")
            scenes.set_take_control(other, take.id, "cancel", "producer")

    backend = single(db_url, wait_s=30, report_s=0.2, report=cancel)
    with pytest.raises(LoopStopped) as stopped:
        run_loop(studio, storage, backend, "eileen", "walk", tmp_path)
    assert stopped.value.status == "cancelled" and stopped.value.by == "producer"
    # it stopped because of the cancel, not after waiting out wait_s
    assert "cancelled by producer while it waited for a worker" in str(stopped.value.__cause__)
    assert not workers[0].submissions


def test_workers_list_says_which_worker_is_not_checked_yet(db_url, tmp_path, workers):
    from click.testing import CliRunner

    from trulience.catalog.database import connect
    from trulience.cli import main
    from trulience.workers.configured import register_configured_workers

    with connect(db_url) as conn:  # as COMFYUI_WORKERS registers it
        (name,) = register_configured_workers(conn, [workers[0].url])
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    listed = CliRunner().invoke(main, ["workers", "list"], env=env)
    assert listed.exit_code == 0 and f"{name}" in listed.output
    assert "not checked yet" in listed.output and "0 node classes" not in listed.output
    assert CliRunner().invoke(main, ["workers", "check"], env=env).exit_code == 0
    listed = CliRunner().invoke(main, ["workers", "list"], env=env)
    assert "not checked yet" not in listed.output and "node classes" in listed.output
