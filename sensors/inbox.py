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
from trulience.ingest.inbox import QuarantineFailed, import_drop, quarantine, scan_inbox
from trulience.progress import Progress
from trulience.quoting import quote_name
from trulience_assets.jobs import characters_job
from trulience_assets.partitions import character_partitions


@sensor(
    job=characters_job,
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Every 15 s, imports each new or changed inbox folder as a character (refused "
        "folders are moved to _rejected with the reason) and requests its character assets."
    ),
)
def inbox_sensor(
    context: SensorEvaluationContext,
    catalog: CatalogResource,
    storage: StorageResource,
    inbox: InboxResource,
):
    """Import each new or changed folder in one transaction; quarantine refused ones. Each
    folder is judged on its own: a refused or failing folder never stops the rest."""
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
    progress = Progress(context.log.info, "inbox folder", total=len(drops))
    with catalog.connect(actor="dagster:inbox_sensor") as conn:
        for index, drop in enumerate(drops):
            if index and progress.elapsed() >= inbox.tick_budget_seconds:
                # Not yet in the cursor, so the next tick starts with them.
                context.log.info(f"inbox: {len(drops) - index} folder(s) left for the next tick")
                break
            report = import_drop(conn, store, drop)  # a folder's failure comes back as a report
            if report.outcome == "rejected":
                reasons = "; ".join(str(p) for p in report.problems)
                try:
                    where = quarantine(drop, report, inbox_dir)
                except (QuarantineFailed, OSError) as exc:
                    # Left in place: remember it so it is not retried until it changes.
                    seen[drop.key] = drop.fingerprint
                    context.log.error(
                        f"inbox: {drop.shown} refused but not moved ({quote_name(str(exc))}): "
                        + reasons
                    )
                else:
                    seen.pop(drop.key, None)
                    context.log.warning(f"inbox: {drop.shown} refused, moved to {where}: {reasons}")
                progress.step(index, f"{drop.shown} refused")
                continue
            seen[drop.key] = drop.fingerprint
            if report.outcome == "imported":
                if drop.name not in known and drop.name not in new_partitions:
                    new_partitions.append(drop.name)
                runs.append(
                    RunRequest(
                        partition_key=drop.name,
                        run_key=f"inbox:{drop.key}:{drop.fingerprint}",
                        tags={"trulience/source": "inbox"},
                    )
                )
            added = f", added {', '.join(report.images_added)}" if report.images_added else ""
            progress.step(index, f"{drop.shown} {report.outcome}{added}")
    return SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=(
            [character_partitions.build_add_request(new_partitions)] if new_partitions else []
        ),
        cursor=json.dumps(seen, sort_keys=True),
    )
