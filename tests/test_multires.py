"""Preview resolution first, then the final (issue 15 item 6, PRD-59): a take of a previewing
scene type is made at the preview size, and once its preview is approved the same take is
made again at full size (re-rendered with the preview's seeds, or through an upscale
workflow), linked to the approved preview and reviewed as its next revision; only the final
is delivered. Real Postgres, the real loop on the preview backend, real video."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import DagsterInstance, MultiPartitionKey, RunsFilter, build_sensor_context

from resources import CatalogResource
from sensors.finals import finals_sensor
from tests.ingest_files import ASTRONAUT
from trulience.auth import users as accounts
from trulience.catalog import characters, finals, projects, scene_types, scenes
from trulience.catalog.chains import settled_approvals_cursor, triggered_chains
from trulience.catalog.comparisons import attempts_of
from trulience.catalog.database import connect
from trulience.catalog.reviews import request_deliveries
from trulience.catalog.users import get_user
from trulience.catalog.workflows import add_workflow
from trulience.cli import main
from trulience.config import Settings
from trulience.delivery.scene import assemble_take
from trulience.generation.backend import PermanentBackendError
from trulience.generation.loop import run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.resolution import preview_size
from trulience.generation.scene_config import Definition, InvalidSceneType, define, resolve
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file
from trulience.media.probe import probe
from trulience.production.chains import add_rule
from trulience.production.finals import FinalRefused, start_final
from trulience.review import decide, review_queue
from trulience.samples import sample_characters
from trulience.storage import Storage
from trulience_assets.definitions import build_definitions
from trulience_assets.instance import prepare_home
from trulience_assets.launch import run_job
from trulience_assets.partitions import partition_take

REPO = Path(__file__).resolve().parents[1]
BLINK = {
    "fps": 12,
    "width": 128,
    "height": 96,
    "target_duration_s": 2,
    "segment_duration_s": 1,
    "seed": 7,
}


@pytest.fixture
def ready(conn, storage, face_models):
    """Eileen, QA'd with a primary image, in a project; a reviewer; 'blink' previewed at
    half size and re-rendered, 'blink-full' with no preview."""
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    define(conn, Definition("blink", "Blink", settings=BLINK | {"preview": {"scale": 0.5}}))
    define(conn, Definition("blink-full", "Blink (full)", settings=BLINK))
    accounts.create_user(conn, "rita", "Rita", "reviewer", "rita-reviews-takes")
    return conn


def made(conn, storage, tmp_path: Path, scene_type: str = "blink"):
    """Generate (or resume) eileen's take in `scene_type` and assemble it."""
    result = run_loop(conn, storage, LocalPreviewBackend(), "eileen", scene_type, tmp_path / "w")
    assembled = assemble_take(conn, storage, result.take.id, tmp_path / "a")
    return result, assembled


def size_of(storage: Storage, uri: str, tmp_path: Path) -> tuple[int, int]:
    info = probe(storage.local_file(storage.key_of(uri), tmp_path / "probe"))
    return info.width, info.height


def approve(conn, scene_id: int):
    """Rita approves the take's newest revision, with no undo window."""
    return decide(conn, get_user(conn, "rita"), scene_id, "approve", undo_window_s=0)


def test_the_preview_setting_is_checked_naming_its_field_and_nothing_is_stored(conn):
    cases = [
        ({"scale": 0}, "preview.scale", "greater than 0 and at most 1"),
        ({"scale": 1.5}, "preview.scale", "greater than 0 and at most 1"),
        ({"width": 63, "height": 48}, "preview.width", "even number of pixels"),
        ({"width": 64, "height": 47}, "preview.height", "H.264 refuses odd sizes"),
        ({"width": 256, "height": 48}, "preview.width", "larger than the final's width 128"),
        ({"scale": 0.5, "final": "magic"}, "preview.final", "rerender, upscale"),
        ({"scale": 0.5, "final": "upscale"}, "preview.upscale_workflow", "needs the workflow"),
        (
            {"scale": 0.5, "final": "upscale", "upscale_workflow": "nope"},
            "preview.upscale_workflow",
            "no workflow named 'nope'",
        ),
        ({"scale": 0.5, "width": 64, "height": 48}, "preview", "not both"),
        ({"size": 3}, "preview", "unknown key(s) size"),
    ]
    for preview, field, reason in cases:
        with pytest.raises(InvalidSceneType) as refused:
            define(conn, Definition("blink", "Blink", settings=BLINK | {"preview": preview}))
        assert refused.value.field == field and reason in refused.value.reason, preview
    assert scene_types.list_scene_types(conn) == []


