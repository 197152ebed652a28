"""Workflow regression tests (PRD-65) end to end on a fake ComfyUI worker: a golden take made
through the loop, re-run on each new workflow version with its seeds and compared frame by
frame; a degraded version fails naming SSIM and PSNR and is kept out of production batches
until a version passes (or a producer overrides, recorded); bad input is refused, named."""

import copy

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from dagster import build_sensor_context, instance_for_test

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI
from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes
from trulience.catalog.errors import AlreadyExists, InvalidValue, NotFound
from trulience.catalog.source_images import list_source_images
from trulience.cli import main
from trulience.config import Settings
from trulience.faces.crops import make_variants
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.generation.loop import run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.ingest.identity import embed_character
from trulience.ingest.variants import store_variants, variant_sizes
from trulience.library import add_image_file
from trulience.media.encode import H264Writer
from trulience.media.frames import read_frames
from trulience.media.image_decode import load_image
from trulience.production import regression
from trulience.production.batch import (
    BatchRefused,
    BatchRequest,
    InvalidBatch,
    create_batch,
    record_launch,
)
from trulience_assets.definitions import build_definitions

SETTINGS = {
    "workflow": "walk-wf",
    "target_duration_s": 2,
    "segment_duration_s": 1,
    "fps": 12,
    "width": 128,
    "height": 128,
}


def same_output(graph: dict) -> dict:
    """The graph with only its last-frame file renamed: a new version, the same pictures."""
    changed = copy.deepcopy(graph)
    changed["6"]["inputs"]["filename_prefix"] = "final"
    return changed


def degraded(graph: dict) -> dict:
    """The graph with a third of an inverted copy blended into every frame: washed out."""
    changed = copy.deepcopy(graph)
    changed["7"] = {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}}
    changed["8"] = {
        "class_type": "ImageBlend",
        "inputs": {
            "image1": ["2", 0],
            "image2": ["7", 0],
            "blend_factor": 0.35,
            "blend_mode": "normal",
        },
    }
    changed["3"]["inputs"]["images"] = ["8", 0]
    changed["5"]["inputs"]["image"] = ["8", 0]
    return changed


@pytest.fixture(scope="module")
def worker():
    with FakeComfyUI() as fake:
        fake.add_input("example.png", ASTRONAUT.read_bytes())
        yield fake


@pytest.fixture
def backend(worker):
    return ComfyUIBackend(worker.url, segment_timeout_s=60, reconnect_timeout_s=2)


@pytest.fixture
def studio(conn, storage, face_models, worker):
    """A ready character (primary image, identity, variants), workflow walk-wf v1 and the
    scene type 'walk' on it."""
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    embed_character(conn, storage, face_models, "eileen")
    register_workflow(conn, "walk-wf", WORKFLOW, SLOTS, worker_url=worker.url)
    define(conn, Definition("walk", "Walk", settings=SETTINGS))
    primary = next(i for i in list_source_images(conn, "eileen") if i.is_primary)
    pixels = load_image(storage, primary).pixels
    box = face_models.detector.detect(pixels)[0].box
    store_variants(
        conn, storage, "eileen", primary, make_variants(pixels, box, variant_sizes(conn))
    )
    return conn


@pytest.fixture
def golden(studio, storage, backend, face_models, tmp_path):
    """A take of eileen walking, made through the loop on v1, made a golden of walk-wf."""
    made = run_loop(
        studio, storage, backend, "eileen", "walk", tmp_path / "loop", faces=face_models
    )
    assert made.take.status == "generated"
    return regression.add_golden(studio, "walk-wf", made.take.id, "producer:pat", "the reference")


def regress(conn, storage, backend, faces, tmp_path, version=None):
    return regression.run_regression(
        conn,
        storage,
        backend,
        "walk-wf",
        tmp_path / "regress",
        version=version,
        requested_by="tester",
        faces=faces,
    )


def new_version(conn, worker, graph) -> int:
    """Register `graph` as the next version of walk-wf and move 'walk' onto it."""
    registered = register_workflow(conn, "walk-wf", graph, SLOTS, worker_url=worker.url)
    define(conn, Definition("walk", "Walk", settings=SETTINGS))
    return registered.workflow.version


def batch(**changes) -> BatchRequest:
    values = {
        "project": "moonbase",
        "characters": ("eileen",),
        "scene_types": ("walk",),
        "requested_by": "producer:pat",
    }
    return BatchRequest(**(values | changes))


