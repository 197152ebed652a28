"""The pool knows which worker has which model (PRD-104): two fake ComfyUI workers with
different LoRAs in their folders, asked over GET /models/<folder> as real ComfyUI answers;
a take whose workflow loads a LoRA runs only where the LoRA is, and a segment no worker can
serve waits, saying why, where `trulience workers list` shows it."""

from functools import partial

import pytest
from click.testing import CliRunner

from tests.fakes.animatic import SLOTS, with_lora
from tests.fakes.comfyui import FakeComfyUI
from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes
from trulience.catalog.database import connect
from trulience.cli import main
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.generation.comfyui.errors import WorkflowValidationError
from trulience.generation.loop import LoopStopped, run_loop
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.workers import health, pool, segment_queue
from trulience.workers import models as model_service
from trulience.workers.pooled_backend import PooledBackend

LORA = "faces/eileen.safetensors"


@pytest.fixture
def workers():
    """gpu-a has another LoRA (and a file ComfyUI does not list), gpu-b has Eileen's."""
    base = {"checkpoints": ["base.safetensors"]}
    with (
        FakeComfyUI(models={**base, "loras": ["other.safetensors", "readme.txt"]}) as a,
        FakeComfyUI(models={**base, "loras": [LORA]}) as b,
    ):
        for fake in (a, b):
            fake.add_input("example.png", ASTRONAUT.read_bytes())
        yield a, b


@pytest.fixture
def studio(conn, storage, face_models, workers):
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    for name, fake in zip(("gpu-a", "gpu-b"), workers, strict=True):
        pool.add_worker(conn, fake.url, "studio", 1, name)
        assert health.check_worker(conn, name).state == "online"
    register_workflow(conn, "lora-walk", with_lora(LORA), SLOTS, worker_url=workers[1].url)
    settings = {"workflow": "lora-walk", "target_duration_s": 2, "segment_duration_s": 1}
    define(
        conn,
        Definition("walk", "Walk", settings={**settings, "fps": 12, "width": 128, "height": 128}),
    )
    return conn


def pooled(db_url, **options):
    factory = partial(ComfyUIBackend, segment_timeout_s=30, reconnect_timeout_s=2)
    options = {"wait_s": 10, "poll_s": 0.1, "recheck_s": 0.2, **options}
    return PooledBackend(db_url, "studio", backend_factory=factory, **options)


def test_each_worker_s_model_files_are_recorded_as_comfyui_lists_them(studio):
    a, b = pool.get_worker(studio, "gpu-a"), pool.get_worker(studio, "gpu-b")
    assert a.capabilities["models"]["loras"] == ["other.safetensors"]  # not readme.txt
    assert b.capabilities["models"]["loras"] == [LORA]
    where = model_service.where_models_are(studio)
    assert where[("loras", LORA)] == ["gpu-b"]
    assert where[("checkpoints", "base.safetensors")] == ["gpu-a", "gpu-b"]


def test_a_workflow_needing_a_lora_leases_only_workers_that_have_it(studio):
    requires = pool.Requirements.of_workflow(with_lora(LORA))
    assert requires.models == {
        "checkpoints": frozenset({"base.safetensors"}),
        "loras": frozenset({LORA}),
    }
    assert pool.unmet(studio, "studio", requires) == {"gpu-a": [f"model loras/{LORA}"], "gpu-b": []}
    first = pool.acquire(studio, "studio", "take-1", requires=requires)
    assert first.worker == "gpu-b"
    # gpu-b's one slot is taken; gpu-a is free but lacks the LoRA: nobody can take it
    assert pool.acquire(studio, "studio", "take-2", requires=requires) is None
    why = pool.describe_wait(pool.list_workers(studio, "studio"), "studio", requires)
    assert f"gpu-a lacks model loras/{LORA}" in why and "gpu-b busy (1/1 slots)" in why
    # a loader value that is no file (VAELoader's built-in decoders) asks nothing of a worker
    taesd = {"9": {"class_type": "VAELoader", "inputs": {"vae_name": "taesd"}}}
    assert pool.Requirements.of_workflow(taesd).models == {}
    # work that needs no LoRA still goes to gpu-a
    plain = pool.Requirements.of_workflow(with_lora("other.safetensors"))
    assert pool.acquire(studio, "studio", "take-3", requires=plain).worker == "gpu-a"