def test_preview_sizes_are_always_even_and_never_larger_than_the_final():
    for scale in (0.1, 0.33, 0.5, 0.77, 1):
        for width, height in ((1280, 720), (130, 90), (1920, 1080), (16, 16)):
            w, h = preview_size("t", {"scale": scale}, width, height)
            assert w % 2 == 0 and h % 2 == 0 and w >= 16 and h >= 16
            assert w <= max(width, 16) and h <= max(height, 16)
    assert preview_size("t", {"scale": 0.5}, 1280, 720) == (640, 360)
    assert preview_size("t", {"width": 320, "height": 180}, 1280, 720) == (320, 180)


def test_the_cli_sets_the_preview_and_refuses_bad_values_by_field(db_url, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}

    def run(*args):
        return CliRunner().invoke(main, list(args), env=env)

    base = ["scene-types", "add", "blink", "--duration", "2", "--segment", "1", "--fps", "12"]
    size = ["--width", "128", "--height", "96"]
    refused = run(*base, *size, "--preview", "65x48")
    assert refused.exit_code == 1 and "preview.width: must be an even number" in refused.output
    refused = run(*base, *size, "--preview", "2")
    assert refused.exit_code == 1 and "preview.scale" in refused.output
    refused = run(*base, *size, "--preview", "half")
    assert refused.exit_code == 2 and "--preview" in refused.output
    refused = run(*base, *size, "--preview", "0.5", "--final", "upscale")
    assert refused.exit_code == 1 and "preview.upscale_workflow" in refused.output
    assert "Traceback" not in refused.output
    assert "created" in run(*base, *size, "--preview", "64x48").output
    with connect(db_url) as conn:
        assert resolve(conn, "blink").preview == {"width": 64, "height": 48, "final": "rerender"}
    assert "new version 2" in run(*base, *size, "--preview", "off").output
    with connect(db_url) as conn:
        assert resolve(conn, "blink").preview == {}


def test_a_scene_type_without_preview_makes_and_delivers_takes_as_today(ready, storage, tmp_path):
    result, assembled = made(ready, storage, tmp_path, "blink-full")
    assert result.take.stage is None and size_of(storage, assembled.uri, tmp_path) == (128, 96)
    approve(ready, result.take.id)
    assert [(d.scene_id, d.revision) for d in request_deliveries(ready)] == [(result.take.id, 1)]
    with pytest.raises(FinalRefused, match="is not a preview"):
        start_final(ready, result.take.id, "tests")
    assert finals.take_stage(ready, result.take.id) is None


