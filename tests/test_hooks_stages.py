"""Stage hooks in the pipeline, through Dagster (in-process) and dagster-pipes' subprocess
client: a Python hook vetoes assembly (the committed segments kept), a shell hook reports
metadata after QA, a hanging hook before generation is killed after its timeout, a
before_delivery hook waits for a take delivery would package."""

import sys

import pytest
from click.testing import CliRunner
from dagster import MultiPartitionKey, instance_for_test

from tests.review_takes import make_project, make_take
from tests.test_hooks import alive, script
from tests.test_scenes_asset import run, setup  # noqa: F401  (setup: the scene tests' fixture)
from trulience.catalog import scenes, users
from trulience.catalog.hooks import runs_of
from trulience.cli import main
from trulience.config import Settings
from trulience.production.hooks.stage import add_hook
from trulience_assets.definitions import build_definitions


@pytest.fixture
def cell(setup):  # noqa: F811
    """Eileen and a 2-segment 'blink' scene type in moonbase, and a Dagster instance."""
    return setup


REPORT = f'"{sys.executable}" -m trulience.production.hooks.report'


def failure_of(result, node: str) -> str:
    """The description of a step's failure."""
    (failed,) = [
        e for e in result.all_events if e.event_type_value == "STEP_FAILURE" and e.step_key == node
    ]
    return failed.event_specific_data.error.message


def run_logs(instance, result) -> str:
    return "\n".join(e.user_message for e in instance.all_logs(result.run_id))


def take_of(conn):
    return scenes.latest_take(conn, "moonbase", "eileen", "blink")


def segment_count(conn, scene_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM segments WHERE scene_id = %s", (scene_id,)
    ).fetchone()[0]


PYTHON_VETO = """
from dagster_pipes import open_dagster_pipes

with open_dagster_pipes() as pipes:
    pipes.log.info(f"measuring the light of take {pipes.extras['take_id']}")
    pipes.report_asset_materialization(metadata={"brightness": 0.12})
    pipes.report_custom_message({"metadata": {"contrast": float("nan")}})
    pipes.report_custom_message({"veto": "too dark to assemble (brightness 0.12)"})
"""


def test_a_python_hook_vetoes_assembly_and_the_committed_segments_are_kept(cell, conn, tmp_path):
    settings, instance = cell
    add_hook(conn, "moonbase", "light", stage="before_assembly", runtime="python",
             script=script(tmp_path, "light.py", PYTHON_VETO))  # fmt: skip
    result = run(settings, instance, "eileen")
    assert not result.success
    assert result.asset_materializations_for_node("segments")  # generation went through
    reason = "hook light vetoed assembly: too dark to assemble (brightness 0.12)"
    assert reason in failure_of(result, "scene_video")
    take = take_of(conn)
    assert take.status == "generated" and take.failure == reason  # what the producer sees
    assert segment_count(conn, take.id) == 2  # the committed segments are kept
    (hook_run,) = runs_of(conn, take.id)
    assert hook_run.outcome == "vetoed"
    assert hook_run.metadata == {"brightness": 0.12, "contrast": "NaN"}  # jsonb has no NaN
    assert hook_run.run_id == result.run_id
    assert f"measuring the light of take {take.id}" in run_logs(instance, result)
    env = {"TRULIENCE_HOME": str(settings.home), "DATABASE_URL": settings.database_url}
    shown = CliRunner().invoke(main, ["runs", "status", "eileen", "blink"], env=env)
    assert shown.exit_code == 0 and f"failure: {reason}" in shown.output


SHELL_AFTER_QA = f"""
{REPORT} log "counting faces in take $TRULIENCE_HOOK_TAKE_ID of $TRULIENCE_HOOK_CHARACTER"
{REPORT} metadata faces 1
{REPORT} metadata verdict '"fine"'
"""


