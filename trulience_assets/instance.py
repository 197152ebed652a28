"""The local Dagster instance: one template for its dagster.yaml (SQLite under the folder),
written by `prepare_home` for the CLI (`trulience demo|dev|batch|lake`) and for the tests.

The production example is trulience_assets/dagster.production.yaml (Postgres storage, run
monitoring, concurrency limits); the run queue both of them configure is RUN_COORDINATOR
here, and tests/test_production_instance.py checks that the two say the same."""

from pathlib import Path

import yaml
from dagster import DagsterInstance

# Queued runs (a batch's backfill) are launched side by side from threads, not one by one:
# by default each launch waits for its process to start (~5 s apiece on 2 busy cores).
DEQUEUE_WORKERS = 4
RUN_COORDINATOR = {
    "module": "dagster.core.run_coordinator",
    "class": "QueuedRunCoordinator",
    "config": {"dequeue_use_threads": True, "dequeue_num_workers": DEQUEUE_WORKERS},
}
HEADER = "# Local Dagster instance (SQLite under this folder), written by trulience.\n"


def instance_yaml(**run_queue: int) -> str:
    """The local dagster.yaml; `run_queue` overrides the run coordinator's config (a test's
    dequeue_num_workers=6, dequeue_interval_seconds=1)."""
    coordinator = RUN_COORDINATOR | {"config": RUN_COORDINATOR["config"] | run_queue}
    body = {"telemetry": {"enabled": False}, "run_coordinator": coordinator}
    return HEADER + yaml.safe_dump(body, sort_keys=False)


def prepare_home(home: Path, **run_queue: int) -> Path:
    """The Dagster home folder, with a dagster.yaml from the template unless it has one
    (an operator's own instance settings are left alone)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(instance_yaml(**run_queue))
    return home


def open_instance(home: Path) -> DagsterInstance:
    """The instance at `home` (prepared first), named explicitly: no DAGSTER_HOME needed."""
    return DagsterInstance.from_config(str(prepare_home(home)))
