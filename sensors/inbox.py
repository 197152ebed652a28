"""Folder drops become characters (PRD-16): new or changed inbox folders are imported,
their partitions added and their character assets requested."""

import json

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from resources import CatalogResource, InboxResource, StorageResource
from trulience.errors import TrulienceError
from trulience.ingest.inbox import DropReport, Problem, import_drop, quarantine, scan_inbox
from trulience_assets.jobs import characters_job
from trulience_assets.partitions import character_partitions


@sensor(job=characters_job, minimum_interval_seconds=15, default_status=DefaultSensorStatus.RUNNING)
def inbox_sensor(
    context: SensorEvaluationContext,
    catalog: CatalogResource,
    storage: StorageResource,
    inbox: InboxResource,
):
    """Import each new or changed folder in one transaction; quarantine refused ones."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    inbox_dir = inbox.directory()
    drops = [
        d for d in scan_inbox(inbox_dir, inbox.settle_seconds) if seen.get(d.key) != d.fingerprint
    ]
    if not drops:
        return SkipReason("no new or changed folders in the inbox")

    store = storage.get()
    known = set(context.instance.get_dynamic_partitions(character_partitions.name))
    runs, new_partitions = [], []
    with catalog.connect(actor="dagster:inbox_sensor") as conn:
        for drop in drops:
            try:
                report = import_drop(conn, store, drop)
            except TrulienceError as exc:  # refused by the catalog or storage: say why
                report = DropReport(drop.key, "rejected", problems=[Problem("folder", str(exc))])
            if report.outcome == "rejected":
                where = quarantine(drop, report, inbox_dir)
                context.log.warning(
                    f"inbox: {drop.key} refused, moved to {where}: "
                    + "; ".join(str(p) for p in report.problems)
                )
                seen.pop(drop.key, None)
                continue
            seen[drop.key] = drop.fingerprint
            if report.outcome == "imported":
                context.log.info(f"inbox: {drop.key} imported ({report.images_added})")
                if drop.name not in known and drop.name not in new_partitions:
                    new_partitions.append(drop.name)
                runs.append(
                    RunRequest(
                        partition_key=drop.name,
                        run_key=f"inbox:{drop.key}:{drop.fingerprint}",
                        tags={"trulience/source": "inbox"},
                    )
                )
    return SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=(
            [character_partitions.build_add_request(new_partitions)] if new_partitions else []
        ),
        cursor=json.dumps(seen, sort_keys=True),
    )
