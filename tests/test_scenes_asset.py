"""The `segments` asset: the loop per character x scene type partition, with retries for
transient backend trouble and a clear failure for permanent problems."""

from pathlib import Path

import pytest
from dagster import DagsterInstance, MultiPartitionKey, instance_for_test

from resources import GenerationResource
from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes, users
from trulience.config import Settings
from trulience.generation.backend import TransientBackendError
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, define
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.storage import Storage
from trulience_assets.definitions import build_definitions

FAILURES = {"left": 0}


class FlakyBackend(LocalPreviewBackend):
    """The preview backend, but its worker drops out on the first segment requests."""

    def generate_segment(self, seed_frame, request, work_dir):
        if FAILURES["left"] > 0:
            FAILURES["left"] -= 1
            raise TransientBackendError("worker gpu-1 went away")
        return super().generate_segment(seed_frame, request, work_dir)


class FlakyGeneration(GenerationResource):
    def backend(self, holder: str = "loop"):
        return FlakyBackend()


@pytest.fixture
def setup(conn, db_url, tmp_path, face_models):
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url})
    storage = Storage(settings.storage_url)
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    characters.create_character(conn, "ghost", "Ghost", {}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    define(
        conn,
        Definition(
            "blink",
            "Blink",
            settings={
                "target_duration_s": 2,
                "segment_duration_s": 1,
                "fps": 12,
                "width": 96,
                "height": 96,
            },
        ),
    )
    with instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["eileen", "ghost"])
        instance.add_dynamic_partitions("scene_type", ["blink"])
        yield settings, instance


def run(settings: Settings, instance: DagsterInstance, character: str, generation=None):
    defs = build_definitions(settings)
    job = defs.resolve_job_def("scenes")
    key = MultiPartitionKey({"character": character, "scene_type": "blink"})
    resources = {"generation": generation} if generation else None
    return job.execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False, resources=resources
    )


def test_a_partition_generates_its_take(setup, conn):
    settings, instance = setup
    users.create_user(conn, "paul", "Paul", "producer")
    result = run(settings, instance, "eileen")
    assert result.success
    (materialization,) = result.asset_materializations_for_node("segments")
    assert materialization.metadata["segments"].value == 2
    assert materialization.metadata["frames"].value == 24
    take = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    assert take.status == "assembled"  # the job goes on to scene_video
    (scene,) = result.asset_materializations_for_node("scene_video")
    assert scene.metadata["frames"].value == 24
    assert scene.metadata["method"].value in ("packet_copy", "seam_reencode")
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert len(checks) == 12 and all(checks.values()) and "gate_identity" in checks
    storage = Storage(settings.storage_url)
    assert storage.exists(scene.metadata["storyboard key"].value)
    from trulience.media.probe import probe

    local = Path(str(settings.home)) / "scene.mp4"
    local.write_bytes(storage.read_bytes(storage.key_of(take.uri)))
    assert probe(local).frames == 24 and take.frames == 24
    kinds = conn.execute("SELECT kind FROM notifications").fetchall()
    assert kinds == [("ready_for_review",)]  # the producer is told


def media_links(materialization) -> list[str]:
    """Every link of a materialisation: its URLs and those in its markdown."""
    import re

    from dagster import MarkdownMetadataValue, UrlMetadataValue

    links = []
    for value in materialization.metadata.values():
        if isinstance(value, UrlMetadataValue):
            links.append(value.value)
        elif isinstance(value, MarkdownMetadataValue):
            links += re.findall(r"\]\(([^)]+)\)", value.value)
    return links


