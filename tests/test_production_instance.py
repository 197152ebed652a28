"""The production dagster.yaml example loads and runs against a real Postgres."""

import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml
from dagster import DagsterInstance, job, op
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_postgres import PostgresRunStorage

from trulience_assets.instance import RUN_COORDINATOR, instance_yaml, open_instance

REPO = Path(__file__).resolve().parents[1]


@op
def hello() -> int:
    return 1


@job
def smoke():
    hello()


def test_production_dagster_yaml_runs_on_postgres(db_url, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "trulience_assets" / "dagster.production.yaml", home / "dagster.yaml")
    parts = urlsplit(db_url)
    monkeypatch.setenv("DAGSTER_PG_URL", urlunsplit(parts._replace(scheme="postgresql+psycopg2")))

    instance = DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        result = smoke.execute_in_process(instance=instance)
        assert result.success
        assert instance.get_run_by_id(result.run_id).is_success
    finally:
        instance.dispose()
    import psycopg

    with psycopg.connect(db_url) as conn:  # Dagster's tables sit beside the catalog's
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_the_local_instance_queues_runs_as_production_does(tmp_path):
    # one run queue for both: the local template's is the production example's
    production = yaml.safe_load((REPO / "trulience_assets" / "dagster.production.yaml").read_text())
    assert production["run_coordinator"] == RUN_COORDINATOR
    assert yaml.safe_load(instance_yaml())["run_coordinator"] == RUN_COORDINATOR
    instance = open_instance(tmp_path / "dagster")
    try:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert (tmp_path / "dagster" / "dagster.yaml").read_text() == instance_yaml()
    finally:
        instance.dispose()


def test_an_operators_own_local_instance_is_left_alone(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    open_instance(home).dispose()
    assert (home / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
