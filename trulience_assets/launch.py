"""Run work of this code location on the configured Dagster instance, from the CLI
(`trulience demo`, later batch production). The runs land in the instance the Dagster UI
shows, exactly as the daemon's would.

    python -m trulience_assets.launch job characters [--partition KEY ...]
    python -m trulience_assets.launch sensor inbox_sensor
    python -m trulience_assets.launch backfill BATCH_ID          (a batch's backfill)
    python -m trulience_assets.launch backfill-status BATCH_ID
"""

import argparse
import sys

from dagster import DagsterInstance, Definitions, build_sensor_context

from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience_assets.batch import describe_backfill, launch_batch
from trulience_assets.definitions import build_definitions
from trulience_assets.partitions import missing_partitions

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _execute(
    defs: Definitions,
    instance: DagsterInstance,
    job_name: str,
    key: str | None,
    tags: dict[str, str],
    run_config: dict | None = None,
) -> bool:
    result = defs.resolve_job_def(job_name).execute_in_process(
        partition_key=key,
        instance=instance,
        tags=tags,
        raise_on_error=False,
        # step-by-step DEBUG lines belong in the Dagster UI, not on the terminal
        run_config=(run_config or {}) | QUIET,
    )
    outcome = "ok" if result.success else "FAILED"
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            outcome += f"; check {evaluation.check_name} failed"
            if evaluation.description:
                outcome += f": {evaluation.description}"
    where = f" [{key}]" if key else ""
    print(f"  {job_name}{where}: {outcome}  (run {result.run_id[:8]})")
    return result.success


def run_job(defs: Definitions, instance: DagsterInstance, job_name: str, keys: list[str]) -> bool:
    """Run a partitioned job for the given keys (every partition when empty)."""
    with defs.resources["catalog"].connect(actor="dagster:launch") as conn:
        for definition, missing in missing_partitions(instance, conn).items():
            if missing:
                instance.add_dynamic_partitions(definition.name, missing)
    job = defs.resolve_job_def(job_name)
    if job.partitions_def is None:  # an unpartitioned job (the lake) runs once
        return _execute(defs, instance, job_name, None, {"trulience/launched_by": "cli"})
    keys = keys or job.partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    results = [
        _execute(defs, instance, job_name, key, {"trulience/launched_by": "cli"}) for key in keys
    ]
    return all(results)


def run_sensor(defs: Definitions, instance: DagsterInstance, sensor_name: str) -> bool:
    """Evaluate a sensor once and run what it requests, as the daemon would."""
    sensor = defs.resolve_sensor_def(sensor_name)
    result = sensor(
        build_sensor_context(instance=instance, resources=defs.resources, definitions=defs)
    )
    if result is None or not hasattr(result, "run_requests"):
        print(f"  {sensor_name}: {getattr(result, 'skip_message', None) or 'nothing to do'}")
        return True
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    print(f"  {sensor_name}: {len(result.run_requests)} run(s) requested")
    job_name = sensor.job_name
    return all(
        [
            _execute(defs, instance, job_name, r.partition_key, r.tags, r.run_config)
            for r in result.run_requests
        ]
    )


def run_backfill(defs: Definitions, instance: DagsterInstance, batch_id: int) -> bool:
    """Launch a recorded batch as a Dagster backfill; the daemon executes it."""
    try:
        backfill_id = launch_batch(defs, instance, batch_id)
    except TrulienceError as exc:
        print(f"  batch {batch_id}: not launched: {exc}", file=sys.stderr)
        return False
    print(f"  batch {batch_id}: Dagster backfill {backfill_id} requested; the daemon runs it")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trulience_assets.launch")
    sub = parser.add_subparsers(dest="what", required=True)
    job = sub.add_parser("job")
    job.add_argument("name")
    job.add_argument(
        "--partition",
        action="append",
        default=[],
        help="partition key (repeatable); default: every partition",
    )
    sensor = sub.add_parser("sensor")
    sensor.add_argument("name")
    for name in ("backfill", "backfill-status"):
        sub.add_parser(name).add_argument("batch", type=int)
    args = parser.parse_args(argv)

    defs = build_definitions(Settings.from_env())
    instance = DagsterInstance.get()
    if args.what == "job":
        ok = run_job(defs, instance, args.name, args.partition)
    elif args.what == "sensor":
        ok = run_sensor(defs, instance, args.name)
    elif args.what == "backfill":
        ok = run_backfill(defs, instance, args.batch)
    else:
        ok, lines = describe_backfill(defs, instance, args.batch)
        print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
