"""Acceptance (issue 8, PRD-57/61/93): a batch of 3 characters x 2 scene types, refused
while the budget is too small, then estimated, launched as a Dagster backfill, executed by
the real `dagster-daemon`, generated and assembled with the preview backend, approved by a
reviewer, delivered through the approvals sensor, and reported delivered by the CLI."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, RunsFilter

from trulience.auth.users import create_user
from trulience.catalog import characters, projects
from trulience.catalog.database import connect
from trulience.catalog.users import get_user
from trulience.cli import main
from trulience.config import Settings
from trulience.generation.scene_config import Definition, define
from trulience.lake.reports import open_lake
from trulience.library import add_image_file
from trulience.production.batch import item_states
from trulience.review.service import batch_decide
from trulience.samples import sample_characters
from trulience.storage import Storage
from trulience_assets.definitions import build_definitions
from trulience_assets.instance import prepare_home
from trulience_assets.launch import run_job

REPO = Path(__file__).resolve().parents[1]
SCENE_TYPES = [  # short, so the acceptance stays quick
    Definition(
        "blink",
        "Blink",
        settings={
            "target_duration_s": 2,
            "segment_duration_s": 1,
            "fps": 12,
            "width": 128,
            "height": 128,
            "seed": 7,
        },
    ),
    Definition("blink-wide", "Blink (wide)", parent="blink", settings={"width": 192}),
]


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}\n--- daemon log ---\n{tail}")


@pytest.mark.slow
def test_a_batch_runs_through_delivery_with_its_estimate_shown_first(db_url, tmp_path):
    started = time.monotonic()
    home = tmp_path / "home"
    # the local instance from its one template, with a run queue that dequeues every
    # second (by default every 5) into 6 threads, one per run of the batch
    dagster_home = prepare_home(home / "dagster", dequeue_num_workers=6, dequeue_interval_seconds=1)
    env = {
        "TRULIENCE_HOME": str(home),
        "DATABASE_URL": db_url,
        "DAGSTER_HOME": str(dagster_home),
        "TRULIENCE_ACTOR": "cli:pat",
    }
    settings = Settings.from_env(env)
    storage = Storage(settings.storage_url)

    def cli(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    def cli_process(*args: str) -> subprocess.CompletedProcess:
        """The CLI as its own process: its Dagster child's output is captured too."""
        return subprocess.run(
            [sys.executable, "-m", "trulience.cli", *args],
            cwd=REPO,
            env=os.environ | env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # three ready sample characters in a project, and two short scene types
    with connect(db_url, actor="tests") as conn:
        projects.create_project(
            conn, "moonbase", "Moonbase", settings={"image_qa": {"min_short_side": 320}}
        )
        for sample in sample_characters():
            characters.create_character(
                conn, sample.slug, sample.metadata["name"], sample.metadata, ["moonbase"]
            )
            for name, data in sample.images.items():
                (tmp_path / name).write_bytes(data)
                add_image_file(conn, storage, sample.slug, tmp_path / name)
        for definition in SCENE_TYPES:
            define(conn, definition)
        create_user(conn, "rita", "Rita", "reviewer", "rita-reviews-takes")
    instance = DagsterInstance.from_config(str(dagster_home))
    try:
        runs = run_job(build_definitions(settings), instance, "characters", [])
        assert len(runs) == 3 and all(run.ok for run in runs), runs
    finally:
        instance.dispose()

    # history for the estimate: a pilot take of eileen in 'blink'
    pilot = cli("generate", "eileen", "blink", "--project", "moonbase")
    assert pilot.exit_code == 0, pilot.output

    # a budget too small refuses the batch clearly, and nothing is stored
    assert cli("budgets", "set", "moonbase", "--gpu-hours", "0").exit_code == 0
    batch_args = [
        "batch", "create", "--project", "moonbase", "--characters", "eileen,marco,theo",
        "--scene-types", "blink,blink-wide", "--priority", "5",
    ]  # fmt: skip
    refused = cli(*batch_args)
    assert refused.exit_code == 1
    assert "batch refused, nothing stored: project moonbase has 0.0 GPU s" in refused.output
    assert "this batch is estimated at" in refused.output
    with connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM batches").fetchone()[0] == 0

    # enough budget: estimate first, then the backfill
    assert cli("budgets", "set", "moonbase", "--gpu-hours", "1").exit_code == 0
    created = cli_process(*batch_args)
    assert created.returncode == 0, created.stdout + created.stderr
    out = created.stdout
    assert "estimate: " in out and "for 6 take(s), 90% range" in out
    assert "blink-wide" in out and "from 2 segment(s) of 1 past take(s)" in out
    assert out.index("estimate: ") < out.index("launching a Dagster backfill of 6 partition(s)")
    assert out.index("estimate: ") < out.index("Dagster backfill ")

    log = tmp_path / "daemon.log"
    with log.open("w") as sink:
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=REPO,
            env=os.environ | env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its code server and run workers die with it
        )
    try:
        with connect(db_url, actor="tests") as conn:
            (batch_id,) = conn.execute("SELECT id FROM batches").fetchone()

            def states() -> list[str]:
                found = [i.state for i in item_states(conn, batch_id)]
                assert "failed" not in found, item_states(conn, batch_id)
                return found

            wait_for(
                "6 takes assembled",
                lambda: states().count("assembled") == 6,
                timeout_s=150,
                log=log,
            )
            reviewer = get_user(conn, "rita")
            scene_ids = [i.scene_id for i in item_states(conn, batch_id)]
            decisions = batch_decide(conn, reviewer, scene_ids, "approve", "batch looks good")
            assert all(d.request_delivery for d in decisions)
            wait_for(
                "6 takes delivered",
                lambda: states().count("delivered") == 6,
                timeout_s=120,
                log=log,
            )
        instance = DagsterInstance.from_config(str(dagster_home))
        try:
            runs = instance.get_runs(RunsFilter(tags={"trulience/batch": str(batch_id)}))
            assert len(runs) == 6
            assert {r.tags["dagster/priority"] for r in runs} == {"5"}
            assert all(r.is_success for r in runs)
        finally:
            instance.dispose()
        status = cli_process("batch", "status", str(batch_id))
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"batch {batch_id} of project moonbase: completed, priority 5" in status.stdout
        assert "takes: 6 delivered" in status.stdout
        assert "'dagster/priority': '5'" in status.stdout and "6 run(s)" in status.stdout
        assert "delivery runs: 6, 6 SUCCESS" in status.stdout

        # the lake holds the batch: its estimate against what its takes used (PRD-61)
        assert cli("lake", "export", "--catalog-only").exit_code == 0
        lake = open_lake(Path(env["TRULIENCE_HOME"]) / "lake")
        row = lake.sql(
            "SELECT takes, delivered, estimate_gpu_s, actual_gpu_s FROM batches"
        ).fetchall()
        with connect(db_url) as conn:
            used = conn.execute(
                "SELECT sum(gpu_seconds)::float8, max(b.estimate_gpu_s)::float8 "
                "FROM batch_item_states i JOIN batches b ON b.id = i.batch_id"
            ).fetchone()
        assert row == [(6, 6, pytest.approx(used[1]), pytest.approx(used[0]))]
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
    print(f"acceptance took {time.monotonic() - started:.1f} s")
