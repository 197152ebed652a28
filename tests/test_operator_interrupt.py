"""Stopping a take now: an operator's interrupt targets the take's own prompt (by id, or
deleted from the worker's queue), cancels the take and is never retried; another client's
interrupt stays transient; SIGTERM stops the process running the loop, cancelling its prompt.
All against the fake ComfyUI server and the real catalog."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui import FakeComfyUI
from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes
from trulience.catalog.database import connect
from trulience.cli import main
from trulience.generation.comfyui import ComfyUIBackend, ComfyUIClient
from trulience.generation.comfyui.errors import PromptInterrupted
from trulience.generation.loop import LoopStopped, run_loop
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.workers import pool

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def worker():
    with FakeComfyUI() as fake:
        fake.add_input("example.png", ASTRONAUT.read_bytes())
        yield fake


@pytest.fixture
def studio(conn, storage, face_models, worker):
    """Eileen, QA'd, and a four-segment scene type on the animatic workflow."""
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    pool.add_worker(conn, worker.url, "studio", 1, "gpu-a")
    register_workflow(conn, "animatic", WORKFLOW, SLOTS, worker_url=worker.url)
    settings = {
        "workflow": "animatic",
        "target_duration_s": 4,
        "segment_duration_s": 1,
        "fps": 12,
        "width": 128,
        "height": 128,
    }
    define(conn, Definition("walk", "Walk", settings=settings))
    return conn


def cli(db_url, storage, tmp_path, *args):
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "STORAGE_URL": storage.url,
        "TRULIENCE_ACTOR": "cli:maria",
    }
    return CliRunner().invoke(main, list(args), env=env)


class LoopThread(threading.Thread):
    """run_loop on its own connection, as a Dagster step or `trulience generate` runs it."""

    def __init__(self, db_url, storage, backend, tmp_path):
        super().__init__(daemon=True)
        self.args = (db_url, storage, backend, tmp_path)
        self.error: BaseException | None = None

    def run(self):
        db_url, storage, backend, tmp_path = self.args
        try:
            with connect(db_url, actor="loop") as conn:
                run_loop(conn, storage, backend, "eileen", "walk", tmp_path / "work", poll_s=0.05)
        except BaseException as exc:
            self.error = exc


