"""A workflow's node graph as the Studio draws it (PRD-33): each node of the API JSON with
its class, its inputs (literals, links, our slots, model files), the links between nodes,
the problems validation found on it, and a layered layout (a node one layer right of every
node it reads from). Nothing here draws; apps/workflows_views.py renders it as SVG."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trulience.generation.comfyui.api_format import api_format_problems, is_link
from trulience.generation.comfyui.errors import Problem, SlotError
from trulience.generation.comfyui.models import known_folder, looks_like_model
from trulience.generation.comfyui.registration import registration_warnings
from trulience.generation.comfyui.slots import (
    INPUT_SLOTS,
    OUTPUT_SLOTS,
    _slot_node,
    _slot_targets,
    parse_slots,
)
from trulience.generation.comfyui.validation import validate_workflow


@dataclass(frozen=True)
class NodeInput:
    """One input of a node: a literal value (shown) or a link from `link` (node, output);
    the slot that writes it (ours), and the model folder when it names a model file."""

    name: str
    value: str
    link: tuple[str, int] | None = None
    slot: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class GraphNode:
    """One node: id, class, title, inputs, the output slots it is, its problems, and its
    place (layer left to right, row top to bottom)."""

    id: str
    class_type: str
    title: str
    inputs: tuple[NodeInput, ...]
    output_slots: tuple[str, ...]
    problems: tuple[Problem, ...]
    layer: int
    row: int

    @property
    def slots(self) -> tuple[str, ...]:
        """Every slot of ours on this node, inputs' then outputs'."""
        return tuple(i.slot for i in self.inputs if i.slot) + self.output_slots

    @property
    def models(self) -> tuple[str, ...]:
        """The model files the node loads."""
        return tuple(i.value for i in self.inputs if i.model is not None)

    @property
    def has_error(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


@dataclass(frozen=True)
class GraphEdge:
    """A link: output `output` of node `source` feeds input `input` of node `target`."""

    source: str
    output: int
    target: str
    input: str


@dataclass(frozen=True)
class WorkflowGraph:
    """The drawn graph: nodes (by layer, then row), links, and problems on no node."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    loose: tuple[Problem, ...]

    def node(self, node_id: str) -> GraphNode:
        """The node of this id (KeyError when the graph has none)."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    @property
    def layers(self) -> int:
        return 1 + max((n.layer for n in self.nodes), default=-1)


def _slot_map(slots: Mapping[str, Any]) -> tuple[dict[tuple[str, str], str], dict[str, list]]:
    """(node id, input) -> input slot name, and node id -> its output slot names."""
    inputs: dict[tuple[str, str], str] = {}
    for name in INPUT_SLOTS:
        targets = _slot_targets(slots.get(name)) if slots.get(name) else None
        for target in targets or ():
            inputs[target] = name
    outputs: dict[str, list] = {}
    for name in OUTPUT_SLOTS:
        node_id = _slot_node(slots.get(name)) if slots.get(name) else None
        if node_id is not None:
            outputs.setdefault(node_id, []).append(name)
    return inputs, outputs


def _layers(graph: Mapping[str, Any]) -> dict[str, int]:
    """Each node's layer: 0 for nodes that read no other, else one more than its sources'
    deepest (a cycle, which ComfyUI refuses anyway, is cut where it closes)."""
    layer: dict[str, int] = {}
    visiting: set[str] = set()

    def depth(node_id: str) -> int:
        if node_id in layer:
            return layer[node_id]
        if node_id in visiting:
            return 0
        visiting.add(node_id)
        sources = [
            str(v[0])
            for v in (graph[node_id].get("inputs") or {}).values()
            if is_link(v) and str(v[0]) in graph
        ]
        layer[node_id] = 1 + max((depth(s) for s in sources), default=-1)
        visiting.discard(node_id)
        return layer[node_id]

    for node_id in graph:
        depth(node_id)
    return layer


def _value(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _sort_key(node_id: str) -> tuple[int, str]:
    return (int(node_id), "") if node_id.isdigit() else (1 << 30, node_id)


def build_graph(
    graph: Mapping[str, Any],
    slots: Mapping[str, Any] | None = None,
    problems: Iterable[Problem] = (),
) -> WorkflowGraph:
    """The drawable graph of an API-format workflow, its `slots` (as registered) marked and
    each of `problems` (validation's) on its node; a graph that is not API format is
    refused with its first problem (WorkflowFormatError is not raised: a ValueError)."""
    shape = api_format_problems(graph)
    if shape:
        raise ValueError(str(shape[0]))
    graph = {str(k): v for k, v in graph.items()}
    slot_inputs, slot_outputs = _slot_map(slots or {})
    problems = list(problems)
    layer = _layers(graph)
    rows: dict[int, int] = {}
    nodes, edges = [], []
    for node_id in sorted(graph, key=lambda n: (layer[n], _sort_key(n))):
        node = graph[node_id]
        class_type = node["class_type"]
        inputs = []
        for name, value in (node.get("inputs") or {}).items():
            slot = slot_inputs.get((node_id, name))
            if is_link(value):
                link = (str(value[0]), int(value[1]) if isinstance(value[1], int) else 0)
                inputs.append(NodeInput(name, f"← {link[0]}.{link[1]}", link, slot))
                if link[0] in graph:
                    edges.append(GraphEdge(link[0], link[1], node_id, name))
                continue
            folder = known_folder(class_type, name)
            model = folder if folder else ("" if looks_like_model(value) else None)
            inputs.append(NodeInput(name, _value(value), None, slot, model))
        for (slot_node, name), slot in slot_inputs.items():  # a slot on an input not written
            if slot_node == node_id and all(i.name != name for i in inputs):
                inputs.append(NodeInput(name, "", None, slot))
        title = (node.get("_meta") or {}).get("title") or class_type
        rows[layer[node_id]] = row = rows.get(layer[node_id], -1) + 1
        nodes.append(
            GraphNode(
                node_id,
                class_type,
                str(title),
                tuple(inputs),
                tuple(slot_outputs.get(node_id, ())),
                tuple(p for p in problems if p.node_id == node_id),
                layer[node_id],
                row,
            )
        )
    loose = tuple(p for p in problems if p.node_id not in graph)
    return WorkflowGraph(tuple(nodes), tuple(edges), loose)


def graph_problems(
    graph: Mapping[str, Any],
    slots: Mapping[str, Any] | None,
    object_info: Mapping[str, Any] | None = None,
    models: Mapping[str, Iterable[str]] | None = None,
) -> list[Problem]:
    """What is wrong with a workflow as registration would say it: validation against a
    worker's `object_info` (and model lists) when given, slots that do not fit, and the
    registration warnings (a missing seed slot)."""
    problems = validate_workflow(graph, object_info, models) if object_info is not None else []
    try:
        parsed = parse_slots(slots or {}, graph, object_info)
    except SlotError as exc:
        return [*problems, Problem(None, None, None, "slots", str(exc))]
    return [*problems, *registration_warnings(graph, parsed)]
