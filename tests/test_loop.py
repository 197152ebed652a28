"""The recursive loop (PRD-24, 28, 34, 69) on the real preview backend and real video."""

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.ingest_files import ASTRONAUT
from trulience.catalog import characters, projects, scenes, source_images
from trulience.catalog.database import connect
from trulience.catalog.locks import take_lock
from trulience.generation.loop import LoopStopped, NotReady, TakeBusy, open_take, run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, define, resolve
from trulience.generation.seed import first_seed_frame, png_bytes
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.media.frames import first_frame, read_frames
from trulience.media.frames import last_frame as decoded_last_frame
from trulience.media.probe import probe

REPO = Path(__file__).resolve().parents[1]
SMALL = {"fps": 12, "width": 128, "height": 128, "prompt_template": "{name}, {role}"}


@pytest.fixture
def ready(conn, storage, face_models):
    """A project with Eileen, QA'd and with a primary image, and two scene types."""
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    define(
        conn,
        Definition(
            "walk", "Walk", settings=SMALL | {"target_duration_s": 30, "segment_duration_s": 5}
        ),
    )
    define(
        conn,
        Definition(
            "blink", "Blink", settings=SMALL | {"target_duration_s": 2, "segment_duration_s": 0.75}
        ),
    )
    return conn


def local(storage, uri, tmp_path):
    path = tmp_path / uri.rsplit("/", 1)[1]
    path.write_bytes(storage.read_bytes(storage.key_of(uri)))
    return path


def test_thirty_seconds_in_five_second_segments_is_exact_and_continuous(ready, storage, tmp_path):
    result = run_loop(ready, storage, LocalPreviewBackend(), "eileen", "walk", tmp_path / "w")
    assert result.plan == [60] * 6 and result.take.status == "generated"
    assert result.take.frames == 30 * 12
    segments = scenes.current_segments(ready, result.take.id)
    files = [local(storage, segments[i].uri, tmp_path) for i in range(6)]
    assert sum(probe(f).frames for f in files) == 360
    for before, after in itertools.pairwise(files):
        seam = np.abs(first_frame(after).astype(int) - decoded_last_frame(before).astype(int))
        inside = np.abs(first_frame(before).astype(int) - decoded_last_frame(before).astype(int))
        assert seam.mean() < 3, "segment n must start where segment n-1 ended"
        assert seam.mean() < inside.mean() / 3
    # provenance of every segment: where its seed came from and what made it
    first, second = segments[0].provenance, segments[1].provenance
    assert first["seed_frame_source"] != "lossless" and second["seed_frame_source"] == "lossless"
    assert second["seed_frame_sha256"] == first["last_frame_sha256"]
    assert first["prompt"] == "Eileen, pilot" and first["backend"] == "preview"
    assert first["scene_type_version"] == 1 and first["seed"] == 0 and second["seed"] == 1
    assert {"started_at", "finished_at", "compute_s", "workflow_sha256"} <= set(first)


def test_last_segment_is_trimmed_to_the_exact_total(ready, storage, tmp_path):
    result = run_loop(ready, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path / "w")
    assert result.plan == [9, 9, 6] and result.frames == 24
    segments = scenes.current_segments(ready, result.take.id)
    assert [probe(local(storage, s.uri, tmp_path)).frames for s in segments.values()] == [9, 9, 6]


def test_rerun_of_a_finished_take_starts_the_next_take_and_keeps_the_old(ready, storage, tmp_path):
    first = run_loop(ready, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path / "a")
    second = run_loop(ready, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path / "b")
    assert (first.take.take, second.take.take) == (1, 2)
    assert len(scenes.current_segments(ready, first.take.id)) == 3


def test_a_character_without_a_usable_image_is_not_ready(ready, storage, tmp_path):
    characters.create_character(ready, "ghost", "Ghost", projects=["moonbase"])
    with pytest.raises(NotReady, match="no primary image that passed QA"):
        run_loop(ready, storage, LocalPreviewBackend(), "ghost", "walk", tmp_path)
    take = scenes.latest_take(ready, "moonbase", "ghost", "walk")
    assert take.status == "failed" and "no primary image" in take.failure


def test_a_take_another_run_is_generating_is_busy(ready, storage, tmp_path, db_url):
    take, _, _ = open_take(ready, "moonbase", "eileen", "blink")
    with connect(db_url) as other, take_lock(other, take.id) as held:
        assert held
        with take_lock(ready, take.id) as also:
            assert not also  # one session at a time works on a take
        with pytest.raises(TakeBusy, match="take 1 of eileen/blink is being generated by"):
            run_loop(ready, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path)
        assert scenes.get_take(ready, take.id).status == take.status  # left as it was
    result = run_loop(ready, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path)
    assert result.resumed and result.take.id == take.id and result.take.status == "generated"


