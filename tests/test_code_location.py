"""The Dagster code location: loads, validates, materialises a partitioned asset."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import build_sensor_context, instance_for_test

from tests.ingest_files import ASTRONAUT, CAT
from trulience.catalog import characters, projects, scene_types
from trulience.config import Settings
from trulience_assets.definitions import build_definitions
from trulience_assets.partitions import partition_key

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings.from_env({"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url})


@pytest.fixture
def instance():
    with instance_for_test() as test_instance:
        yield test_instance


def test_definitions_validate_with_the_dagster_cli(tmp_path):
    env = os.environ | {
        "TRULIENCE_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }
    (tmp_path / "dagster").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # the name the CLI's runs are labelled with (trulience_assets.launch.repository_tags)
    assert "Validation successful for code location trulience_assets.definitions." in (
        result.stdout + result.stderr
    )


def test_importing_the_code_location_reads_no_environment(tmp_path):
    # a bad setting breaks loading the definitions, not importing the module
    probe = (
        "import trulience_assets.definitions as d\n"
        "from trulience.errors import TrulienceError\n"
        "try:\n    d.defs()\nexcept TrulienceError as exc:\n    print('loading:', exc)\n"
    )
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path), "STORAGE_URL": "ftp://host/x"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "loading: STORAGE_URL must be file://, s3:// or memory://" in result.stdout


def add_character(conn, settings, slug, image):
    from trulience.library import add_image_file
    from trulience.storage import Storage

    characters.create_character(conn, slug, slug.title(), {"role": "pilot"}, ["moonbase"])
    storage = Storage(settings.storage_url)
    add_image_file(conn, storage, slug, image)
    return storage


def test_character_partition_materialises_every_asset(conn, settings, instance):
    projects.create_project(conn, "moonbase", "Moonbase")
    storage = add_character(conn, settings, "ava", ASTRONAUT)
    defs = build_definitions(settings)
    instance.add_dynamic_partitions("character", ["ava"])

    result = defs.resolve_job_def("characters").execute_in_process(
        partition_key="ava", instance=instance
    )

    assert result.success
    materialised = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert materialised == {
        "source_images",
        "face_identity",
        "image_variants",
        "metadata_sidecar",
        "character_record",
    }
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "usable_primary_image": True,
        "every_image_passes_qa": True,
        "no_open_duplicates": True,
        "metadata_in_sync": True,
    }
    for evaluation in result.get_asset_check_evaluations():  # what the Dagster UI shows
        figures = evaluation.metadata
        assert figures["partition"].value == "ava" == evaluation.partition
        assert evaluation.description
        assert {"value", "threshold"} <= set(figures), evaluation.check_name
    usable = next(
        e for e in result.get_asset_check_evaluations() if e.check_name == "usable_primary_image"
    )
    assert usable.metadata["value"].value == 1 and usable.metadata["threshold"].value == 1
    (variants,) = result.asset_materializations_for_node("image_variants")
    assert f"]({settings.public_url}/media/" in variants.metadata["first"].value  # a picture
    (record_event,) = result.asset_materializations_for_node("character_record")
    record = json.loads(storage.read_bytes(storage.key_of(record_event.metadata["uri"].value)))
    assert record["projects"] == ["moonbase"]
    assert record["source_images"][0]["qa_status"] == "passed"
    assert record["source_images"][0]["primary"] is True
    # every change the run made is attributed to the run in the audit log
    actors = {r[0] for r in conn.execute("SELECT DISTINCT actor FROM audit_log")}
    assert f"dagster:{result.run_id}" in actors


def test_a_possible_duplicate_warns_with_its_similarity_and_threshold(conn, settings, instance):
    from dagster import AssetCheckSeverity

    projects.create_project(conn, "moonbase", "Moonbase")
    add_character(conn, settings, "ava", ASTRONAUT)
    add_character(conn, settings, "bea", ASTRONAUT)  # the same face
    job = build_definitions(settings).resolve_job_def("characters")
    instance.add_dynamic_partitions("character", ["ava", "bea"])
    assert job.execute_in_process(partition_key="ava", instance=instance).success

    result = job.execute_in_process(partition_key="bea", instance=instance)

    assert result.success  # a warning, not a failure
    (check,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "no_open_duplicates"
    ]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    figures = check.metadata
    assert figures["partition"].value == "bea" and figures["value"].value == 1
    assert figures["closest duplicate"].value >= figures["same identity threshold"].value
    assert check.description.startswith("possible duplicate of ava (")


def test_failing_image_qa_blocks_the_downstream_assets(conn, settings, instance):
    projects.create_project(conn, "moonbase", "Moonbase")
    add_character(conn, settings, "cat", CAT)
    defs = build_definitions(settings)
    instance.add_dynamic_partitions("character", ["cat"])

    result = defs.resolve_job_def("characters").execute_in_process(
        partition_key="cat", instance=instance, raise_on_error=False
    )

    assert not result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["usable_primary_image"].passed
    assert "no face" in checks["usable_primary_image"].description
    materialised = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert "face_identity" not in materialised and "image_variants" not in materialised
    assert "metadata_sidecar" in materialised  # independent of image QA


def test_sensor_adds_partitions_from_the_catalog_and_requests_runs_once(conn, settings, instance):
    characters.create_character(conn, "ava", "Ava")
    characters.create_character(conn, "bruno", "Bruno")
    scene_types.create_scene_type(conn, "walk", "Walk", target_duration_s=10)
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("catalog_partitions_sensor")

    context = build_sensor_context(instance=instance, resources=defs.resources)
    result = sensor(context)
    assert sorted(r.partition_key for r in result.run_requests) == ["ava", "bruno"]
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    assert instance.get_dynamic_partitions("scene_type") == ["walk"]

    again = sensor(build_sensor_context(instance=instance, resources=defs.resources))
    assert "match the catalog" in again.skip_message


@pytest.mark.parametrize("bad", ["ava|walk", "Ava", "a/b", ""])
def test_partition_keys_refuse_separator_and_unsafe_slugs(bad):
    from trulience.slugs import InvalidSlug

    with pytest.raises(InvalidSlug):
        partition_key(bad)


def test_stale_schema_is_refused_with_the_command_to_run(empty_db_url, tmp_path):
    from trulience.catalog.migrations import MigrationError

    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": empty_db_url})
    catalog = build_definitions(settings).resources["catalog"]
    with pytest.raises(MigrationError, match="trulience db migrate"), catalog.connect("x"):
        pass


def test_every_sensor_schedule_job_and_asset_says_what_it_does(settings):
    repository = build_definitions(settings).get_repository_def()
    described = {
        **{f"sensor {s.name}": s.description for s in repository.sensor_defs},
        **{f"schedule {s.name}": s.description for s in repository.schedule_defs},
        **{
            f"job {j.name}": j.description
            for j in repository.get_all_jobs()
            if not j.name.startswith("__")  # Dagster's own implicit asset job
        },
    }
    graph = repository.asset_graph
    described |= {
        f"asset {key.to_user_string()}": graph.get(key).description
        for key in graph.get_all_asset_keys()
    }
    assert len([name for name in described if name.startswith("sensor ")]) == 12
    assert not [name for name, text in described.items() if not (text and text.strip())]


def test_a_run_launched_from_the_cli_is_in_the_instance_with_who_launched_it(settings, monkeypatch):
    from dagster import DagsterInstance, RunsFilter

    from trulience.cli import pipeline

    monkeypatch.setenv("TRULIENCE_ACTOR", "producer:paul")  # as the audit log names the CLI
    said = []
    assert pipeline.run_job(settings, "lake", on_run=said.append)
    (outcome,) = said
    # the instance as the webserver and the daemon open it (DAGSTER_HOME), not this process's
    home = pipeline.prepare_home(settings)
    with DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs(RunsFilter(tags={"trulience/launched_by": "cli"}))
        assert run.run_id == outcome.run_id and run.job_name == "lake"
        # listed on the job's page as the webserver finds it: by its code location's label
        # (the name `dagster definitions validate` gives it, see the first test)
        shown = RunsFilter(
            job_name="lake",
            tags={".dagster/repository": "__repository__@trulience_assets.definitions"},
        )
        assert [r.run_id for r in instance.get_runs(shown)] == [run.run_id]
        assert run.tags["trulience/user"] == "producer:paul"
        assert instance.get_run_record_by_id(run.run_id).dagster_run.is_success
