"""Resources vend clients; registration is a start-up step (issue 13): a backend from the
generation resource writes nothing to the catalog, and the worker health sensor (or a command
at its start, through `register_configured_workers`) registers the workers COMFYUI_WORKERS
names, once."""

import pytest
from dagster import build_sensor_context, instance_for_test

from resources import CatalogResource, GenerationResource
from sensors.workers import worker_health_sensor
from tests.fakes.comfyui import FakeComfyUI
from trulience.catalog.database import connect
from trulience.workers import pool
from trulience.workers.configured import (
    backend_for,
    register_configured_workers,
)
from trulience.workers.pooled_backend import PooledBackend


@pytest.fixture
def workers():
    with FakeComfyUI() as a, FakeComfyUI() as b:
        yield [a.url, b.url]


def registered(db_url: str) -> list[str]:
    with connect(db_url) as conn:
        return sorted(w.url for w in pool.list_workers(conn))


def test_a_backend_from_the_resource_does_not_write_the_workers_table(db_url, tmp_path, workers):
    generation = GenerationResource(
        home=str(tmp_path), database_url=db_url, comfyui_workers=workers
    )
    backend = generation.backend()
    assert isinstance(backend, PooledBackend) and backend.pool == "default"
    generation.backend()
    assert registered(db_url) == []
    preview = GenerationResource(home=str(tmp_path), database_url=db_url).backend()
    assert preview.name == "preview"


def test_the_worker_health_sensor_registers_the_configured_workers_once(db_url, tmp_path, workers):
    resources = {
        "catalog": CatalogResource(home=str(tmp_path), database_url=db_url),
        "generation": GenerationResource(
            home=str(tmp_path), database_url=db_url, comfyui_workers=workers, pool="studio"
        ),
    }
    with instance_for_test() as instance:
        for _ in range(2):  # the second tick registers nothing again
            context = build_sensor_context(instance=instance, resources=resources)
            result = worker_health_sensor(context)
            assert "checked 2 worker(s)" in result.skip_message
        # the generation pool follows the healthy workers: 2 x (1 slot + 1 queued)
        assert instance.event_log_storage.get_concurrency_info("generation").slot_count == 4
        with connect(db_url) as conn:
            pool.set_state(conn, pool.list_workers(conn, "studio")[0].name, "draining")
        result = worker_health_sensor(build_sensor_context(instance=instance, resources=resources))
        assert "generation pool limit 2" in result.skip_message
        assert instance.event_log_storage.get_concurrency_info("generation").slot_count == 2
    assert registered(db_url) == sorted(url.rstrip("/") for url in workers)
    with connect(db_url) as conn:
        checked = pool.list_workers(conn, "studio")
    assert [w.state for w in checked] == ["draining", "online"]
    assert not any(w.unchecked for w in checked)  # registered, then checked in the same tick


def test_registering_at_start_up_adds_only_the_unknown_workers(conn, workers):
    first = register_configured_workers(conn, workers)
    assert len(first) == 2
    assert register_configured_workers(conn, [workers[0] + "/", workers[1]]) == []
    assert sorted(w.url for w in pool.list_workers(conn, "default")) == sorted(
        url.rstrip("/") for url in workers
    )


def test_the_backend_alone_writes_nothing(db_url, workers):
    backend_for(db_url, workers)
    assert registered(db_url) == []
    assert backend_for(None, []).name == "preview"
    with pytest.raises(ValueError, match="needs the catalog"):
        backend_for(None, workers)
    assert isinstance(backend_for(db_url, workers), PooledBackend)
    assert registered(db_url) == []
