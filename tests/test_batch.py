"""Batches (PRD-57): requests checked value by value, items followed through the catalog
from pending to delivered, the CLI, and the Dagster backfill a batch becomes."""

import pytest
from click.testing import CliRunner
from dagster import AssetKey, DagsterInstance, instance_for_test

from tests.batch_history import add_take, make_character, make_project, make_scene_type
from trulience.catalog.errors import InvalidValue
from trulience.catalog.readiness import readiness
from trulience.cli import main
from trulience.config import Settings
from trulience.generation.scene_config import Definition, define
from trulience.production.batch import (
    BatchRequest,
    InvalidBatch,
    cancel_batch,
    create_batch,
    get_batch,
    item_states,
    record_launch,
    refresh,
)
from trulience_assets.batch import describe_backfill, launch_batch
from trulience_assets.definitions import build_definitions


@pytest.fixture
def production(conn):
    """Three ready characters, two scene types, one past take of eileen in 'walk'."""
    make_project(conn)
    for slug in ("eileen", "marco", "theo"):
        make_character(conn, slug)
    make_scene_type(conn, "walk")
    make_scene_type(conn, "run", duration_s=4)
    add_take(conn, "eileen", "walk", [[10.0], [8.0, 12.0], [12.0]])
    return conn


def stored(conn) -> tuple[int, int]:
    return conn.execute(
        "SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM batch_items)"
    ).fetchone()


def request(**changes) -> BatchRequest:
    values = {
        "project": "moonbase",
        "characters": ("eileen", "marco"),
        "scene_types": ("walk",),
        "priority": 0,
        "requested_by": "producer:pat",
    } | changes
    return BatchRequest(**values)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"project": "nowhere"}, "project 'nowhere' does not exist"),
        ({"characters": ("eileen", "zed")}, "character 'zed' does not exist"),
        ({"scene_types": ("walk", "fly")}, "scene type 'fly' does not exist"),
        ({"characters": ("outsider",)}, "character 'outsider' is not in project 'moonbase'"),
        (
            {"characters": ("newbie",)},
            "character 'newbie' is not ready: no primary image that passed QA, "
            "no face identity, no image variants",
        ),
        ({"priority": 101}, "priority 101: must be a whole number from -100 to 100"),
        ({"priority": -101}, "priority -101: must be a whole number from -100 to 100"),
        ({"scene_types": ("bare",)}, "scene type 'bare' cannot be generated"),
        ({"characters": ()}, "no characters given"),
    ],
)
def test_a_bad_request_names_the_bad_value_and_stores_nothing(production, changes, message):
    make_character(production, "outsider", project=None)
    make_character(production, "newbie", ready=False)
    define(production, Definition("bare", "Bare", settings={"fps": 24}))
    with pytest.raises(InvalidBatch) as refused:
        create_batch(production, request(**changes))
    assert message in str(refused.value)
    assert str(refused.value).startswith("batch refused, nothing stored: ")
    assert stored(production) == (0, 0)


def test_every_bad_value_is_listed_at_once(production):
    with pytest.raises(InvalidBatch) as refused:
        create_batch(production, request(characters=("zed", "yan"), scene_types=("fly",)))
    assert len(refused.value.problems) == 3


def test_an_archived_project_takes_no_batch(production):
    production.execute("UPDATE projects SET status = 'archived'")
    with pytest.raises(InvalidBatch, match="project 'moonbase' is archived, not active"):
        create_batch(production, request())