def test_an_approved_preview_is_made_final_at_full_size_as_its_next_revision(
    ready, storage, tmp_path
):
    preview, assembled = made(ready, storage, tmp_path)
    scene = preview.take.id
    assert preview.take.stage == "preview"
    assert size_of(storage, assembled.uri, tmp_path) == (64, 48)
    preview_seeds = {
        i: s.provenance["seed"] for i, s in scenes.current_segments(ready, scene).items()
    }
    with pytest.raises(FinalRefused, match="approve it first"):
        start_final(ready, scene, "tests")

    # a preview's approval never starts delivery: it starts the final
    assert not approve(ready, scene).request_delivery
    assert request_deliveries(ready) == []
    assert [d.scene_id for d in finals.previews_due(ready)] == [scene]
    started = start_final(ready, scene, "tests")
    assert started.started and (started.width, started.height) == (128, 96)
    assert (started.method, started.preview_revision) == ("rerender", 1)
    again = start_final(ready, scene, "tests")  # a second approval event makes nothing new
    assert not again.started and again.final_id == started.final_id
    assert ready.execute("SELECT count(*) FROM take_finals").fetchone()[0] == 1
    assert finals.previews_due(ready) == []

    # the final is the same take, resumed at full size with the preview's seeds
    final, reassembled = made(ready, storage, tmp_path)
    assert final.take.id == scene and final.resumed and final.take.stage == "final"
    assert final.generated == [0, 1]
    current = scenes.current_segments(ready, scene)
    assert {i: s.provenance["seed"] for i, s in current.items()} == preview_seeds
    assert all(size_of(storage, s.uri, tmp_path) == (128, 96) for s in current.values())
    assert size_of(storage, reassembled.uri, tmp_path) == (128, 96)
    assert reassembled.revision == 2 and reassembled.new_revision

    # reviewers see it as revision 2 of the same take, the preview its prior revision
    queue = review_queue(ready, get_user(ready, "rita"))
    assert [(t.scene_id, t.take, t.revision) for t in queue] == [(scene, 1, 2)]
    stages = [(v.revision, v.stage, v.decision) for v in finals.revisions_of(ready, scene)]
    assert stages == [(1, "preview", "approved"), (2, "final", None)]
    stage = finals.take_stage(ready, scene)
    assert stage is not None and (stage.final_revision, stage.review_id) == (2, queue_review(ready))
    # compare: each segment's preview attempt and its final attempt side by side
    assert [a.attempt for a in attempts_of(ready, scene, 0)] == [1, 2]

    assert request_deliveries(ready) == []  # revision 2 is undecided
    assert approve(ready, scene).request_delivery
    assert [(d.scene_id, d.revision) for d in request_deliveries(ready)] == [(scene, 2)]
    assert finals.previews_due(ready) == [] and finals.finals_to_make(ready) == []


def queue_review(conn) -> int:
    """The id of the approval of revision 1 (the preview's)."""
    return conn.execute(
        "SELECT id FROM reviews WHERE revision = 1 AND decision = 'approved'"
    ).fetchone()[0]


def test_an_undoable_preview_approval_does_not_start_the_final_yet(ready, storage, tmp_path):
    preview, _ = made(ready, storage, tmp_path)
    decide(ready, get_user(ready, "rita"), preview.take.id, "approve", undo_window_s=600)
    assert finals.previews_due(ready) == []
    with pytest.raises(FinalRefused, match="can still be undone until"):
        start_final(ready, preview.take.id, "tests")


def test_an_upscaled_final_names_its_workflow_and_is_given_each_preview_segment(
    ready, storage, tmp_path
):
    workflow = add_workflow(ready, "upscale-2x", {"1": {"class_type": "LoadVideo", "inputs": {}}})
    upscale = {"scale": 0.5, "final": "upscale", "upscale_workflow": "upscale-2x"}
    define(ready, Definition("blink", "Blink", settings=BLINK | {"preview": upscale}))
    preview, _ = made(ready, storage, tmp_path)
    inputs = [s.uri for _, s in sorted(scenes.current_segments(ready, preview.take.id).items())]
    approve(ready, preview.take.id)
    started = start_final(ready, preview.take.id, "tests")
    assert started.method == "upscale"
    take = scenes.get_take(ready, preview.take.id)
    config = take.effective_config
    assert (config["workflow"], config["workflow_version"]) == ("upscale-2x", workflow.version)
    assert config["workflow_sha256"] == workflow.sha256
    assert config["params"]["upscale_inputs"] == inputs
    stage = finals.take_stage(ready, preview.take.id)
    assert stage is not None and stage.workflow == "upscale-2x"
    final, assembled = made(ready, storage, tmp_path)
    assert final.take.stage == "final" and size_of(storage, assembled.uri, tmp_path) == (128, 96)


def test_a_preview_approval_sets_off_no_chain_rule_its_final_approval_does(
    ready, storage, tmp_path
):
    add_rule(ready, "moonbase", "blink", "blink-full", "tests")

    def chained() -> list[tuple]:
        upto = settled_approvals_cursor(ready, 0)
        return [
            (c.because_of, c.revision, c.then_scene_type) for c in triggered_chains(ready, 0, upto)
        ]

    preview, _ = made(ready, storage, tmp_path)
    approve(ready, preview.take.id)
    assert chained() == []
    start_final(ready, preview.take.id, "tests")
    made(ready, storage, tmp_path)
    approve(ready, preview.take.id)
    assert chained() == [(preview.take.id, 2, "blink-full")]


