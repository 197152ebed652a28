"""Registering a workflow (PRD-75, PRD-17): checked for the API format, its slots checked
against the graph, validated against a worker's /object_info and model lists when a
worker is at hand, and its model files recorded. What is allowed but likely wrong (no seed
slot; a fixed size that disagrees with a scene type using the workflow) is a warning,
printed and recorded with the version."""

from dataclasses import dataclass, field

import psycopg

from trulience.catalog.records import Workflow
from trulience.catalog.workflows import (
    add_workflow,
    get_workflow,
    record_models,
    scene_types_using,
    set_workflow_warnings,
)
from trulience.errors import TrulienceError
from trulience.generation.comfyui.api_format import check_api_format
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.models import extract_models
from trulience.generation.comfyui.registration import (
    fixed_sizes,
    registration_warnings,
    size_disagreements,
)
from trulience.generation.comfyui.slots import Slots, parse_slots
from trulience.generation.comfyui.validation import check_workflow
from trulience.generation.scene_config import resolve


@dataclass(frozen=True)
class Registered:
    workflow: Workflow
    validated_on: str | None  # the worker whose catalogue it was checked against
    models: list[tuple[str, str]]
    warnings: list[str] = field(default_factory=list)


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
    parsed = parse_slots(slots, graph, object_info)
    # without a worker's catalogue the core loaders' input names still say what is loaded
    found = extract_models(graph, object_info or {})
    rows = [(m.folder or "unknown", m.filename, m.node_id, m.input_name) for m in found]
    warnings = [str(w) for w in registration_warnings(graph, parsed)]
    warnings += size_warnings(conn, name, graph, parsed)
    with conn.transaction():
        workflow = add_workflow(conn, name, graph, description, slots)
        record_models(conn, workflow.id, rows)
        set_workflow_warnings(conn, workflow.id, warnings)
    return Registered(workflow, worker_url, sorted({(r[0], r[1]) for r in rows}), warnings)


def size_warnings(conn: psycopg.Connection, name: str, graph: dict, slots: Slots) -> list[str]:
    """A warning per scene type naming workflow `name` whose size a fixed width/height
    literal in `graph` contradicts."""
    fixed = fixed_sizes(graph, slots)
    if not fixed:
        return []
    warnings = []
    for slug in sorted({slug for slug, _ in scene_types_using(conn, name)}):
        try:
            config = resolve(conn, slug)
        except TrulienceError:  # an incomplete scene type has no size to disagree with
            continue
        if config.workflow != name:
            continue  # an older version named it; the current one does not
        user = f"scene type {slug!r}"
        warnings += [str(p) for p in size_disagreements(fixed, config.width, config.height, user)]
    return warnings


def scene_type_warnings(conn: psycopg.Connection, slug: str) -> list[str]:
    """What is likely wrong with a scene type's workflow for it: no seed slot, or a fixed
    size in the graph that disagrees with the scene type's own size."""
    try:
        config = resolve(conn, slug)
    except TrulienceError:  # incomplete yet: nothing to compare
        return []
    if not config.workflow:
        return []
    workflow = get_workflow(conn, config.workflow, config.workflow_version)
    slots = parse_slots(workflow.slots, workflow.graph)
    fixed = fixed_sizes(workflow.graph, slots)
    user = f"scene type {slug!r}"
    problems = registration_warnings(workflow.graph, slots)
    problems += size_disagreements(fixed, config.width, config.height, user)
    return [f"workflow {workflow.name} v{workflow.version}: {p}" for p in problems]