def test_a_shell_hook_after_qa_reports_metadata_to_the_run_and_the_catalog(cell, conn, tmp_path):
    settings, instance = cell
    add_hook(conn, "moonbase", "faces", stage="after_qa", runtime="shell", scene_type="blink",
             script=script(tmp_path, "faces.sh", SHELL_AFTER_QA))  # fmt: skip
    result = run(settings, instance, "eileen")
    assert result.success
    (made,) = result.asset_materializations_for_node("segments")
    shown = made.metadata["hook faces"].value
    assert shown["outcome"] == "passed" and shown["metadata"] == {"faces": 1, "verdict": "fine"}
    take = take_of(conn)
    (hook_run,) = runs_of(conn, take.id)
    assert hook_run.stage == "after_qa" and hook_run.metadata == {"faces": 1, "verdict": "fine"}
    logs = run_logs(instance, result)
    assert f"counting faces in take {take.id} of eileen" in logs
    assert "Hook faces exited with status 0. It reported faces = 1, verdict = fine." in logs
    assert take.status == "assembled"


def test_a_hanging_hook_before_generation_is_killed_and_refuses_the_stage(cell, conn, tmp_path):
    settings, instance = cell
    pid_file = tmp_path / "sleep.pid"
    hang = script(tmp_path, "hang.sh", f"sleep 300 &\necho $! > {pid_file}\nwait\n")
    add_hook(conn, "moonbase", "hang", stage="before_generation", runtime="shell",
             script=hang, timeout_s=1)  # fmt: skip
    result = run(settings, instance, "eileen")
    assert not result.success
    reason = "hook hang timed out after 1 s and was killed"
    assert reason in failure_of(result, "segments")
    take = take_of(conn)
    assert take.failure == reason and segment_count(conn, take.id) == 0
    (hook_run,) = runs_of(conn, take.id)
    assert hook_run.outcome == "timed_out"
    assert not alive(int(pid_file.read_text()))  # the hook's own child went too
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retries == []  # a veto is final: not retried


def test_a_before_delivery_hook_never_runs_for_a_take_delivery_refuses(cell, conn, tmp_path):
    settings, instance = cell
    ran = tmp_path / "signed-off"
    add_hook(conn, "moonbase", "signoff", stage="before_delivery", runtime="shell",
             script=script(tmp_path, "signoff.sh", f"touch {ran}\n"))  # fmt: skip
    assert run(settings, instance, "eileen").success
    delivery = build_definitions(settings).resolve_job_def("delivery")
    key = MultiPartitionKey({"character": "eileen", "scene_type": "blink"})
    refused = delivery.execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False
    )
    assert not refused.success
    assert "is not approved" in failure_of(refused, "deliverable")
    take = take_of(conn)
    assert not ran.exists() and runs_of(conn, take.id) == []  # the hook was not asked
    users.create_user(conn, "rita", "Rita", "reviewer")
    conn.execute(
        "INSERT INTO reviews (scene_id, reviewer_id, decision) "
        "SELECT %s, id, 'approved' FROM users WHERE username = 'rita'",
        (take.id,),
    )
    assert delivery.execute_in_process(partition_key=key, instance=instance).success
    assert ran.exists()
    (hook_run,) = runs_of(conn, take.id)
    assert (hook_run.stage, hook_run.outcome) == ("before_delivery", "passed")


STEP = """
from dagster_pipes import open_dagster_pipes

with open_dagster_pipes() as pipes:
    pipes.report_custom_message({"metadata": {"exported": pipes.extras["take_id"]}})
"""


def test_a_hook_runs_as_a_step_of_its_own(db_url, conn, tmp_path):
    make_project(conn)
    take = make_take(conn, status="assembled")
    add_hook(conn, "demo", "export", stage="step", runtime="python",
             script=script(tmp_path, "export.py", STEP))  # fmt: skip
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url})
    job = build_definitions(settings).resolve_job_def("hook_steps")
    with instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            run_config={"ops": {"run_step_hooks": {"config": {"scene_id": take}}}},
        )
    assert result.success and result.output_for_node("run_step_hooks") == 1
    (run,) = runs_of(conn, take)
    assert run.stage == "step" and run.outcome == "passed" and run.metadata == {"exported": take}
