"""Slots: where a segment request goes in a workflow (input slots -> node inputs, and the
video and last-frame output nodes), read against the graph, and binding values into a copy."""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trulience.generation.comfyui.errors import SlotError
from trulience.generation.comfyui.schemas import InputSpec, NodeSchema, parse_schemas

INPUT_SLOTS = (
    "seed_image",
    "prompt",
    "negative_prompt",
    "seed",
    "frames",
    "width",
    "height",
    "fps",
)
OUTPUT_SLOTS = ("video", "last_frame")
REQUIRED_SLOTS = ("seed_image", "video")


@dataclass(frozen=True)
class Slots:
    """Where a segment request goes in a workflow: input slot name -> (node id, input name)
    targets, and the node ids of the video and (optional) lossless last-frame outputs."""

    inputs: dict[str, tuple[tuple[str, str], ...]]
    video: str
    last_frame: str | None

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {k: [list(t) for t in v] for k, v in self.inputs.items()}
        return {**shown, "video": self.video, "last_frame": self.last_frame}


def parse_slots(
    raw: Any, graph: Mapping[str, Any], object_info: Mapping[str, Any] | None = None
) -> Slots:
    """Read `request.params["slots"]` against `graph`; raise SlotError naming each slot that
    is missing, malformed, or points at a node or input the workflow lacks."""
    if not isinstance(raw, Mapping):
        raise SlotError(
            "the request has no slots: params['slots'] must map slot names to "
            "[node_id, input_name] (inputs) or a node id (outputs), e.g. "
            '{"seed_image": ["1", "image"], "video": "9", "last_frame": "11"}'
        )
    schemas = parse_schemas(object_info or {})
    errors = []
    unknown = sorted(set(raw) - set(INPUT_SLOTS) - set(OUTPUT_SLOTS))
    if unknown:
        errors.append(
            f"unknown slot(s) {', '.join(unknown)}; known: {', '.join(INPUT_SLOTS + OUTPUT_SLOTS)}"
        )
    missing = [name for name in REQUIRED_SLOTS if raw.get(name) in (None, "", [])]
    if missing:
        errors.append(f"required slot(s) missing: {', '.join(missing)}")
    inputs = _input_slots(raw, graph, schemas, errors)
    outputs = _output_slots(raw, graph, schemas, errors)
    if errors:
        raise SlotError("the workflow's slots do not fit: " + "; ".join(errors))
    return Slots(inputs=inputs, video=str(outputs["video"]), last_frame=outputs["last_frame"])


def _input_slots(
    raw: Mapping[str, Any],
    graph: Mapping[str, Any],
    schemas: Mapping[str, NodeSchema],
    errors: list[str],
) -> dict[str, tuple[tuple[str, str], ...]]:
    """The input slots `raw` sets, as targets; what does not fit is added to `errors`."""
    inputs: dict[str, tuple[tuple[str, str], ...]] = {}
    for name in INPUT_SLOTS:
        if raw.get(name) in (None, "", []):
            continue
        targets = _slot_targets(raw[name])
        if targets is None:
            errors.append(
                f"slot {name}: expected [node_id, input_name] (or a list of them), "
                f"got {raw[name]!r}"
            )
            continue
        for node_id, input_name in targets:
            node = graph.get(node_id)
            if not isinstance(node, Mapping):
                errors.append(f"slot {name}: node {node_id} is not in the workflow")
                continue
            schema = schemas.get(node.get("class_type"))
            declared = schema is not None and schema.spec(input_name) is not None
            if input_name not in (node.get("inputs") or {}) and not declared:
                errors.append(
                    f"slot {name}: node {node_id} ({node.get('class_type')}) has no input "
                    f"{input_name!r}"
                )
        inputs[name] = targets
    return inputs


def _output_slots(
    raw: Mapping[str, Any],
    graph: Mapping[str, Any],
    schemas: Mapping[str, NodeSchema],
    errors: list[str],
) -> dict[str, str | None]:
    """The output node of each output slot (None when unset); what does not fit is added
    to `errors`."""
    outputs: dict[str, str | None] = {}
    for name in OUTPUT_SLOTS:
        value = raw.get(name)
        if value in (None, "", []):
            outputs[name] = None
            continue
        node_id = _slot_node(value)
        node = graph.get(node_id) if node_id is not None else None
        if not isinstance(node, Mapping):
            errors.append(f"slot {name}: node {value!r} is not in the workflow")
            continue
        schema = schemas.get(node.get("class_type"))
        if schema is not None and not schema.output_node:
            errors.append(
                f"slot {name}: node {node_id} ({node.get('class_type')}) is not an output "
                "node, so the worker lists no files for it"
            )
        outputs[name] = node_id
    return outputs


def _slot_targets(value: Any) -> tuple[tuple[str, str], ...] | None:
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, list | tuple) for v in value)
    ):
        pairs = [_slot_pair(v) for v in value]
        return None if any(p is None for p in pairs) else tuple(p for p in pairs if p)
    pair = _slot_pair(value)
    return None if pair is None else (pair,)


def _slot_pair(value: Any) -> tuple[str, str] | None:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and isinstance(value[0], str | int)
        and not isinstance(value[0], bool)
        and isinstance(value[1], str)
    ):
        return str(value[0]), value[1]
    return None


def _slot_node(value: Any) -> str | None:
    if isinstance(value, list | tuple) and value:
        value = value[0]
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    return None


def bind_inputs(
    graph: Mapping[str, Any],
    slots: Slots,
    values: Mapping[str, Any],
    object_info: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A deep copy of `graph` with each slot's value written into its targets (the caller's
    graph is never changed); values are cast to the declared INT/FLOAT/STRING type."""
    bound = copy.deepcopy(dict(graph))
    schemas = parse_schemas(object_info or {})
    for name, targets in slots.inputs.items():
        if name not in values:
            continue
        for node_id, input_name in targets:
            node = bound[node_id]
            schema = schemas.get(node.get("class_type"))
            spec = schema.spec(input_name) if schema else None
            node.setdefault("inputs", {})[input_name] = _cast(values[name], spec)
    return bound


def _cast(value: Any, spec: InputSpec | None) -> Any:
    if spec is None:
        return value
    if spec.type == "INT" and isinstance(value, int | float) and float(value).is_integer():
        return int(value)
    if spec.type == "FLOAT" and isinstance(value, int | float):
        return float(value)
    if spec.type == "STRING":
        return str(value)
    return value