def test_the_final_of_an_older_take_is_made_and_assembled_beside_a_newer_take(
    ready, storage, tmp_path
):
    older, _ = made(ready, storage, tmp_path)
    approve(ready, older.take.id)
    newer = run_loop(
        ready, storage, LocalPreviewBackend(), "eileen", "blink", tmp_path / "n", new_take=True
    )
    assert newer.take.take == 2 and newer.take.stage == "preview"
    start_final(ready, older.take.id, "tests")
    # the cell's runs now work on take 1's final, not on the newest take
    assert partition_take(ready, "eileen", "blink", "moonbase").id == older.take.id
    final, assembled = made(ready, storage, tmp_path)
    assert final.take.id == older.take.id and assembled.revision == 2
    assert partition_take(ready, "eileen", "blink", "moonbase").id == newer.take.id


class DiesAtSegment1(LocalPreviewBackend):
    """The preview backend, whose worker goes away at the final's second segment."""

    def generate_segment(self, seed_frame, request, work_dir):
        if request.index == 1 and request.width == 128:
            raise PermanentBackendError("the worker went away")
        return super().generate_segment(seed_frame, request, work_dir)


def test_a_final_whose_run_died_resumes_after_its_last_committed_segment(ready, storage, tmp_path):
    preview, _ = made(ready, storage, tmp_path)
    scene = preview.take.id
    seeds = {i: s.provenance["seed"] for i, s in scenes.current_segments(ready, scene).items()}
    approve(ready, scene)
    start_final(ready, scene, "tests")
    with pytest.raises(PermanentBackendError):
        run_loop(ready, storage, DiesAtSegment1(), "eileen", "blink", tmp_path / "d")
    kept = scenes.current_segments(ready, scene)
    assert sorted(kept) == [0] and size_of(storage, kept[0].uri, tmp_path) == (128, 96)
    final, assembled = made(ready, storage, tmp_path)
    assert final.resumed and final.generated == [1] and assembled.revision == 2
    current = scenes.current_segments(ready, scene)
    assert current[0].id == kept[0].id
    assert {i: s.provenance["seed"] for i, s in current.items()} == seeds