def test_items_follow_their_takes_from_pending_to_delivered(production):
    production.execute(
        "INSERT INTO users (username, display_name, role) VALUES ('rita', 'Rita', 'reviewer')"
    )
    add_take(production, "eileen", "run", [[5.0]], status="qa_failed")  # unfinished: resumed
    batch, _ = create_batch(
        production, request(characters=("eileen", "marco", "theo"), scene_types=("walk", "run"))
    )
    assert batch.items == 6
    assert {i.state for i in item_states(production, batch.id)} == {"queued"}
    record_launch(production, batch.id, "bf-1")
    states = {(i.character, i.scene_type): i for i in item_states(production, batch.id)}
    assert states["eileen", "walk"].state == "pending"  # take 1 was made before the batch
    assert (states["eileen", "run"].take, states["eileen", "run"].state) == (1, "failed")

    delivered = add_take(production, "eileen", "walk", [[3.0], [3.0], [3.0]])
    add_take(production, "marco", "walk", [[4.0]], status="generating")
    flagged = add_take(production, "marco", "run", [[1.0], [1.0]])
    add_take(production, "theo", "run", [[1.0], [1.0]])
    for scene, decision in ((delivered, "approved"), (flagged, "flagged")):
        production.execute(
            "INSERT INTO reviews (scene_id, reviewer_id, decision) "
            "SELECT %s, id, %s FROM users WHERE username = 'rita'",
            (scene, decision),
        )
    production.execute(
        "INSERT INTO deliverables (scene_id, status) VALUES (%s, 'packaged')", (delivered,)
    )
    refreshed = refresh(production, batch.id)
    assert refreshed.status == "running"
    states = {(i.character, i.scene_type): i for i in item_states(production, batch.id)}
    assert {k: (s.take, s.state) for k, s in states.items()} == {
        ("eileen", "walk"): (2, "delivered"),
        ("eileen", "run"): (1, "failed"),
        ("marco", "walk"): (1, "generating"),
        ("marco", "run"): (1, "in_review"),
        ("theo", "walk"): (None, "pending"),
        ("theo", "run"): (1, "assembled"),
    }
    assert float(states["eileen", "walk"].gpu_seconds) == 9.0
    linked = production.execute(
        "SELECT count(*) FROM batch_items WHERE batch_id = %s AND scene_id IS NOT NULL",
        (batch.id,),
    ).fetchone()[0]
    assert linked == 5
    # every take delivered or failed: the batch is complete
    production.execute("UPDATE scenes SET status = 'failed' WHERE status <> 'assembled'")
    add_take(production, "theo", "walk", [[1.0]], status="failed")
    production.execute(
        "INSERT INTO deliverables (scene_id, status) SELECT id, 'packaged' FROM scenes "
        "WHERE status = 'assembled' AND id <> %s",
        (delivered,),
    )
    assert refresh(production, batch.id).status == "completed"


def test_an_item_reads_the_decision_on_its_takes_newest_revision(production):
    # as the review queue does: an approval of revision 1 does not approve revision 2
    production.execute(
        "INSERT INTO users (username, display_name, role) VALUES ('rita', 'Rita', 'reviewer')"
    )
    batch, _ = create_batch(production, request(characters=("eileen",), scene_types=("walk",)))
    record_launch(production, batch.id, "bf-1")
    scene = add_take(production, "eileen", "walk", [[3.0], [3.0]])
    production.execute(
        "INSERT INTO reviews (scene_id, reviewer_id, decision) "
        "SELECT %s, id, 'approved' FROM users WHERE username = 'rita'",
        (scene,),
    )
    assert [i.state for i in item_states(production, batch.id)] == ["approved"]
    assert readiness(production, "eileen").scenes_approved == 1
    production.execute(  # a segment regenerated, the take assembled again: revision 2
        "UPDATE scenes SET uri = 'file:///r2/scene.mp4', sha256 = %s WHERE id = %s",
        ("c" * 64, scene),
    )
    assert [i.state for i in item_states(production, batch.id)] == ["assembled"]
    # readiness counts approved takes by the same rule
    assert readiness(production, "eileen").scenes_approved == 0


def test_only_a_queued_batch_is_launched_or_cancelled(production):
    batch, _ = create_batch(production, request())
    record_launch(production, batch.id, "bf-1")
    with pytest.raises(InvalidValue, match="is not queued; not launched"):
        record_launch(production, batch.id, "bf-2")
    with pytest.raises(InvalidValue, match="cancel a running batch's backfill bf-1"):
        cancel_batch(production, batch.id)
    other, _ = create_batch(production, request(priority=5))
    assert cancel_batch(production, other.id).status == "cancelled"


