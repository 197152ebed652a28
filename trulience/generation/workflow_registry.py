"""Registering a workflow (PRD-75, PRD-17): checked for the API format, its slots checked
against the graph, validated against a worker's /object_info and model lists when a
worker is at hand, and its model files recorded."""

from dataclasses import dataclass

import psycopg

from trulience.catalog.records import Workflow
from trulience.catalog.workflows import add_workflow, record_models
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.workflow import (
    check_api_format,
    check_workflow,
    extract_models,
    parse_slots,
)


@dataclass(frozen=True)
class Registered:
    workflow: Workflow
    validated_on: str | None  # the worker whose catalogue it was checked against
    models: list[tuple[str, str]]


def register_workflow(
    conn: psycopg.Connection,
    name: str,
    graph: dict,
    slots: dict,
    description: str = "",
    worker_url: str | None = None,
) -> Registered:
    """Store a workflow version after every check that can be made; nothing is stored when
    one fails (WorkflowValidationError / SlotError list what and where)."""
    check_api_format(graph)
    object_info, models = None, None
    if worker_url is not None:
        with ComfyUIClient(worker_url) as client:
            object_info = client.object_info()
            models = client.model_inventory()
        check_workflow(graph, object_info, models)
    parse_slots(slots, graph, object_info)
    found = extract_models(graph, object_info) if object_info is not None else []
    rows = [(m.folder or "unknown", m.filename, m.node_id, m.input_name) for m in found]
    with conn.transaction():
        workflow = add_workflow(conn, name, graph, description, slots)
        record_models(conn, workflow.id, rows)
    return Registered(workflow, worker_url, sorted({(r[0], r[1]) for r in rows}))