def test_an_operator_reads_figures_media_links_and_sentences(setup, conn, face_models):
    from dagster import FloatMetadataValue, IntMetadataValue, TextMetadataValue

    from trulience.auth.signed import verify
    from trulience.ingest.identity import embed_character

    settings, instance = setup
    # the character's identity band, so the identity gates measure
    embed_character(conn, Storage(settings.storage_url), face_models, "eileen")
    result = run(settings, instance, "eileen")
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    for check in checks.values():
        assert check.metadata["partition"].value == "eileen|blink", check.check_name
        assert check.partition == "eileen|blink"  # recorded per partition, as the UI shows it
        assert {"value", "threshold", "segments judged"} <= set(check.metadata)
        assert check.description.startswith(check.check_name.removeprefix("gate_") + " gate")
    identity = checks["gate_identity"].metadata
    assert isinstance(identity["value"], FloatMetadataValue)
    assert identity["value"].value >= identity["threshold"].value  # the worst of 2 segments
    assert "the worst, segment " in checks["gate_identity"].description
    assert isinstance(checks["gate_frame_count"].metadata["value"], IntMetadataValue)
    assert checks["gate_frame_count"].metadata["threshold"].value == 12
    assert isinstance(checks["gate_codec"].metadata["value"], TextMetadataValue)
    # only the second segment has a previous one to fall from
    assert (
        "1 of 2 segment(s) measured; the worst, segment 2,"
        in checks["gate_identity_drop"].description
    )

    (segments,) = result.asset_materializations_for_node("segments")
    (scene,) = result.asset_materializations_for_node("scene_video")
    links = media_links(segments) + media_links(scene)
    # 2 segment videos and their last frames; the video, its proxy and the storyboard (shown
    # and linked)
    assert len(links) == 8
    storage = Storage(settings.storage_url)
    for link in links:
        assert link.startswith(f"{settings.public_url}/media/"), link
        token = link.removeprefix(f"{settings.public_url}/media/").split("/")[0]
        assert storage.exists(verify(token, secret=settings.signing_secret())["key"])
    shown = " ".join(str(v.value) for m in (segments, scene) for v in m.metadata.values())
    assert "file://" not in shown

    said = [e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None]
    assert any(m.startswith("segment 2 of 2 made by worker local in ") for m in said)
    assert any("identity " in m and " >= " in m for m in said)
    assert any(m.startswith("take 1 revision 1 assembled by ") for m in said)
    assert not [m for m in said if "{'" in m or "}" in m]


def test_transient_backend_errors_are_retried_and_resume(setup, conn):
    settings, instance = setup
    FAILURES["left"] = 1
    flaky = FlakyGeneration(home=str(settings.home), database_url=settings.database_url)
    result = run(settings, instance, "eileen", flaky)
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1
    take = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    rows = conn.execute("SELECT count(*) FROM segments WHERE scene_id = %s", (take.id,))
    assert rows.fetchone()[0] == 2 and take.status == "assembled"


def test_a_permanent_problem_fails_once_with_the_reason(setup):
    settings, instance = setup
    result = run(settings, instance, "ghost")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "no primary image that passed QA" in failure.event_specific_data.error.message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


class BlackBackend(LocalPreviewBackend):
    """Every take of segment 1 comes out black."""

    def generate_segment(self, seed_frame, request, work_dir):
        result = super().generate_segment(seed_frame, request, work_dir)
        if request.index != 1:
            return result
        import numpy as np

        from trulience.media.encode import encode_frames

        black = [np.zeros_like(seed_frame)] * request.frames
        encode_frames(black, result.video_path, request.fps)
        return type(result)(
            result.video_path,
            black[-1],
            request.frames,
            result.backend,
            result.started_at,
            result.finished_at,
            result.compute_s,
        )


class BlackGeneration(GenerationResource):
    def backend(self, holder: str = "loop"):
        return BlackBackend()


def test_a_failed_quality_gate_blocks_assembly(setup, conn):
    settings, instance = setup
    users.create_user(conn, "paul", "Paul", "producer")
    black = BlackGeneration(home=str(settings.home), database_url=settings.database_url)
    result = run(settings, instance, "eileen", black)
    assert not result.success
    evaluations = result.get_asset_check_evaluations()
    failed = [e for e in evaluations if not e.passed]
    # only the gates that refused the last take (a black segment also jumps at its seam)
    assert [e.check_name for e in failed] == ["gate_black", "gate_seam"]
    assert "segment 1 failed its quality gates in 3 take(s)" in failed[0].description
    black = failed[0].metadata  # the refused segment's last attempt, against the gate's limit
    assert black["partition"].value == "eileen|blink" and black["deciding segment"].value == 2
    assert black["value"].value == 12 and black["threshold"].value == 2
    materialised = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert "scene_video" not in materialised
    take = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    assert take.status == "qa_failed" and take.uri is None
    (body,) = conn.execute("SELECT body FROM notifications WHERE kind = 'gate_failed'").fetchone()
    assert "segment 1 failed its quality gates" in body


