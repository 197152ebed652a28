"""Run a job of this code location on the configured Dagster instance (used by the CLI:
`trulience demo` and, later, batch production). Partitions are synced from the catalog first.

    python -m trulience_assets.launch characters [--partition KEY ...]
"""

import argparse
import sys

from dagster import DagsterInstance

from trulience.config import Settings
from trulience_assets.definitions import build_definitions
from trulience_assets.partitions import missing_partitions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trulience_assets.launch")
    parser.add_argument("job")
    parser.add_argument(
        "--partition",
        action="append",
        default=[],
        help="partition key (repeatable); default: every partition",
    )
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    defs = build_definitions(settings)
    job = defs.resolve_job_def(args.job)
    instance = DagsterInstance.get()
    with defs.resources["catalog"].connect(actor="dagster:launch") as conn:
        for definition, keys in missing_partitions(instance, conn).items():
            if keys:
                instance.add_dynamic_partitions(definition.name, keys)
    keys = args.partition or job.partitions_def.get_partition_keys(
        dynamic_partitions_store=instance
    )
    failed = []
    for key in keys:
        result = job.execute_in_process(
            partition_key=key,
            instance=instance,
            tags={"trulience/launched_by": "cli"},
            raise_on_error=False,
            # step-by-step DEBUG lines belong in the Dagster UI, not on the terminal
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
        print(
            f"  {args.job} [{key}]: {'ok' if result.success else 'FAILED'}"
            f"  (run {result.run_id[:8]})"
        )
        if not result.success:
            failed.append(key)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