def test_a_batch_becomes_a_tagged_backfill_over_its_partitions(production, db_url, tmp_path):
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url})
    defs = build_definitions(settings)
    batch, _ = create_batch(production, request(priority=7, scene_types=("walk", "run")))
    with instance_for_test() as instance:
        backfill_id = launch_batch(defs, instance, batch.id)
        backfill = instance.get_backfill(backfill_id)
        assert backfill.tags == {
            "dagster/priority": "7",
            "trulience/batch": str(batch.id),
            "trulience/requested_by": "producer:pat",
        }
        assert set(backfill.asset_selection) == {AssetKey("segments"), AssetKey("scene_video")}
        assert backfill.run_config["ops"]["segments"]["config"]["project"] == "moonbase"
        target = backfill.asset_backfill_data.target_subset
        keys = target.get_partitions_subset(AssetKey("segments")).get_partition_keys()
        assert sorted(keys) == ["eileen|run", "eileen|walk", "marco|run", "marco|walk"]
        # the dynamic partitions were added first
        assert set(instance.get_dynamic_partitions("character")) >= {"eileen", "marco"}
        ok, lines = describe_backfill(defs, instance, batch.id)
        assert ok and lines[0].startswith(f"Dagster backfill {backfill_id}: REQUESTED")
    launched = get_batch(production, batch.id)
    assert (launched.status, launched.dagster_backfill_id) == ("running", backfill_id)
    assert launched.launched_at is not None


def test_a_batch_is_launched_once(production, db_url, tmp_path):
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url})
    defs = build_definitions(settings)
    batch, _ = create_batch(production, request())
    with instance_for_test() as instance:
        first = launch_batch(defs, instance, batch.id)
        with pytest.raises(InvalidValue, match="is not queued; not launched"):
            launch_batch(defs, instance, batch.id)
        # the catalog refused inside its transaction, before a second backfill was added
        assert [b.backfill_id for b in instance.get_backfills()] == [first]
    assert get_batch(production, batch.id).dagster_backfill_id == first