def test_delivery_job_packages_only_an_approved_take(setup, conn):
    settings, instance = setup
    assert run(settings, instance, "eileen").success
    defs = build_definitions(settings)
    key = MultiPartitionKey({"character": "eileen", "scene_type": "blink"})
    delivery = defs.resolve_job_def("delivery")
    refused = delivery.execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False
    )
    assert not refused.success
    failure = next(e for e in refused.all_events if e.event_type_value == "STEP_FAILURE")
    assert "not approved" in failure.event_specific_data.error.message
    take = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    users.create_user(conn, "rita", "Rita", "reviewer")
    conn.execute(
        "INSERT INTO reviews (scene_id, reviewer_id, decision) "
        "SELECT %s, id, 'approved' FROM users WHERE username = 'rita'",
        (take.id,),
    )
    delivered = delivery.execute_in_process(partition_key=key, instance=instance)
    assert delivered.success
    (spec,) = delivered.get_asset_check_evaluations()
    assert spec.check_name == "complies_with_spec" and spec.passed
    assert spec.metadata["partition"].value == "eileen|blink"
    assert spec.metadata["value"].value == 0 == spec.metadata["threshold"].value
    assert "meets the project's delivery spec" in spec.description
    (package,) = delivered.asset_materializations_for_node("deliverable")
    assert package.metadata["manifest"].value.startswith(f"{settings.public_url}/media/")


def test_an_approval_requests_a_delivery_run_once(setup, conn):
    from dagster import build_sensor_context

    from trulience.auth.users import create_user
    from trulience.review.service import decide

    settings, instance = setup
    assert run(settings, instance, "eileen").success
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("approvals_sensor")
    waiting = sensor(build_sensor_context(instance=instance, resources=defs.resources))
    assert "no approved take" in waiting.skip_message
    reviewer = create_user(conn, "rita", "Rita", "reviewer", "correct horse battery")
    take = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    # no undo window: the approval is handed to delivery at the sensor's next tick
    assert decide(conn, reviewer, take.id, "approved", undo_window_s=0).request_delivery
    result = sensor(build_sensor_context(instance=instance, resources=defs.resources))
    (request,) = result.run_requests
    assert request.partition_key == "eileen|blink" and request.run_key == f"deliver:{take.id}:r1"
    # the run names the take's project (a character may be in several)
    assert request.run_config == {
        "ops": {"deliverable": {"config": {"project": "moonbase", "scene_id": take.id}}}
    }
    delivery = defs.resolve_job_def("delivery")
    assert delivery.execute_in_process(
        partition_key=request.partition_key, instance=instance, run_config=request.run_config
    ).success
    done = sensor(build_sensor_context(instance=instance, resources=defs.resources))
    assert "no approved take" in done.skip_message


def test_an_approved_take_is_delivered_though_a_newer_take_stands_beside_it(setup, conn):
    from dagster import build_sensor_context

    from trulience.auth.users import create_user
    from trulience.review.service import decide

    settings, instance = setup
    assert run(settings, instance, "eileen").success
    defs = build_definitions(settings)
    approved = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    reviewer = create_user(conn, "rita", "Rita", "reviewer", "correct horse battery")
    decide(conn, reviewer, approved.id, "approved", undo_window_s=0)
    newer = scenes.create_take(conn, "moonbase", "eileen", "blink")  # take 2, not reviewed
    assert scenes.latest_take(conn, "moonbase", "eileen", "blink").id == newer.id
    sensor = defs.resolve_sensor_def("approvals_sensor")
    (request,) = sensor(
        build_sensor_context(instance=instance, resources=defs.resources)
    ).run_requests
    delivered = defs.resolve_job_def("delivery").execute_in_process(
        partition_key=request.partition_key, instance=instance, run_config=request.run_config
    )
    assert delivered.success
    (package,) = conn.execute("SELECT scene_id FROM deliverables").fetchall()
    assert package == (approved.id,)
    # a run naming a take of another partition is refused, not delivered
    foreign = {"ops": {"deliverable": {"config": {"project": "moonbase", "scene_id": 10**9}}}}
    refused = defs.resolve_job_def("delivery").execute_in_process(
        partition_key=request.partition_key,
        instance=instance,
        run_config=foreign,
        raise_on_error=False,
    )
    assert not refused.success


def test_assembling_the_same_take_again_raises_no_second_ready_for_review(setup, conn):
    from dagster import materialize

    from trulience_assets.assets.scenes import scene_video

    settings, instance = setup
    users.create_user(conn, "rita", "Rita", "reviewer")
    assert run(settings, instance, "eileen").success
    defs = build_definitions(settings)
    again = materialize(  # the same segments assembled again: the same file, nothing new
        [scene_video],
        partition_key=MultiPartitionKey({"character": "eileen", "scene_type": "blink"}),
        instance=instance,
        resources=defs.resources,
    )
    assert again.success
    ready = conn.execute(
        "SELECT subject FROM notifications WHERE kind = 'ready_for_review'"
    ).fetchall()
    assert [(subject["scene_id"], subject["revision"]) for (subject,) in ready] == [(1, 1)]