def test_a_workflow_is_refused_at_registration_on_a_worker_without_its_lora(studio, workers):
    with pytest.raises(WorkflowValidationError) as err:
        register_workflow(studio, "lora-walk", with_lora(LORA), SLOTS, worker_url=workers[0].url)
    assert LORA in str(err.value)


def test_the_loop_runs_a_lora_take_only_where_the_lora_is(
    studio, storage, db_url, workers, tmp_path
):
    a, b = workers
    result = run_loop(studio, storage, pooled(db_url), "eileen", "walk", tmp_path)
    assert result.take.status == "generated"
    used = {
        s.provenance["backend_metadata"]["worker_name"]
        for s in scenes.current_segments(studio, result.take.id).values()
    }
    assert used == {"gpu-b"}
    assert not a.submissions and len(b.submissions) == 2
    assert segment_queue.waiting(studio) == []


def test_a_segment_no_worker_can_serve_waits_saying_why_in_workers_list(
    studio, storage, db_url, workers, tmp_path
):
    workers[1].set_models("loras", [])  # the LoRA is gone from gpu-b too
    assert health.check_worker(studio, "gpu-b").state == "online"
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    shown: list[str] = []

    def look_then_cancel(_line):  # what an operator sees while the segment waits
        shown.append(CliRunner().invoke(main, ["workers", "list"], env=env).output)
        with connect(db_url, actor="producer") as other:
            take = scenes.latest_take(other, "moonbase", "eileen", "walk")
            scenes.set_take_control(other, take.id, "cancel", "producer")

    backend = pooled(db_url, wait_s=30, report_s=0.2, report=look_then_cancel)
    with pytest.raises(LoopStopped) as stopped:
        run_loop(studio, storage, backend, "eileen", "walk", tmp_path)
    assert stopped.value.status == "cancelled"
    listed = shown[0]
    assert "gpu-a" in listed and "2 model files" in listed  # base and the other LoRA
    assert "waiting since" in listed and "moonbase/eileen/walk/take-1 segment 0" in listed
    assert f"gpu-a lacks model loras/{LORA}" in listed
    assert f"gpu-b lacks model loras/{LORA}" in listed
    assert segment_queue.waiting(studio) == []  # the wait ended with the take
    assert not any(fake.submissions for fake in workers)


def test_a_segment_that_waits_too_long_fails_naming_the_missing_model(
    studio, storage, db_url, workers, tmp_path
):
    from trulience.generation.backend import TransientBackendError

    workers[1].set_models("loras", [])
    health.check_worker(studio, "gpu-b")
    with pytest.raises(TransientBackendError) as err:
        run_loop(studio, storage, pooled(db_url, wait_s=0.5), "eileen", "walk", tmp_path)
    assert f"lacks model loras/{LORA}" in str(err.value)
    assert segment_queue.waiting(studio) == []


def test_a_scene_type_says_which_models_it_needs_and_where_they_are(
    studio, storage, db_url, tmp_path
):
    lora = tmp_path / "eileen.safetensors"
    lora.write_bytes(b"weights of eileen" * 1000)
    model_service.add_model(studio, storage, lora, "loras", name=LORA)
    workflow, needs = model_service.needed_by_scene_type(studio, "walk")
    assert workflow == "lora-walk v1"
    assert [n.describe() for n in needs] == [
        "checkpoints/base.safetensors: NOT REGISTERED (`trulience models add`); on: gpu-a, gpu-b",
        f"loras/{LORA}: registered; on: gpu-b",
    ]
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    shown = CliRunner().invoke(main, ["models", "needed", "walk"], env=env)
    assert shown.exit_code == 0 and "generates with lora-walk v1" in shown.output
    assert f"loras/{LORA}: registered; on: gpu-b" in shown.output
