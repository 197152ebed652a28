"""The loop on a pool of two (fake) ComfyUI workers: registration and routing from their
catalogues, failover when a worker dies mid-segment, socket drops reconciled without
resubmission, every segment committed exactly once."""

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
from trulience.workers import health, pool
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
    assert result.scene.status == "generated" and result.plan == [12, 12, 12, 12]
    assert committed_once(studio, result.scene.id) == [1, 1, 1, 1]
    provenance = [s.provenance for s in scenes.current_segments(studio, result.scene.id).values()]
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
    assert result.scene.status == "generated"
    assert committed_once(studio, result.scene.id) == [1, 1, 1, 1]  # no duplicate segment
    workers_used = {
        s.provenance["backend_metadata"]["worker_name"]
        for s in scenes.current_segments(studio, result.scene.id).values()
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
    assert result.scene.status == "generated"
    assert len(a.submissions) == 4 and len(b.submissions) == 0  # one submission per segment
    reconciled = [
        s.provenance["backend_metadata"].get("reconciled", 0)
        for s in scenes.current_segments(studio, result.scene.id).values()
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
    generation.backend()  # registering again is a no-op
    with connect(db_url) as conn:
        assert sorted(w.url for w in pool.list_workers(conn)) == sorted(
            f.url.rstrip("/") for f in workers
        )
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
    assert "interrupt sent" in cli("workers", "interrupt", "gpu-a").output
    assert "memory freed" in cli("workers", "free", "gpu-a").output
    assert "draining" in cli("workers", "drain", "gpu-a").output
    workers[0].kill()
    checked = cli("workers", "check")
    assert "gpu-a" in checked.output and "draining" in checked.output
    assert cli("workers", "remove", "gpu-a").exit_code == 0