def test_a_failed_run_notifies_producers(setup, conn):
    from dagster import build_run_status_sensor_context

    settings, instance = setup
    users.create_user(conn, "paul", "Paul", "producer")
    result = run(settings, instance, "ghost")
    failure = next(
        r.dagster_event
        for r in instance.all_logs(result.run_id)
        if r.dagster_event and r.dagster_event.event_type_value == "PIPELINE_FAILURE"
    )
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("run_failure_notifications")
    context = build_run_status_sensor_context(
        sensor_name="run_failure_notifications",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        resources=defs.resources,
    ).for_run_failure()
    sensor(context)
    (body,) = conn.execute("SELECT body FROM notifications WHERE kind = 'run_failed'").fetchone()
    assert result.run_id[:8] in body and "scenes" in body


def test_a_rejected_segment_is_regenerated_by_the_sensor(setup, conn):
    from dagster import build_sensor_context

    from trulience.auth.users import create_user
    from trulience.review.regenerate import reject_segment

    settings, instance = setup
    assert run(settings, instance, "eileen").success
    take = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    reviewer = create_user(conn, "rhea", "Rhea", "reviewer", "long enough password")
    reject_segment(conn, reviewer, take.id, 0, "eyes drift at the start")
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("regeneration_sensor")
    (request,) = sensor(
        build_sensor_context(instance=instance, resources=defs.resources)
    ).run_requests
    assert request.partition_key == "eileen|blink"
    assert request.run_config["ops"]["segments"] == {"config": {"project": "moonbase"}}
    assert run(settings, instance, "eileen").success
    again = scenes.get_take(conn, take.id)
    assert again.status == "assembled"
    attempts = conn.execute(
        "SELECT attempt FROM segments WHERE scene_id = %s AND index = 0 ORDER BY attempt",
        (take.id,),
    ).fetchall()
    assert attempts == [(1,), (2,)]
    idle = sensor(build_sensor_context(instance=instance, resources=defs.resources))
    assert "no take waits" in idle.skip_message


TERMINATED_SCRIPT = """
import json, sys, time
from dagster import MultiPartitionKey, instance_for_test
from resources import GenerationResource
from trulience.config import Settings
from trulience.generation.preview import LocalPreviewBackend
from trulience_assets.definitions import build_definitions

home, db_url = sys.argv[1:3]
STOPPED = {"once": False}

class Slow(LocalPreviewBackend):
    # segment 1 hangs the first time (long enough to be terminated); a retry would not
    def generate_segment(self, seed_frame, request, work_dir):
        if request.index == 1 and not STOPPED["once"]:
            STOPPED["once"] = True
            print("segment 1 running", flush=True)
            time.sleep(60)
        return super().generate_segment(seed_frame, request, work_dir)

class SlowGeneration(GenerationResource):
    def backend(self, holder="loop"):
        return Slow()

settings = Settings.from_env({"TRULIENCE_HOME": home, "DATABASE_URL": db_url})
with instance_for_test() as instance:
    instance.add_dynamic_partitions("character", ["eileen"])
    instance.add_dynamic_partitions("scene_type", ["blink"])
    job = build_definitions(settings).resolve_job_def("scenes")
    result = job.execute_in_process(
        partition_key=MultiPartitionKey({"character": "eileen", "scene_type": "blink"}),
        instance=instance,
        raise_on_error=False,
        resources={"generation": SlowGeneration(home=home, database_url=db_url)},
    )
    print(json.dumps({
        "success": result.success,
        "events": [e.event_type_value for e in result.all_events],
    }), flush=True)
"""


@pytest.mark.slow
def test_a_terminated_run_stops_and_is_not_retried(setup, conn, tmp_path):
    """Dagster terminates a run with SIGTERM, which reaches the step as an interrupt; the
    RetryPolicy must not start the step again (the retry would succeed here)."""
    import json
    import os
    import signal
    import subprocess
    import sys

    settings, _ = setup
    process = subprocess.Popen(
        [sys.executable, "-c", TERMINATED_SCRIPT, str(settings.home), settings.database_url],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith("segment 1 running"):
                os.kill(process.pid, signal.SIGTERM)
                break
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-3000:]
    outcome = json.loads(out.strip().splitlines()[-1])
    assert not outcome["success"]
    assert "STEP_UP_FOR_RETRY" not in outcome["events"] and "STEP_FAILURE" in outcome["events"]
    take = scenes.latest_take(conn, "moonbase", "eileen", "blink")
    assert take.status == "failed" and "stopped from outside" in take.failure
    assert sorted(scenes.current_segments(conn, take.id)) == [0]  # kept, to resume from
