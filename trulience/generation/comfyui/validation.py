"""Validation of an API-format workflow against a worker's /object_info: unknown classes,
missing inputs, links to nothing or to the wrong type, and values the worker would refuse.

Validation follows the server's own rules (PROTOCOL.md section 9) so that a producer learns
what is wrong when registering a workflow, not when a GPU segment fails.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trulience.generation.comfyui.api_format import api_format_problems, is_link
from trulience.generation.comfyui.errors import Problem, WorkflowValidationError
from trulience.generation.comfyui.models import inventory_of
from trulience.generation.comfyui.schemas import (
    InputSpec,
    NodeSchema,
    parse_schemas,
    type_name,
    types_match,
)
from trulience.generation.comfyui.values import ValueCheck


def validate_workflow(
    graph: Any,
    object_info: Mapping[str, Any],
    models: Mapping[str, Iterable[str]] | None = None,
) -> list[Problem]:
    """Every problem a worker with this `object_info` would find in `graph` (and a few it
    would let through silently, as warnings); `models` maps a model folder ("checkpoints",
    "loras", ...) to the files a worker has, as GET /models/<folder> lists them."""
    problems = api_format_problems(graph)
    if problems:
        return problems
    check = _Check(graph, parse_schemas(object_info), inventory_of(models), models is not None)
    for node_id, node in graph.items():
        problems.extend(check.node(str(node_id), node))
    has_output = any(
        schema.output_node
        for node in graph.values()
        if (schema := check.schemas.get(node["class_type"])) is not None
    )
    if not has_output and not any(p.type == "unknown_class_type" for p in problems):
        problems.append(
            Problem(
                None,
                None,
                None,
                "prompt_no_outputs",
                "the workflow has no output node (SaveImage, SaveVideo, ...), so nothing runs",
            )
        )
    return problems


def check_workflow(
    graph: Any,
    object_info: Mapping[str, Any],
    models: Mapping[str, Iterable[str]] | None = None,
) -> list[Problem]:
    """Raise WorkflowValidationError if `graph` has errors; return its warnings otherwise."""
    problems = validate_workflow(graph, object_info, models)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        noun = "problem" if len(errors) == 1 else "problems"
        raise WorkflowValidationError(f"the workflow has {len(errors)} {noun}", errors)
    return problems


@dataclass(frozen=True)
class _Check:
    """One validation: the graph, the worker's schemas, and its model files (if listed)."""

    graph: Mapping[str, Any]
    schemas: Mapping[str, NodeSchema]
    inventory: dict[str, set[str]]
    have_inventory: bool

    def node(self, node_id: str, node: Mapping[str, Any]) -> list[Problem]:
        """The problems of one node: its class, its required inputs, each input given."""
        class_type = node["class_type"]
        schema = self.schemas.get(class_type)
        if schema is None:
            return [
                Problem(
                    node_id,
                    class_type,
                    None,
                    "unknown_class_type",
                    f"node class {class_type!r} does not exist on this worker "
                    "(a custom node that is not installed, or a misspelt name)",
                )
            ]
        inputs = node.get("inputs", {})
        problems = [
            Problem(
                node_id, class_type, name, "required_input_missing", "required input is missing"
            )
            for name in schema.required
            if name not in inputs
        ]
        for name, value in inputs.items():
            problems.extend(self.input(node_id, schema, name, value))
        return problems

    def input(self, node_id: str, schema: NodeSchema, name: str, value: Any) -> list[Problem]:
        """The problems of one input's value: undeclared, a bad link, or a bad literal."""
        class_type = schema.class_type
        spec = schema.spec(name)
        if spec is None:
            if name in schema.hidden:
                return []
            return [
                Problem(
                    node_id,
                    class_type,
                    name,
                    "unknown_input",
                    f"{class_type} declares no input {name!r}; the worker ignores it",
                    severity="warning",
                )
            ]
        if is_link(value):
            return self.link(node_id, class_type, spec, value)
        check = ValueCheck(node_id, class_type, spec, value)
        return check.problems(self.inventory, self.have_inventory)

    def link(self, node_id: str, class_type: str, spec: InputSpec, link: Any) -> list[Problem]:
        """The problems of a link: its shape, the node it names, that node's output."""
        if len(link) != 2:
            return [
                Problem(
                    node_id,
                    class_type,
                    spec.name,
                    "bad_linked_input",
                    f"a link is [node_id, output_index], got {list(link)!r}",
                )
            ]
        source_id = link[0]
        if not isinstance(source_id, str) or source_id not in self.graph:
            hint = ""
            if not isinstance(source_id, str) and str(source_id) in self.graph:
                hint = f' (node ids are strings: write "{source_id}")'
            return [
                Problem(
                    node_id,
                    class_type,
                    spec.name,
                    "link_to_missing_node",
                    f"links to node {source_id!r}, which is not in the workflow{hint}",
                    details={"linked_node": list(link)},
                )
            ]
        source_schema = self.schemas.get(self.graph[source_id].get("class_type"))
        if source_schema is None:
            return []  # the unknown class is reported on its own node
        return _output_problems(node_id, class_type, spec, link, source_schema)


def _output_problems(
    node_id: str, class_type: str, spec: InputSpec, link: Any, source: NodeSchema
) -> list[Problem]:
    """The problems of the output a link reads: one the source has, of a type that fits."""
    source_id, index = link
    outputs = source.outputs
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(outputs):
        return [
            Problem(
                node_id,
                class_type,
                spec.name,
                "link_to_missing_output",
                f"links to output {index!r} of node {source_id} ({source.class_type}), "
                f"which has {len(outputs)} output(s)",
                details={"linked_node": list(link)},
            )
        ]
    received = outputs[index]
    if not types_match(received, spec):
        return [
            Problem(
                node_id,
                class_type,
                spec.name,
                "return_type_mismatch",
                f"expects {spec.type} but is linked to output {index} of node {source_id} "
                f"({source.class_type}), which gives {type_name(received)}",
                details={"linked_node": list(link), "received_type": type_name(received)},
            )
        ]
    return []
