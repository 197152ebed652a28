"""`trulience generate`: the configured backend (the ComfyUI pool when COMFYUI_WORKERS is
set), provenance that names only what ran, progress a person reads, and a complete take
left alone unless a new take is asked for."""

import pytest
from click.testing import CliRunner

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI
from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes
from trulience.cli import main
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.workers import pool


@pytest.fixture
def fake():
    with FakeComfyUI() as server:
        server.add_input("example.png", ASTRONAUT.read_bytes())
        yield server


@pytest.fixture
def studio(conn, storage, face_models, fake):
    """Eileen, ready, and a scene type whose segments a registered workflow makes."""
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    register_workflow(conn, "animatic", WORKFLOW, SLOTS, worker_url=fake.url)
    settings = {"workflow": "animatic", "target_duration_s": 2, "segment_duration_s": 1}
    define(conn, Definition("walk", "Walk", settings={**settings, "fps": 12, "width": 128,
                                                     "height": 128}))  # fmt: skip
    return conn


def generate(db_url, storage, tmp_path, *args, workers=()):
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "STORAGE_URL": storage.url,
        "COMFYUI_WORKERS": ",".join(workers),
    }
    return CliRunner().invoke(main, ["generate", "eileen", "walk", *args], env=env)


def provenance(conn):
    take = scenes.latest_take(conn, "moonbase", "eileen", "walk")
    return [s.provenance for s in scenes.current_segments(conn, take.id).values()]


def test_generate_runs_on_the_configured_pool_and_records_the_worker_and_workflow(
    studio, storage, db_url, fake, tmp_path
):
    result = generate(db_url, storage, tmp_path, workers=[fake.url])
    assert result.exit_code == 0, result.output
    assert "eileen/walk on the ComfyUI pool 'default'" in result.output
    assert len(fake.submissions) == 2  # every segment went to the worker
    (worker,) = pool.list_workers(studio)  # registered from COMFYUI_WORKERS, then checked
    assert worker.state == "online" and not worker.unchecked
    made = provenance(studio)
    assert [p["backend"] for p in made] == ["comfyui", "comfyui"]
    assert {p["worker"] for p in made} == {worker.name}
    assert {p["workflow"] for p in made} == {"animatic"}
    assert all(p["workflow_sha256"] and p["workflow_version"] == 1 for p in made)


def test_the_preview_backend_records_no_workflow_it_did_not_run(
    studio, storage, db_url, fake, tmp_path
):
    result = generate(db_url, storage, tmp_path)
    assert result.exit_code == 0, result.output
    assert "on the preview backend" in result.output
    assert not fake.submissions
    made = provenance(studio)
    assert [p["backend"] for p in made] == ["preview", "preview"]
    assert all(
        (p["workflow"], p["workflow_version"], p["workflow_sha256"], p["worker"])
        == (None, None, None, "local")
        for p in made
    )


def test_generate_prints_progress_lines_not_json(studio, storage, db_url, tmp_path):
    result = generate(db_url, storage, tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "{" not in result.output  # no event dumps
    assert any(line.startswith("take 1: 2 segments") for line in lines)
    assert any(line.startswith("segment 1 of 2, ") and "elapsed" in line for line in lines)
    assert any(line.startswith("segment 2 of 2, ") for line in lines)
    assert lines[-1] == "take 1: 2 segments, 24 frames (2 generated now)"


def test_a_complete_take_is_left_alone_unless_a_new_take_is_asked_for(
    studio, storage, db_url, tmp_path
):
    assert generate(db_url, storage, tmp_path).exit_code == 0
    again = generate(db_url, storage, tmp_path)
    assert again.exit_code == 0, again.output
    assert "eileen/walk take 1 is complete (generated, 24 frames)" in again.output
    assert "--new-take" in again.output
    assert scenes.latest_take(studio, "moonbase", "eileen", "walk").take == 1
    fresh = generate(db_url, storage, tmp_path, "--new-take")
    assert fresh.exit_code == 0, fresh.output
    assert scenes.latest_take(studio, "moonbase", "eileen", "walk").take == 2