def test_a_golden_records_its_take_and_seeds_and_is_kept_out_of_the_takes(golden, studio):
    assert golden.workflow == "walk-wf" and golden.workflow_version == 1
    assert (golden.character, golden.scene_type, golden.take) == ("eileen", "walk", 1)
    assert golden.seeds == [0, 1]  # the increment seed policy, one per segment
    assert golden.approved is False and golden.chosen_by == "producer:pat"
    assert [g.id for g in regression.list_goldens(studio, "walk-wf")] == [golden.id]


def test_the_same_pictures_from_a_new_version_pass_with_ssim_one(
    golden, studio, storage, backend, face_models, worker, tmp_path
):
    before = len(scenes.list_takes(studio))
    version = new_version(studio, worker, same_output(WORKFLOW))
    assert version == 2
    assert not regression.clearance_of(studio, "walk-wf", 2).cleared  # goldens, never run
    outcome = regress(studio, storage, backend, face_models, tmp_path)
    assert outcome.run.status == "passed", outcome.report
    assert (outcome.run.workflow, outcome.run.version) == ("walk-wf", 2)
    (result,) = outcome.results
    assert result.verdict == "passed" and result.failures == []
    assert result.figures["mean_ssim"] > 0.999 and result.figures["min_psnr_db"] > 45
    segment = result.figures["segments"][0]
    assert segment["frames"] == segment["golden_frames"] == 12
    assert len(segment["ssim"]) == 12 and segment["seed"] == 0
    assert segment["identity"] is not None and segment["identity_drop"] <= 0.05
    assert all(segment["gates"].values()) and segment["gates"] == segment["golden_gates"]
    # re-running made no take: the takes lists and the review queue do not show it
    assert len(scenes.list_takes(studio)) == before
    # the report is stored, in markdown and JSON
    assert storage.read_bytes(storage.key_of(outcome.run.report_uri)).startswith(
        b"# Regression run"
    )
    assert b'"verdict": "passed"' in storage.read_bytes(storage.key_of(outcome.run.report_json_uri))
    cleared = regression.clearance_of(studio, "walk-wf", 2)
    assert cleared.cleared and cleared.note == f"passed regression run {outcome.run.id}"
    # a pass judged by looser thresholds than today's no longer clears the version
    regression.set_thresholds(studio, "walk-wf", "pat", min_ssim=0.999)
    stricter = regression.clearance_of(studio, "walk-wf", 2)
    assert not stricter.cleared
    assert stricter.note == f"thresholds tightened since passing run {outcome.run.id}; run it again"
    regression.set_thresholds(studio, "walk-wf", "pat", min_ssim=0.9)
    assert regression.clearance_of(studio, "walk-wf", 2).cleared


def test_a_degraded_version_fails_naming_ssim_and_psnr_and_blocks_batches(
    golden, studio, storage, backend, face_models, worker, tmp_path
):
    # goldens and no run yet: the version the scene type uses is not cleared
    with pytest.raises(InvalidBatch) as refused:
        create_batch(studio, batch())
    assert "workflow walk-wf v1 is not cleared for production: never run" in str(refused.value)
    assert regress(studio, storage, backend, face_models, tmp_path, version=1).run.status == (
        "passed"
    )
    allowed, _plan = create_batch(studio, batch())  # v1 passed: allowed

    version = new_version(studio, worker, degraded(WORKFLOW))
    outcome = regress(studio, storage, backend, face_models, tmp_path)
    assert outcome.run.status == "failed"
    (result,) = outcome.results
    assert result.figures["mean_ssim"] < 0.95
    failures = "\n".join(result.failures)
    assert "segment 0: mean SSIM" in failures and "below the minimum 0.9500" in failures
    assert "mean PSNR" in failures and "below the minimum 30.00 dB" in failures
    assert "## Golden" in outcome.report and "mean SSIM" in outcome.report

    with pytest.raises(InvalidBatch) as refused:
        create_batch(studio, batch())
    message = str(refused.value)
    assert f"workflow walk-wf v{version} is not cleared for production" in message
    assert f"regression run {outcome.run.id} failed" in message and "mean SSIM" in message
    # the batch made while v1 was in use cannot launch on the degraded version either
    with pytest.raises(BatchRefused) as held:
        record_launch(studio, allowed.id, "backfill-1")
    assert f"workflow walk-wf v{version}" in str(held.value)

    # an override says why and is recorded with who asked
    overridden, _plan = create_batch(studio, batch(override_regression="deadline, seen by eye"))
    row = studio.execute(
        "SELECT overridden_by, reason, not_cleared FROM regression_overrides WHERE batch_id = %s",
        (overridden.id,),
    ).fetchone()
    assert row[0] == "producer:pat" and row[1] == "deadline, seen by eye"
    assert "mean SSIM" in row[2]
    assert record_launch(studio, overridden.id, "backfill-2").status == "running"
    with pytest.raises(InvalidBatch, match="a regression override must say why"):
        create_batch(studio, batch(override_regression="  "))


