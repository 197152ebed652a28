"""Batches as Dagster backfills (PRD-57): a recorded batch becomes one asset backfill of
the scenes assets over its character x scene type partitions, tagged with its priority
(the run queue takes higher first) and its id. The backfill daemon requests one run per
partition (segments and scene_video together, the segments step in the `generation`
pool); delivery follows approval through the approvals sensor.

Dagster 1.13 has no public Python call that creates a backfill: this does what the UI's
GraphQL `launchPartitionBackfill` does for an asset backfill
(dagster_graphql/implementation/execution/backfill.py): `PartitionBackfill.
from_asset_partitions` then `instance.add_backfill`. Revisit on a Dagster upgrade.
"""

import time
from datetime import UTC, datetime

import psycopg
from dagster import AssetKey, DagsterInstance, Definitions, MultiPartitionKey, RunsFilter
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from resources import CatalogResource
from trulience.production.batch import (
    Batch,
    batch_priorities,
    batch_targets,
    get_batch,
    record_launch,
)
from trulience_assets.partitions import missing_partitions

BATCH_TAG = "trulience/batch"
REQUESTED_BY_TAG = "trulience/requested_by"  # who asked for the batch, shown on its runs
PRIORITY_TAG = "dagster/priority"  # the run queue launches higher numbers first
BACKFILL_ID_TAG = "dagster/backfill"
PARTITION_NAME_TAG = "dagster/partition"
# the scenes job's assets: the loop, then assembly in the same run
BATCH_ASSETS = [AssetKey("segments"), AssetKey("scene_video")]


def batch_tags(batch: Batch) -> dict[str, str]:
    """The tags every run of the batch carries: its priority, its id and who asked for it."""
    return {
        PRIORITY_TAG: str(batch.priority),
        BATCH_TAG: str(batch.id),
        REQUESTED_BY_TAG: batch.requested_by,
    }


def partition_keys(conn: psycopg.Connection, batch_id: int) -> list[MultiPartitionKey]:
    """The batch's character x scene type partitions."""
    return [
        MultiPartitionKey({"character": character, "scene_type": scene_type})
        for character, scene_type in batch_targets(conn, batch_id)
    ]


def launch_batch(defs: Definitions, instance: DagsterInstance, batch_id: int) -> str:
    """Create the batch's backfill in the instance (the daemon executes it) and record it
    in the catalog, in one catalog transaction: a failure leaves the batch queued."""
    return launch_batch_in(
        defs.resolve_asset_graph(), defs.resources["catalog"], instance, batch_id
    )


def launch_batch_in(
    asset_graph: BaseAssetGraph, catalog: CatalogResource, instance: DagsterInstance, batch_id: int
) -> str:
    """`launch_batch` with the asset graph and catalog at hand (as a sensor has them)."""
    with catalog.connect(actor="dagster:batch") as conn:
        batch = get_batch(conn, batch_id)
        for definition, missing in missing_partitions(instance, conn).items():
            if missing:  # a backfill over unknown dynamic partitions is refused
                instance.add_dynamic_partitions(definition.name, missing)
        keys = partition_keys(conn, batch_id)
        project_config = {"config": {"project": batch.project}}
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id=make_new_backfill_id(),
            asset_graph=asset_graph,
            partition_names=keys,
            asset_selection=BATCH_ASSETS,
            backfill_timestamp=time.time(),
            tags=batch_tags(batch),
            dynamic_partitions_store=instance,
            all_partitions=False,
            title=f"batch-{batch.id}",
            description=(
                f"Trulience batch {batch.id} of project {batch.project}: {len(keys)} take(s), "
                f"requested by {batch.requested_by}"
            ),
            run_config={"ops": {"segments": project_config, "scene_video": project_config}},
        )
        with conn.transaction():
            record_launch(conn, batch_id, backfill.backfill_id)
            instance.add_backfill(backfill)
    return backfill.backfill_id


def describe_backfill(
    defs: Definitions, instance: DagsterInstance, batch_id: int
) -> tuple[bool, list[str]]:
    """The batch's backfill status and its runs, and the delivery runs of its partitions
    (requested by the approvals sensor); False when the backfill is missing."""
    with defs.resources["catalog"].connect(actor="dagster:batch") as conn:
        batch = get_batch(conn, batch_id)
        keys = partition_keys(conn, batch_id)
    if batch.dagster_backfill_id is None:
        return True, [f"batch {batch_id} has no Dagster backfill yet ({batch.status})"]
    backfill = instance.get_backfill(batch.dagster_backfill_id)
    if backfill is None:
        return False, [
            f"Dagster backfill {batch.dagster_backfill_id}: not in this Dagster instance "
            f"({instance.root_directory}); is DAGSTER_HOME the one the batch was launched on?"
        ]
    runs = instance.get_runs(RunsFilter(tags={BACKFILL_ID_TAG: backfill.backfill_id}))
    lines = [
        f"Dagster backfill {backfill.backfill_id}: {backfill.status.value}, tags "
        f"{dict(backfill.tags)}, {len(runs)} run(s)" + _counts(runs)
    ]
    lines += [_run_line("generate", r) for r in reversed(runs)]
    since = datetime.fromtimestamp(backfill.backfill_timestamp, UTC)
    delivery = [
        run
        for key in keys
        for run in instance.get_runs(
            RunsFilter(
                job_name="delivery", tags={PARTITION_NAME_TAG: str(key)}, created_after=since
            )
        )
    ]
    if delivery:
        lines.append(f"delivery runs: {len(delivery)}" + _counts(delivery))
        lines += [_run_line("deliver", r) for r in delivery]
    return True, lines


def _counts(runs) -> str:
    by_status: dict[str, int] = {}
    for run in runs:
        by_status[run.status.value] = by_status.get(run.status.value, 0) + 1
    return "".join(f", {n} {status}" for status, n in sorted(by_status.items()))


def _run_line(kind: str, run) -> str:
    return (
        f"  {kind:<8} run {run.run_id[:8]} {run.tags.get(PARTITION_NAME_TAG, '-'):<40} "
        f"{run.status.value}"
    )


def retag_queued_runs(instance: DagsterInstance, conn: psycopg.Connection) -> list[str]:
    """Give each run still queued in Dagster its batch's priority now (the run queue reads
    the tag when it dequeues): a reprioritised batch's runs move in the run queue too. The
    ids of the runs retagged."""
    from dagster import DagsterRunStatus

    queued = [
        run
        for run in instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.QUEUED]))
        if run.tags.get(BATCH_TAG, "").isdigit()
    ]
    now = batch_priorities(conn, sorted({int(run.tags[BATCH_TAG]) for run in queued}))
    retagged = []
    for run in queued:
        priority = now.get(int(run.tags[BATCH_TAG]))
        if priority is not None and run.tags.get(PRIORITY_TAG) != str(priority):
            instance.add_run_tags(run.run_id, {PRIORITY_TAG: str(priority)})
            retagged.append(run.run_id)
    return retagged