def wait_for_prompt(conn, segment: int, timeout_s: float = 30) -> scenes.RunningPrompt:
    """The take's running prompt once its segment `segment` is queued on the worker."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        running = scenes.running_prompts(conn)
        if running and running[0].segment == segment:
            return running[0]
        time.sleep(0.02)
    pytest.fail(f"segment {segment} never got a prompt")


def history(worker, prompt_id, timeout_s: float = 10) -> dict:
    client = ComfyUIClient(worker.url)
    deadline = time.monotonic() + timeout_s
    while (entry := client.history(prompt_id)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert entry is not None, f"prompt {prompt_id} never reached the history"
    return entry


def test_runs_interrupt_stops_the_take_now_and_nothing_is_retried(
    studio, storage, db_url, worker, tmp_path
):
    worker.slow(0.3)
    loop = LoopThread(db_url, storage, ComfyUIBackend(worker.url, idle_timeout_s=30), tmp_path)
    loop.start()
    running = wait_for_prompt(studio, 1)
    assert running.worker == worker.url and running.prompt_id == worker.submissions[-1].prompt_id

    answer = cli(db_url, storage, tmp_path, "runs", "interrupt", "eileen", "walk")
    loop.join(timeout=60)

    assert answer.exit_code == 0, answer.output
    assert f"prompt {running.prompt_id} interrupted" in answer.output
    assert isinstance(loop.error, LoopStopped)
    assert "cancelled by cli:maria during segment 1" in str(loop.error)
    assert isinstance(loop.error.__cause__.__cause__, PromptInterrupted)
    entry = history(worker, running.prompt_id)
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    take = scenes.latest_take(studio, "moonbase", "eileen", "walk")
    assert take.status == "cancelled" and take.control == "cancel"
    assert sorted(scenes.current_segments(studio, take.id)) == [0]  # finished work kept
    assert len(worker.submissions) == 2  # segment 1 was not submitted again
    assert scenes.running_prompts(studio) == []


def test_workers_interrupt_stops_our_prompt_and_leaves_another_clients_alone(
    studio, storage, db_url, worker, tmp_path
):
    worker.slow(0.3)
    loop = LoopThread(db_url, storage, ComfyUIBackend(worker.url, idle_timeout_s=30), tmp_path)
    loop.start()
    ours = wait_for_prompt(studio, 0)
    theirs = ComfyUIClient(worker.url).submit(
        {**WORKFLOW, "6": {**WORKFLOW["6"], "inputs": {**WORKFLOW["6"]["inputs"]}}},
        client_id="someone-else",
    )

    answer = cli(db_url, storage, tmp_path, "workers", "interrupt", "gpu-a")
    loop.join(timeout=60)

    assert answer.exit_code == 0, answer.output
    assert "moonbase/eileen/walk take 1 segment 0" in answer.output
    assert isinstance(loop.error, LoopStopped)
    assert history(worker, ours.prompt_id)["status"]["messages"][-1][0] == ("execution_interrupted")
    assert history(worker, theirs.prompt_id)["status"]["status_str"] == "success"
    take = scenes.latest_take(studio, "moonbase", "eileen", "walk")
    assert take.status == "cancelled" and scenes.current_segments(studio, take.id) == {}


def test_workers_interrupt_with_nothing_of_ours_sends_nothing(
    studio, storage, db_url, worker, tmp_path
):
    worker.slow(0.3)
    theirs = ComfyUIClient(worker.url).submit(WORKFLOW, client_id="someone-else")
    answer = cli(db_url, storage, tmp_path, "workers", "interrupt", "gpu-a")
    assert answer.exit_code == 0, answer.output
    assert "no take of ours is running or queued there; nothing sent" in answer.output
    assert history(worker, theirs.prompt_id)["status"]["status_str"] == "success"


def test_an_interrupt_lost_in_the_last_node_still_stops_the_take_before_the_next_segment(
    studio, storage, db_url, worker, tmp_path
):
    """ComfyUI checks its interrupt flag only before a node starts and clears it when the
    next prompt starts: sent during the last node it is lost, and the segment succeeds."""
    worker.slow(1.0, "SaveImage")  # SaveImage runs last in the animatic graph
    seen = []

    def interrupt_during_the_last_node(update):
        seen.append(update)
        if update.event == "executing" and update.node == "6" and update.prompt_id:
            with connect(db_url, actor="cli:maria") as other:
                take = scenes.latest_take(other, "moonbase", "eileen", "walk")
                from trulience.workers.interrupt import interrupt_take

                interrupt_take(other, take.id, "cli:maria")

    backend = ComfyUIBackend(worker.url, on_progress=interrupt_during_the_last_node)
    with pytest.raises(LoopStopped, match="cancelled by cli:maria between segments"):
        run_loop(studio, storage, backend, "eileen", "walk", tmp_path / "work", poll_s=0.05)
    take = scenes.latest_take(studio, "moonbase", "eileen", "walk")
    assert take.status == "cancelled"
    assert sorted(scenes.current_segments(studio, take.id)) == [0]  # it finished regardless
    assert len(worker.submissions) == 1


TERM_SCRIPT = """
import sys, tempfile
from pathlib import Path
from trulience.catalog.database import connect
from trulience.generation.comfyui import ComfyUIBackend
from trulience.generation.loop import run_loop
from trulience.storage import Storage

url, storage_url, worker_url = sys.argv[1:4]

def say(kind, data):
    print(kind, data.get("index"), flush=True)

with connect(url, actor="loop-test") as conn:
    run_loop(conn, Storage(storage_url), ComfyUIBackend(worker_url), "eileen", "walk",
             Path(tempfile.mkdtemp()), events=say)
