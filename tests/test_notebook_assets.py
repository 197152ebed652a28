"""The analyst notebooks run as Dagster assets after each lake export: executed with
papermill in a real kernel, stored as HTML, linked from the materialisation; a failing cell
fails its asset with the cell's message."""

import shutil
from pathlib import Path

import pytest
from dagster import evaluate_automation_conditions, instance_for_test, materialize

from resources import LakeResource, StorageResource
from trulience.config import Settings
from trulience.lake.files import Lake
from trulience.lake.notebooks import (
    NotebookFailed,
    latest_notebooks,
    notebook_names,
    prune_runs,
    run_notebook,
    scope_of,
)
from trulience.storage import Storage
from trulience_assets.assets.notebooks import notebook_asset
from trulience_assets.definitions import build_definitions

DATA = Path(__file__).resolve().parent / "data" / "notebooks"
UPSIDE_DOWN = "ValueError: the lake is upside down"


def test_a_notebook_runs_on_the_lake_it_is_given_and_is_stored_as_html(tmp_path):
    from datetime import date

    lake, storage = Lake((tmp_path / "lake").as_uri()), Storage((tmp_path / "s").as_uri())
    done = run_notebook("lake_path", lake, storage, "moonbase", date(2026, 1, 2), folder=DATA)

    scope = "moonbase_2026-01-02..now"
    assert done.key.startswith(f"notebooks/lake_path/{scope}/") and done.key.endswith(".html")
    assert done.latest_key == f"notebooks/lake_path/{scope}/latest.html"
    assert done.uri == storage.uri(done.key) and done.cells_run == 3 and done.duration_s > 0
    page = storage.read_bytes(done.key).decode()
    # the kernel read the lake it was pointed at, and the injected parameters
    assert f"lake: {lake.url}; project moonbase, 2026-01-02..None" in page
    assert page.startswith("<!DOCTYPE html>")
    assert storage.read_bytes(done.latest_key) == storage.read_bytes(done.key)
    (newest,) = latest_notebooks(storage)
    assert (newest.notebook, newest.scope, newest.key) == ("lake_path", scope, done.latest_key)


def test_a_failing_cell_names_the_notebook_the_cell_and_its_error(tmp_path):
    lake, storage = Lake((tmp_path / "lake").as_uri()), Storage((tmp_path / "s").as_uri())
    with pytest.raises(NotebookFailed) as failed:
        run_notebook("broken", lake, storage, folder=DATA)
    message = str(failed.value)
    assert message.startswith("notebook broken: cell 5 (")
    assert "raise ValueError(" in message and message.endswith(UPSIDE_DOWN)
    assert storage.list("notebooks") == []  # nothing half-run is stored as the newest


def test_only_the_newest_runs_of_a_scope_are_kept(tmp_path):
    storage = Storage((tmp_path / "s").as_uri())
    stamps = [f"2026-01-0{day}T00-00-00Z.html" for day in range(1, 6)]
    for name in [*stamps, "latest.html"]:
        storage.put_bytes(f"notebooks/overview/all/{name}", b"x")
    storage.put_bytes("notebooks/overview/demo/2026-01-01T00-00-00Z.html", b"x")

    removed = prune_runs(storage, "overview", "all", keep=2)

    assert removed == [f"notebooks/overview/all/{s}" for s in stamps[:3]]
    assert storage.list("notebooks") == [
        "notebooks/overview/all/2026-01-04T00-00-00Z.html",
        "notebooks/overview/all/2026-01-05T00-00-00Z.html",
        "notebooks/overview/all/latest.html",
        "notebooks/overview/demo/2026-01-01T00-00-00Z.html",  # another scope: its own runs
    ]


def test_scope_names_the_project_and_the_days():
    from datetime import date

    assert scope_of(None) == "all"
    assert scope_of("moonbase", until=date(2026, 3, 1)) == "moonbase_start..2026-03-01"


def materialise(tmp_path, name: str, config: dict | None = None):
    """Notebook `name` of tests/data/notebooks as an asset, materialised on its own."""
    run_config = {"ops": {f"notebooks__{name}": {"config": config or {}}}}
    resources = {
        "lake": LakeResource(url=(tmp_path / "lake").as_uri()),
        "storage": StorageResource(url=(tmp_path / "storage").as_uri()),
    }
    with instance_for_test() as instance:
        return materialize(
            [notebook_asset(name, DATA)],
            resources=resources,
            instance=instance,
            run_config=run_config,
            raise_on_error=False,
        )


def failure_of(result) -> str:
    assert not result.success
    (failure,) = result.get_step_failure_events()
    return failure.step_failure_data.user_failure_data.description


def test_a_broken_notebook_fails_its_asset_with_the_cells_message(tmp_path):
    description = failure_of(materialise(tmp_path, "broken"))
    assert description.startswith("notebook broken: cell 5") and description.endswith(UPSIDE_DOWN)


def test_a_notebook_asset_takes_its_parameters_from_config(tmp_path):
    result = materialise(tmp_path, "lake_path", {"project": "moonbase"})
    (event,) = result.asset_materializations_for_node("notebooks__lake_path")
    assert event.metadata["latest"].value == "notebooks/lake_path/moonbase/latest.html"
    assert event.metadata["html"].value.startswith((tmp_path / "storage").as_uri() + "/")
    description = failure_of(materialise(tmp_path, "lake_path", {"since": "last tuesday"}))
    assert description == "since must be a day as YYYY-MM-DD (got 'last tuesday')"


@pytest.mark.slow
def test_every_notebook_runs_after_a_lake_export_and_is_linked(demo_production, tmp_path):
    # the demo's catalog and lake (its run facts too), copied: the demo's is read-only
    shutil.copytree(demo_production.lake, tmp_path / "home" / "lake")
    settings = Settings.from_env(
        {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": demo_production.database_url}
    )
    defs = build_definitions(settings)
    names = notebook_names()
    keys = {("notebooks", name) for name in names}
    with instance_for_test() as instance:
        before = evaluate_automation_conditions(defs, instance)
        assert before.total_requested == 0  # no export has run under this instance yet
        assert defs.resolve_job_def("lake").execute_in_process(instance=instance).success
        after = evaluate_automation_conditions(defs, instance, cursor=before.cursor)
        assert after.total_requested == len(names)
        result = defs.resolve_job_def("notebooks").execute_in_process(instance=instance)
        assert result.success
        again = evaluate_automation_conditions(defs, instance, cursor=after.cursor)
        assert again.total_requested == 0  # run once per export
    storage = Storage(settings.storage_url)
    materialised = result.get_asset_materialization_events()
    assert {tuple(e.asset_key.path) for e in materialised} == keys
    for event in materialised:
        metadata = event.step_materialization_data.materialization.metadata
        uri = metadata["html"].value
        assert uri.startswith("file://") and metadata["cells run"].value > 0
        assert b"<html" in storage.read_bytes(storage.key_of(uri))
    assert [n.notebook for n in latest_notebooks(storage)] == names