def test_a_changed_model_makes_the_version_due_again(
    golden, studio, storage, backend, face_models, tmp_path
):
    assert [(d.workflow, d.version) for d in regression.due(studio)] == [("walk-wf", 1)]
    regress(studio, storage, backend, face_models, tmp_path, version=1)
    assert regression.due(studio) == []
    assert regression.clearance_of(studio, "walk-wf").cleared
    # the workflow now loads a model file; registering it changes the model set
    studio.execute(
        "INSERT INTO workflow_models (workflow_id, folder, filename, node_id, input_name) "
        "VALUES (%s, 'loras', 'eileen.safetensors', '9', 'lora_name')",
        (golden_workflow_id(studio),),
    )
    again = regression.clearance_of(studio, "walk-wf")
    assert not again.cleared
    assert again.note == "never run on the current models (a model changed)"
    assert [(d.workflow, d.version) for d in regression.due(studio)] == [("walk-wf", 1)]


def golden_workflow_id(conn) -> int:
    return conn.execute(
        "SELECT id FROM workflows WHERE name = 'walk-wf' AND version = 1"
    ).fetchone()[0]


def test_a_workflow_without_goldens_is_cleared_with_a_note(studio):
    c = regression.clearance_of(studio, "walk-wf")
    assert c.cleared and c.note == "no goldens: cleared without a regression run"
    assert regression.due(studio) == []
    with pytest.raises(regression.NoGoldens, match="walk-wf"):
        regression.run_regression(studio, None, None, "walk-wf", None, requested_by="tester")


def test_bad_input_is_refused_naming_the_value(golden, studio, storage, backend, tmp_path):
    with pytest.raises(NotFound, match="nowhere"):
        regression.add_golden(studio, "nowhere", golden.scene_id, "pat")
    with pytest.raises(NotFound):
        regression.add_golden(studio, "walk-wf", 999_999, "pat")
    with pytest.raises(AlreadyExists, match="already exists"):
        regression.add_golden(studio, "walk-wf", golden.scene_id, "pat")
    register_workflow(studio, "other-wf", same_output(WORKFLOW), SLOTS)
    with pytest.raises(
        regression.InvalidGolden, match="made with workflow 'walk-wf', not 'other-wf'"
    ):
        regression.add_golden(studio, "other-wf", golden.scene_id, "pat")
    unfinished = scenes.create_take(
        studio, "moonbase", "eileen", "walk", golden.effective_config, planned_segments=2
    )
    with pytest.raises(regression.InvalidGolden, match="is not complete: status pending, 0 of 2"):
        regression.add_golden(studio, "walk-wf", unfinished.id, "pat")
    for changes, field in [
        ({"min_ssim": 1.5}, "min_ssim 1.5"),
        ({"min_ssim": 0}, "min_ssim 0"),
        ({"min_psnr_db": -3}, "min_psnr_db -3"),
        ({"max_identity_drop": 2}, "max_identity_drop 2"),
    ]:
        with pytest.raises(InvalidValue, match=field):
            regression.set_thresholds(studio, "walk-wf", "pat", **changes)
    assert regression.thresholds(studio, "walk-wf").min_ssim == 0.95  # nothing written
    with pytest.raises(NotFound, match="nowhere"):
        regression.set_thresholds(studio, "nowhere", "pat", min_ssim=0.9)
    changed = regression.set_thresholds(studio, "walk-wf", "pat", min_psnr_db=35)
    assert (changed.min_ssim, changed.min_psnr_db, changed.updated_by) == (0.95, 35.0, "pat")


