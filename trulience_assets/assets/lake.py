"""The reporting lake (PRD-73): the catalog and the orchestrator's run facts as Parquet."""

from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    DagsterRunStatus,
    MaterializeResult,
    MetadataValue,
    RunsFilter,
    asset,
)

from resources import CatalogResource, LakeResource
from trulience.lake.catalog_export import export_catalog
from trulience.lake.files import WriteReport
from trulience.lake.run_facts import since, write_run_facts


def _metadata(reports: list[WriteReport]) -> dict:
    return {
        "rows written": sum(r.rows for r in reports),
        "datasets": MetadataValue.md(
            "\n".join(f"- {r.describe()}" for r in reports) or "nothing changed"
        ),
    }


@asset(group_name="lake", kinds={"parquet", "postgres"})
def lake_catalog(
    context: AssetExecutionContext, catalog: CatalogResource, lake: LakeResource
) -> MaterializeResult:
    """Catalog dimensions whole and the day partitions of facts changed since last time."""
    with catalog.connect(actor=f"dagster:{context.run.run_id}") as conn:
        reports = export_catalog(conn, lake.location())
    return MaterializeResult(metadata=_metadata(reports))


def _stamp(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run_rows(instance: DagsterInstance, updated_after: datetime | None) -> tuple[list, list]:
    """Rows for the runs (and their steps) updated after the given moment."""
    records = instance.get_run_records(
        filters=RunsFilter(updated_after=updated_after) if updated_after else None
    )
    runs, steps = [], []
    for record in records:
        run = record.dagster_run
        tags = run.tags
        partition = tags.get("dagster/partition")
        # a character job's partition is the character itself
        character = tags.get("dagster/partition/character") or (
            partition if run.job_name == "characters" else None
        )
        scene_type = tags.get("dagster/partition/scene_type")
        priority = tags.get("dagster/priority")
        created = _utc(record.create_timestamp)
        start, end = _stamp(record.start_time), _stamp(record.end_time)
        runs.append(
            {
                "run_id": run.run_id,
                "job": run.job_name,
                "status": run.status.value,
                "partition": partition,
                "character": character,
                "scene_type": scene_type,
                "batch": tags.get("trulience/batch"),
                "priority": int(priority) if priority and priority.lstrip("-").isdigit() else None,
                "backfill_id": tags.get("dagster/backfill"),
                "launched_by": tags.get("trulience/launched_by")
                or (
                    "sensor:" + tags["dagster/sensor_name"]
                    if "dagster/sensor_name" in tags
                    else None
                ),
                "created_at": created,
                "started_at": start,
                "ended_at": end,
                "duration_s": (record.end_time - record.start_time)
                if record.start_time and record.end_time
                else None,
                "updated_at": _utc(record.update_timestamp),
            }
        )
        if run.status in (DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED):
            continue
        for step in instance.get_run_step_stats(run.run_id):
            steps.append(
                {
                    "run_id": run.run_id,
                    "job": run.job_name,
                    "step_key": step.step_key,
                    "status": step.status.value if step.status else None,
                    "attempts": step.attempts,
                    "partition": partition,
                    "started_at": _stamp(step.start_time),
                    "ended_at": _stamp(step.end_time),
                    "duration_s": (step.end_time - step.start_time)
                    if step.start_time and step.end_time
                    else None,
                    "run_created_at": created,
                }
            )
    return runs, steps


@asset(group_name="lake", kinds={"parquet", "dagster"})
def lake_runs(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
    """Runs and steps of this Dagster instance updated since the last export."""
    location = lake.location()
    exported_at = datetime.now(UTC)
    runs, steps = run_rows(context.instance, since(location))
    reports = write_run_facts(location, runs, steps, exported_at)
    return MaterializeResult(metadata=_metadata(reports))