"""


@pytest.mark.slow
def test_sigterm_stops_the_loop_cancels_its_prompt_and_leaves_the_take_to_resume(
    studio, storage, db_url, worker, tmp_path
):
    worker.slow(0.4)
    process = subprocess.Popen(
        [sys.executable, "-c", TERM_SCRIPT, db_url, storage.url, worker.url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith("segment_started 1"):
                break
        running = wait_for_prompt(studio, 1)
        os.kill(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != -signal.SIGTERM, "SIGTERM killed the loop without cleanup"
    assert "RunTerminated: SIGTERM" in err
    # its prompt was cancelled on the worker, not left to run unwatched
    assert history(worker, running.prompt_id)["status"]["messages"][-1][0] == (
        "execution_interrupted"
    )
    take = scenes.latest_take(studio, "moonbase", "eileen", "walk")
    assert take.status == "failed" and "stopped from outside (SIGTERM)" in take.failure
    assert sorted(scenes.current_segments(studio, take.id)) == [0]
    assert scenes.running_prompts(studio) == []
    # running it again resumes the same take after segment 0
    result = run_loop(
        studio, storage, ComfyUIBackend(worker.url), "eileen", "walk", tmp_path / "again"
    )
    assert result.resumed and result.take.id == take.id and result.generated == [1, 2, 3]


def test_on_the_pool_an_operators_interrupt_does_not_fail_over_to_another_worker(
    studio, storage, db_url, worker, tmp_path
):
    from functools import partial

    from trulience.workers.pooled_backend import PooledBackend

    worker.slow(0.3)
    with FakeComfyUI() as spare:
        spare.add_input("example.png", ASTRONAUT.read_bytes())
        pool.add_worker(studio, spare.url, "studio", 1, "gpu-b")
        backend = PooledBackend(
            db_url,
            "studio",
            backend_factory=partial(ComfyUIBackend, idle_timeout_s=30),
            wait_s=10,
            poll_s=0.2,
        )
        loop = LoopThread(db_url, storage, backend, tmp_path)
        loop.start()
        running = wait_for_prompt(studio, 0)
        answer = cli(db_url, storage, tmp_path, "runs", "interrupt", "eileen", "walk")
        loop.join(timeout=60)
        assert answer.exit_code == 0, answer.output
        assert isinstance(loop.error, LoopStopped)
        assert "cancelled by cli:maria during segment 0" in str(loop.error)
        assert (
            history(worker if running.worker == worker.url else spare, running.prompt_id)["status"][
                "messages"
            ][-1][0]
            == "execution_interrupted"
        )
        # one submission in all: the interrupted segment was not run again elsewhere
        assert len(worker.submissions) + len(spare.submissions) == 1


def test_runs_interrupt_with_the_worker_gone_still_cancels_the_take(
    studio, storage, db_url, worker, tmp_path
):
    take = scenes.create_take(studio, "moonbase", "eileen", "walk")
    scenes.record_prompt(studio, take.id, 2, worker.url, "a-prompt-id")
    worker.kill()
    answer = cli(db_url, storage, tmp_path, "runs", "interrupt", "eileen", "walk")
    assert answer.exit_code == 0, answer.output
    assert f"could not reach {worker.url} to stop prompt a-prompt-id" in answer.output
    assert "Traceback" not in answer.output
    assert scenes.latest_take(studio, "moonbase", "eileen", "walk").control == "cancel"


def test_recording_and_clearing_the_running_prompt_writes_no_audit_row(studio):
    take = scenes.create_take(studio, "moonbase", "eileen", "walk")
    count = "SELECT count(*) FROM audit_log WHERE table_name = 'scenes'"
    before = studio.execute(count).fetchone()[0]
    for segment in range(3):
        scenes.record_prompt(studio, take.id, segment, "http://gpu-a:8188", f"p-{segment}")
        scenes.clear_prompt(studio, take.id, f"p-{segment}")
    assert studio.execute(count).fetchone()[0] == before
    scenes.set_take_control(studio, take.id, "cancel", "operator")  # a decision: recorded
    assert studio.execute(count).fetchone()[0] == before + 1