def test_the_sensor_asks_once_for_a_due_version_and_the_job_clears_it(
    studio, storage, face_models, db_url, tmp_path
):
    """Daemon-free: the regression sensor evaluated with build_sensor_context, its run
    request executed in process on the configured backend (the local preview here)."""
    made = run_loop(
        studio,
        storage,
        LocalPreviewBackend(),
        "eileen",
        "walk",
        tmp_path / "loop",
        faces=face_models,
    )
    regression.add_golden(studio, "walk-wf", made.take.id, "producer:pat")
    c = regression.clearance_of(studio, "walk-wf")
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "STORAGE_URL": storage.url,
    }
    defs = build_definitions(Settings.from_env(env))
    sensor = defs.resolve_sensor_def("regression_sensor")
    with instance_for_test() as instance:

        def evaluate():
            return sensor(
                build_sensor_context(instance=instance, resources=defs.resources, definitions=defs)
            )

        (request,) = evaluate().run_requests
        assert request.run_key == f"regression:{c.workflow_id}:{c.models_fingerprint}"
        assert request.tags["trulience/workflow_version"] == "1"
        executed = defs.resolve_job_def("regression").execute_in_process(
            run_config=request.run_config, instance=instance, tags=request.tags
        )
        assert executed.success
        assert evaluate().skip_reason.skip_message == "no workflow version is due a regression run"
    cleared = regression.clearance_of(studio, "walk-wf")
    assert cleared.cleared and cleared.finished_status == "passed"
    (run,) = regression.runs(studio, "walk-wf")
    assert run.requested_by == f"dagster:{executed.run_id}" and run.reason == "never run"


def test_the_cli_adds_lists_and_removes_goldens_and_sets_thresholds(golden, db_url, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}

    def cli(*args: str):
        return CliRunner().invoke(main, ["workflows", *args], env=env)

    listed = cli("golden", "list", "walk-wf")
    assert listed.exit_code == 0 and "eileen/walk take 1" in listed.output
    assert "seeds [0, 1]" in listed.output
    shown = cli("clearance", "walk-wf")
    assert "v1" in shown.output and "NOT cleared" in shown.output and "never run" in shown.output
    batch_args = ["batch", "create", "--project", "moonbase", "--characters", "eileen"]
    batch_args += ["--scene-types", "walk", "--dry-run"]
    held = CliRunner().invoke(main, batch_args, env=env)
    assert held.exit_code == 1 and "workflow walk-wf v1 is not cleared" in held.output
    overridden = CliRunner().invoke(
        main, [*batch_args, "--override-regression", "deadline, seen by eye"], env=env
    )
    assert overridden.exit_code == 0 and "dry run: the batch would" in overridden.output
    bad = cli("thresholds", "walk-wf", "--ssim", "1.2")
    assert bad.exit_code == 1 and "min_ssim 1.2: must be a mean SSIM above 0" in bad.output
    set_ = cli("thresholds", "walk-wf", "--ssim", "0.9", "--psnr", "32")
    assert set_.exit_code == 0 and "mean SSIM >= 0.9, mean PSNR >= 32.0 dB" in set_.output
    unknown = cli("golden", "add", "nowhere", str(golden.scene_id))
    assert unknown.exit_code == 1 and "nowhere" in unknown.output
    removed = cli("golden", "remove", str(golden.id))
    assert removed.exit_code == 0 and f"golden {golden.id} of walk-wf removed" in removed.output
    assert "no goldens" in cli("golden", "list").output
    again = cli("clearance")
    assert "cleared" in again.output and "no goldens: cleared without a regression run" in (
        again.output
    )


def test_a_deliberately_degraded_golden_fails_the_check_on_that_segment(
    golden, studio, storage, backend, face_models, tmp_path
):
    """The acceptance case: the golden's second segment blurred and noised in storage, so
    the same workflow's honest re-run no longer matches it there."""
    reference = scenes.current_segments(studio, golden.scene_id)[1]
    original = storage.local_file(storage.key_of(reference.uri), tmp_path)
    spoiled = tmp_path / "spoiled.mp4"
    noise = np.random.default_rng(7)
    with H264Writer(spoiled, 12, 128, 128) as writer:
        for frame in read_frames(original):
            blurred = cv2.GaussianBlur(frame, (9, 9), 3).astype(np.int16)
            writer.write(
                np.clip(blurred + noise.integers(-40, 41, frame.shape), 0, 255).astype(np.uint8)
            )
        writer.close()
    storage.put_file(storage.key_of(reference.uri), spoiled)
    outcome = regress(studio, storage, backend, face_models, tmp_path, version=1)
    assert outcome.run.status == "failed"
    (result,) = outcome.results
    assert all(f.startswith("segment 1: ") for f in result.failures), result.failures
    assert any("mean SSIM" in f for f in result.failures)
    assert any("mean PSNR" in f for f in result.failures)
    first, second = result.figures["segments"]
    assert first["mean_ssim"] > 0.999 and second["mean_ssim"] < 0.95
    assert not regression.clearance_of(studio, "walk-wf", 1).cleared