@pytest.fixture
def cli(production, db_url, tmp_path):
    env = {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "TRULIENCE_ACTOR": "cli:pat",
    }

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_cli_dry_run_prints_the_estimate_and_stores_nothing(cli, production):
    result = cli(
        "batch", "create", "--project", "moonbase", "--characters", "eileen,marco",
        "--characters", "theo", "--scene-types", "walk", "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "estimate: 126.0 GPU s" in result.output
    assert "from 3 segment(s) of 1 past take(s)" in result.output
    assert "budget: none set for project moonbase" in result.output
    assert "dry run: the batch would launch now; nothing stored" in result.output
    assert stored(production) == (0, 0)


def test_cli_refuses_a_batch_beyond_the_budget_after_showing_its_estimate(cli, production):
    assert cli("budgets", "set", "moonbase", "--gpu-hours", "0.03").exit_code == 0
    result = cli(
        "batch", "create", "--project", "moonbase", "--characters", "eileen,marco,theo",
        "--scene-types", "walk", "--priority", "5",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.index("estimate: 126.0 GPU s") < result.output.index("Error: batch")
    assert "project moonbase has 66.0 GPU s" in result.output
    assert "Traceback" not in result.output
    assert stored(production) == (0, 0)


def test_cli_names_bad_values_without_a_traceback(cli, production):
    result = cli(
        "batch", "create", "--project", "moonbase", "--characters", "eileen,zed",
        "--scene-types", "walk", "--priority", "500",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "character 'zed' does not exist" in result.output
    assert "priority 500: must be a whole number from -100 to 100" in result.output
    assert "Traceback" not in result.output and stored(production) == (0, 0)


def test_cli_queues_a_batch_and_shows_budgets(cli, production):
    result = cli("budgets", "set", "moonbase", "--gpu-hours", "0.03", "--policy", "queue")
    assert "policy queue" in result.output
    result = cli(
        "batch", "create", "--project", "moonbase", "--characters", "eileen,marco,theo",
        "--scene-types", "walk",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "batch 1: queued until the budget allows" in result.output
    assert "trulience batch release" in result.output
    listed = cli("batch", "list").output
    assert "queued" in listed and "estimate 126.0 GPU s" in listed
    shown = cli("budgets", "show").output
    assert "budget of moonbase: 108.0 GPU s" in shown and "used 42.0" in shown
    released = cli("batch", "release")
    assert "batch 1 still waits" in released.output and "0 batch(es) launched" in released.output
    assert cli("batch", "cancel", "1").output.strip() == "batch 1 cancelled"
    status = cli("batch", "status", "1")
    assert "batch 1 of project moonbase: cancelled" in status.output
    assert "takes: 3 cancelled" in status.output


@pytest.mark.slow  # starts the Dagster child process
def test_cli_launches_a_batch_as_a_backfill(cli, production, tmp_path):
    result = cli(
        "batch", "create", "--project", "moonbase", "--characters", "eileen",
        "--scene-types", "walk", "--priority", "-3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.index("estimate:") < result.output.index("launching a Dagster backfill")
    batch = get_batch(production, 1)
    assert batch.status == "running" and batch.dagster_backfill_id
    instance = DagsterInstance.from_config(str(tmp_path / "home" / "dagster"))
    try:
        backfill = instance.get_backfill(batch.dagster_backfill_id)
        assert backfill.tags["dagster/priority"] == "-3"
    finally:
        instance.dispose()


@pytest.mark.slow  # starts the Dagster child process
def test_cli_release_launches_a_queued_batch_once_the_budget_allows(cli, production, tmp_path):
    cli("budgets", "set", "moonbase", "--gpu-hours", "0.03", "--policy", "queue")
    queued = cli(
        "batch", "create", "--project", "moonbase", "--characters", "eileen,marco,theo",
        "--scene-types", "walk", "--priority", "9",
    )  # fmt: skip
    assert "queued until the budget allows" in queued.output
    assert get_batch(production, 1).dagster_backfill_id is None
    cli("budgets", "set", "moonbase", "--gpu-hours", "1", "--policy", "queue")
    released = cli("batch", "release")
    assert released.exit_code == 0, released.output
    assert "batch 1 (moonbase, priority 9) fits: launching" in released.output
    assert "1 batch(es) launched, 0 still queued" in released.output
    batch = get_batch(production, 1)
    assert batch.status == "running"
    instance = DagsterInstance.from_config(str(tmp_path / "home" / "dagster"))
    try:
        tags = instance.get_backfill(batch.dagster_backfill_id).tags
        assert tags == {
            "dagster/priority": "9",
            "trulience/batch": "1",
            "trulience/requested_by": get_batch(production, 1).requested_by,
        }
    finally:
        instance.dispose()


def test_a_queued_batch_launches_itself_once_the_budget_allows(production, db_url, tmp_path):
    from dagster import build_sensor_context

    from trulience.production.budget import set_budget

    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url})
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("queued_batches_sensor")
    set_budget(production, "moonbase", gpu_hours=60 / 3600, policy="queue")
    low, _ = create_batch(production, request(priority=1, characters=("marco",)))
    high, _ = create_batch(production, request(priority=5, characters=("theo",)))
    assert {get_batch(production, b.id).status for b in (low, high)} == {"queued"}
    with instance_for_test() as instance:

        def evaluate() -> str:
            context = build_sensor_context(
                instance=instance, resources=defs.resources, definitions=defs
            )
            return sensor(context).skip_message

        waiting = evaluate()
        assert f"batch {high.id} waits" in waiting and f"batch {low.id} waits" in waiting
        assert instance.get_backfills() == []

        set_budget(production, "moonbase", gpu_hours=10, policy="queue")
        assert evaluate() == f"launched batch {high.id}; launched batch {low.id}"
        launched = {b.tags["trulience/batch"]: b.tags for b in instance.get_backfills()}
        assert launched[str(high.id)]["dagster/priority"] == "5"
        assert launched[str(low.id)]["dagster/priority"] == "1"
        assert evaluate() == "no batch is queued"
    assert {get_batch(production, b.id).status for b in (low, high)} == {"running"}


def test_a_priority_change_reorders_queued_runs_and_waiting_segments(production, db_url, tmp_path):
    from dagster import DagsterRunStatus, build_sensor_context
    from dagster._core.remote_origin import (
        RegisteredCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.test_utils import create_run_for_test

    from resources import CatalogResource
    from sensors.batches import run_priority_sensor
    from trulience.production.batch import set_priority
    from trulience.workers import pool, segment_queue
    from trulience_assets.batch import BATCH_TAG, PRIORITY_TAG

    low, _ = create_batch(production, request(characters=("eileen",)))
    high, _ = create_batch(production, request(characters=("marco",)))
    for batch in (low, high):
        record_launch(production, batch.id, f"bf-{batch.id}")
    eileen = add_take(production, "eileen", "walk", [[3.0]], status="generating")
    marco = add_take(production, "marco", "walk", [[3.0]], status="generating")
    for batch in (low, high):
        refresh(production, batch.id)  # each take is linked to its batch's item
    pool.add_worker(production, "http://127.0.0.1:8199", "studio", 1, "gpu-a", queue_depth=0)
    pool.record_health(production, "gpu-a", ok=True, capabilities={"node_classes": ["X"]})
    segment_queue.request_slot(production, "studio", "another-take")  # the one slot is taken
    for take in (eileen, marco):
        segment_queue.request_slot(production, "studio", f"take-{take}", take_id=take)
    line = [f"take-{eileen}", f"take-{marco}"]
    assert [w.holder for w in segment_queue.waiting(production, "studio")] == line
    resources = {"catalog": CatalogResource(home=str(tmp_path), database_url=db_url)}
    with instance_for_test() as instance:
        # runs as the backfill daemon queues them (a queued run names its code location)
        origin = RemoteJobOrigin(
            RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("trulience"), "__repository__"),
            "scenes",
        )

        def run(batch, status=DagsterRunStatus.QUEUED):
            tags = {BATCH_TAG: str(batch.id), PRIORITY_TAG: "0"}
            made = create_run_for_test(
                instance, "scenes", status=status, tags=tags, remote_job_origin=origin
            )
            return made.run_id

        queued = {batch.id: run(batch) for batch in (low, high)}
        started = run(high, DagsterRunStatus.STARTED)
        set_priority(production, high.id, 30)
        sensed = run_priority_sensor(build_sensor_context(instance=instance, resources=resources))
        assert "retagged 1 queued run(s)" in sensed.skip_message

        def tag(run_id):
            return instance.get_run_by_id(run_id).tags[PRIORITY_TAG]

        assert (tag(queued[high.id]), tag(queued[low.id]), tag(started)) == ("30", "0", "0")
        again = run_priority_sensor(build_sensor_context(instance=instance, resources=resources))
        assert again.skip_message == "every queued run has its batch's priority"
    # the batch's take went ahead of the older one in the segment queue too
    assert [w.holder for w in segment_queue.waiting(production, "studio")] == line[::-1]
    # a take's own priority outranks its batch's
    segment_queue.set_take_priority(production, eileen, 50)
    assert [w.holder for w in segment_queue.waiting(production, "studio")] == line
    with pytest.raises(InvalidValue) as err:
        set_priority(production, high.id, 101)
    assert err.value.field == "priority"


def test_cli_reprioritises_a_batch(cli, production):
    batch, _ = create_batch(production, request())
    done = cli("batch", "priority", str(batch.id), "12")
    assert done.exit_code == 0 and f"batch {batch.id}: priority 12" in done.output
    refused = cli("batch", "priority", str(batch.id), "300")
    assert refused.exit_code != 0 and "300" in refused.output and "Traceback" not in refused.output
    assert get_batch(production, batch.id).priority == 12