def test_a_stored_crop_at_the_scene_size_seeds_segment_zero(ready, storage):
    primary = next(i for i in source_images.list_source_images(ready, "eileen") if i.is_primary)
    pixels = np.full((128, 128, 3), (40, 90, 160), dtype=np.uint8)
    stored = storage.put_bytes(
        "characters/eileen/variants/test/crop-128x128.png", png_bytes(pixels)
    )
    ready.execute(
        """INSERT INTO image_variants (source_image_id, kind, width, height, params, uri, sha256)
           VALUES (%s, 'crop', 128, 128, '{}', %s, %s)
           ON CONFLICT (source_image_id, kind, width, height) DO UPDATE
              SET uri = EXCLUDED.uri, sha256 = EXCLUDED.sha256""",
        (primary.id, stored.uri, stored.sha256),
    )
    seed = first_seed_frame(ready, storage, "eileen", resolve(ready, "walk"))
    assert seed.source == "variant" and seed.sha256 == stored.sha256
    assert np.array_equal(seed.pixels, pixels)
    # no stored crop at another size: the primary image is cropped on the fly
    other_size = replace(resolve(ready, "walk"), width=96, height=96)
    cropped = first_seed_frame(ready, storage, "eileen", other_size)
    assert cropped.source == "primary image (cropped on the fly)"
    assert cropped.pixels.shape == (96, 96, 3)


def test_pause_resume_and_cancel_between_segments(ready, storage, tmp_path, db_url):
    events = []

    def on_event(kind, data):
        events.append(kind)
        if kind == "segment_committed" and data["index"] == 0:
            with connect(db_url) as other:  # a producer, elsewhere
                take = scenes.latest_take(other, "moonbase", "eileen", "walk")
                scenes.set_take_control(other, take.id, "pause", "maria")

                def resume_later():
                    time.sleep(0.5)
                    with connect(db_url) as again:
                        scenes.set_take_control(again, take.id, "run", "maria")

                threading.Thread(target=resume_later).start()
        if kind == "segment_committed" and data["index"] == 2:
            with connect(db_url) as other:
                take = scenes.latest_take(other, "moonbase", "eileen", "walk")
                scenes.set_take_control(other, take.id, "cancel", "maria")

    with pytest.raises(LoopStopped, match="cancelled by maria"):
        run_loop(
            ready,
            storage,
            LocalPreviewBackend(),
            "eileen",
            "walk",
            tmp_path,
            poll_s=0.05,
            events=on_event,
        )
    assert events.count("paused") == 1 and events.count("resumed") == 1
    take = scenes.latest_take(ready, "moonbase", "eileen", "walk")
    assert take.status == "cancelled"
    assert sorted(scenes.current_segments(ready, take.id)) == [0, 1, 2]  # finished work kept


KILL_SCRIPT = """
import sys, tempfile
from pathlib import Path
from trulience.catalog.database import connect
from trulience.generation.loop import run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.storage import Storage

url, storage_url = sys.argv[1], sys.argv[2]

def say(kind, data):
    print(kind, data.get("index"), flush=True)

with connect(url, actor="loop-test") as conn:
    run_loop(conn, Storage(storage_url), LocalPreviewBackend(), "eileen", "walk",
             Path(tempfile.mkdtemp()), events=say)
"""


@pytest.mark.slow
def test_killed_run_resumes_after_last_committed_segment(ready, storage, db_url, tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, db_url, storage.url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith("segment_committed 2"):
                # segment 2 committed, segment 3 made (or being made) but not committed
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    take = scenes.latest_take(ready, "moonbase", "eileen", "walk")
    before = {i: s.sha256 for i, s in scenes.current_segments(ready, take.id).items()}
    assert sorted(before) == [0, 1, 2] and take.status == "generating"

    result = run_loop(ready, storage, LocalPreviewBackend(), "eileen", "walk", tmp_path / "w")

    assert result.resumed and result.take.id == take.id and result.generated == [3, 4, 5]
    after = scenes.current_segments(ready, take.id)
    assert {i: after[i].sha256 for i in (0, 1, 2)} == before  # untouched
    rows = ready.execute(
        "SELECT index, count(*) FROM segments WHERE scene_id = %s GROUP BY index ORDER BY index",
        (take.id,),
    ).fetchall()
    assert rows == [(i, 1) for i in range(6)]  # no duplicate rows
    assert result.take.status == "generated" and result.frames == 360
    # no stray files: every stored segment file belongs to a committed row
    keys = [k for k in storage.list("scenes") if k.endswith(".mp4")]
    assert sorted(storage.uri(k) for k in keys) == sorted(s.uri for s in after.values())
    # the resumed segment 3 was seeded from segment 2's lossless last frame
    assert after[3].provenance["seed_frame_sha256"] == after[2].provenance["last_frame_sha256"]
    assert json.loads(json.dumps(after[3].provenance))["seed_frame_source"] == "lossless"
    frames = list(read_frames(local(storage, after[3].uri, tmp_path)))
    assert len(frames) == 60


def test_cli_generate_status_and_controls(ready, db_url, storage, tmp_path):
    from click.testing import CliRunner

    from trulience.cli import main

    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "STORAGE_URL": storage.url,
        "TRULIENCE_ACTOR": "cli:maria",
    }

    def cli(*args):
        return CliRunner().invoke(main, list(args), env=env)

    made = cli("generate", "eileen", "blink")
    assert made.exit_code == 0, made.output
    assert "take 1: 3 segments, 24 frames (3 generated now)" in made.output
    status = cli("runs", "status", "eileen", "blink")
    assert "take 1: status generated, control run, segments 3/3" in status.output
    assert cli("runs", "pause", "eileen", "blink").exit_code == 0
    take = scenes.latest_take(ready, "moonbase", "eileen", "blink")
    assert take.control == "pause"
    assert (
        ready.execute("SELECT control_by FROM scenes WHERE id = %s", (take.id,)).fetchone()[0]
        == "cli:maria"
    )
    missing = cli("runs", "cancel", "eileen", "walk")
    assert missing.exit_code == 1 and "not found" in missing.output