def test_takes_show_says_preview_or_final_and_the_link(ready, storage, tmp_path, db_url):
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    preview, _ = made(ready, storage, tmp_path)
    scene = preview.take.id
    shown = CliRunner().invoke(main, ["takes", "show", str(scene)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "stage: preview at 64x48; its final (rerender at 128x96)" in shown.output
    assert "revision 1: preview, 24 frames, undecided" in shown.output
    approve(ready, scene)
    start_final(ready, scene, "tests")
    made(ready, storage, tmp_path)
    shown = CliRunner().invoke(main, ["takes", "show", str(scene)], env=env)
    review = queue_review(ready)
    assert (
        "stage: final at 128x96 (rerender), revision 2; of the preview revision 1 (64x48) "
        f"approved in review {review} by rita" in shown.output
    )
    assert "revision 1: preview, 24 frames, approved" in shown.output
    assert "revision 2: final, 24 frames, undecided" in shown.output


def test_the_finals_sensor_starts_each_final_once_and_requests_its_run(
    ready, storage, tmp_path, db_url
):
    context = build_sensor_context(
        resources={"catalog": CatalogResource(home=str(tmp_path), database_url=db_url)}
    )
    assert finals_sensor(context).skip_message == "no approved preview waits for its final"
    preview, _ = made(ready, storage, tmp_path)
    approve(ready, preview.take.id)
    first = finals_sensor(context)
    (request,) = first.run_requests
    (final_id,) = ready.execute("SELECT id FROM take_finals").fetchone()
    assert request.run_key == f"final:{preview.take.id}:{final_id}"
    assert request.partition_key.keys_by_dimension == {
        "character": "eileen",
        "scene_type": "blink",
    }
    assert request.run_config["ops"]["segments"]["config"]["project"] == "moonbase"
    # the next tick asks for the same run (Dagster runs a key once) and starts nothing new
    assert [r.run_key for r in finals_sensor(context).run_requests] == [request.run_key]
    assert ready.execute("SELECT count(*) FROM take_finals").fetchone()[0] == 1
    made(ready, storage, tmp_path)  # the final is made: nothing more to request
    assert finals_sensor(context).skip_message == "no approved preview waits for its final"


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}\n--- daemon log ---\n{tail}")


@pytest.mark.slow
def test_through_the_daemon_an_approved_preview_is_made_final_then_delivered(db_url, tmp_path):
    """Acceptance: the preview take made by a scenes run, approved; the real dagster-daemon's
    finals_sensor makes its final at full size as revision 2, linked to the preview; that
    approved, the approvals sensor delivers revision 2 (never the preview)."""
    started = time.monotonic()
    home = tmp_path / "home"
    dagster_home = prepare_home(home / "dagster", dequeue_num_workers=2, dequeue_interval_seconds=1)
    env = {
        "TRULIENCE_HOME": str(home),
        "DATABASE_URL": db_url,
        "DAGSTER_HOME": str(dagster_home),
        "TRULIENCE_ACTOR": "cli:pat",
    }
    settings = Settings.from_env(env)
    storage = Storage(settings.storage_url)
    eileen = next(s for s in sample_characters() if s.slug == "eileen")
    with connect(db_url, actor="tests") as conn:
        projects.create_project(
            conn, "moonbase", "Moonbase", settings={"image_qa": {"min_short_side": 320}}
        )
        characters.create_character(
            conn, eileen.slug, eileen.metadata["name"], eileen.metadata, ["moonbase"]
        )
        for name, data in eileen.images.items():
            (tmp_path / name).write_bytes(data)
            add_image_file(conn, storage, eileen.slug, tmp_path / name)
        # the identity gates run here: a face needs some 128 square pixels to be recognised
        blink = BLINK | {"width": 256, "height": 256, "preview": {"scale": 0.5}}
        define(conn, Definition("blink", "Blink", settings=blink))
        accounts.create_user(conn, "rita", "Rita", "reviewer", "rita-reviews-takes")
    cell = MultiPartitionKey({"character": "eileen", "scene_type": "blink"})
    instance = DagsterInstance.from_config(str(dagster_home))
    try:
        defs = build_definitions(settings)
        for job, keys in (("characters", []), ("scenes", [cell])):
            runs = run_job(defs, instance, job, keys)
            assert len(runs) == 1 and runs[0].ok, runs
    finally:
        instance.dispose()

    with connect(db_url, actor="tests") as conn:
        (take,) = scenes.list_takes(conn, "moonbase", "eileen", "blink")
        assert (take.stage, take.status) == ("preview", "assembled")
        assert size_of(storage, take.uri, tmp_path) == (128, 128)
        approve(conn, take.id)

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

            def now() -> tuple:
                row = scenes.get_take(conn, take.id)
                return row.stage, row.status

            wait_for("the final assembled", lambda: now() == ("final", "assembled"), 180, log)
            final = scenes.get_take(conn, take.id)
            assert size_of(storage, final.uri, tmp_path) == (256, 256)
            stage = finals.take_stage(conn, take.id)
            assert stage is not None and (stage.preview_revision, stage.final_revision) == (1, 2)
            assert stage.reviewer == "rita" and stage.method == "rerender"
            queue = review_queue(conn, get_user(conn, "rita"))
            assert [(t.scene_id, t.revision) for t in queue] == [(take.id, 2)]
            # the preview was never delivered
            assert conn.execute("SELECT count(*) FROM deliverables").fetchone()[0] == 0

            approve(conn, take.id)

            def delivered() -> list:
                return conn.execute(
                    "SELECT revision FROM deliverables WHERE scene_id = %s AND status = 'packaged'",
                    (take.id,),
                ).fetchall()

            wait_for("revision 2 delivered", lambda: delivered() == [(2,)], 150, log)
        instance = DagsterInstance.from_config(str(dagster_home))
        try:
            made_final = instance.get_runs(
                RunsFilter(tags={"trulience/final": str(stage.final_id)})
            )
            assert len(made_final) == 1 and made_final[0].is_success
            deliveries = instance.get_runs(RunsFilter(job_name="delivery"))
            assert [r.tags["trulience/revision"] for r in deliveries] == ["2"]
        finally:
            instance.dispose()
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
    print(f"the preview-to-final journey took {time.monotonic() - started:.1f} s")
