"""A ComfyUI worker process killed (SIGKILL) in the middle of a segment: the segment is
granted again to another worker, the take completes, and no segment is committed twice."""

import threading
import time
from functools import partial

import pytest

from tests.fakes.animatic import SLOTS, WORKFLOW
from tests.fakes.comfyui_process import worker_process
from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.generation.loop import run_loop
from trulience.generation.scene_config import Definition, define
from trulience.generation.workflow_registry import register_workflow
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.workers import health, pool
from trulience.workers.pooled_backend import PooledBackend


@pytest.fixture
def hosts():
    inputs = {"example.png": ASTRONAUT.read_bytes()}
    with (
        worker_process(seconds_per_node=0.15, inputs=inputs) as a,
        worker_process(seconds_per_node=0.15, inputs=inputs) as b,
    ):
        yield a, b


@pytest.fixture
def studio(conn, storage, face_models, hosts):
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    for name, host in zip(("gpu-a", "gpu-b"), hosts, strict=True):
        pool.add_worker(conn, host.url, "studio", 1, name)
        assert health.check_worker(conn, name).state == "online"
    register_workflow(conn, "animatic", WORKFLOW, SLOTS, worker_url=hosts[0].url)
    settings = {"workflow": "animatic", "target_duration_s": 4, "segment_duration_s": 1}
    settings |= {"fps": 12, "width": 128, "height": 128}
    define(conn, Definition("walk", "Walk", settings=settings))
    return conn


def kill_mid_segment(host, killed: list) -> None:
    """SIGKILL `host` once it executes a prompt."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if host.running_prompts():
            time.sleep(0.1)  # a node or two in
            host.kill()
            killed.append(time.monotonic())
            return
        time.sleep(0.02)


def test_a_worker_killed_mid_segment_hands_the_segment_to_another(
    studio, storage, db_url, hosts, tmp_path
):
    a, b = hosts
    killed: list[float] = []
    watcher = threading.Thread(target=kill_mid_segment, args=(a, killed), daemon=True)
    watcher.start()
    factory = partial(ComfyUIBackend, segment_timeout_s=30, reconnect_timeout_s=1)
    with PooledBackend(db_url, "studio", backend_factory=factory, wait_s=20) as backend:
        result = run_loop(studio, storage, backend, "eileen", "walk", tmp_path)
    watcher.join(timeout=5)
    assert killed and not a.alive

    assert result.take.status == "generated" and len(result.plan) == 4
    rows = studio.execute(
        "SELECT index, count(*) FROM segments WHERE scene_id = %s GROUP BY index ORDER BY index",
        (result.take.id,),
    ).fetchall()
    assert [n for _, n in rows] == [1, 1, 1, 1]  # committed once each
    segments = scenes.current_segments(studio, result.take.id).values()
    metadata = [s.provenance["backend_metadata"] for s in segments]
    # gpu-a (first in line) took the first segment and died in it: gpu-b ran them all
    assert {m["worker_name"] for m in metadata} == {"gpu-b"}
    assert "gpu-a" in metadata[0]["failed_over_from"][0]
    outcomes = dict(
        studio.execute("SELECT outcome, count(*) FROM worker_leases GROUP BY 1").fetchall()
    )
    # a lease per try: the killed one and any given to gpu-a before it went offline lost,
    # one done per segment, none left open
    assert outcomes.pop("done") == 4 and outcomes.pop("worker_lost") >= 1 and not outcomes

    # the dead worker's faults go on counting until it is offline; the other one is fine
    for _ in range(pool.OFFLINE_AFTER):
        health.check_pool(studio)
    assert pool.get_worker(studio, "gpu-a").state == "offline"
    assert pool.get_worker(studio, "gpu-b").state == "online"
    assert b.succeeded_seeds() and len(b.succeeded_seeds()) == len(set(b.succeeded_seeds()))
