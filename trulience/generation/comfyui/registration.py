"""What registering a workflow warns about without refusing it: sizes written into nodes
that disagree with a scene type, and a missing seed slot."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trulience.generation.comfyui.api_format import is_link
from trulience.generation.comfyui.errors import Problem
from trulience.generation.comfyui.slots import Slots

# Inputs that commonly take a sampler's seed, to point a producer at the one to declare.
_SEED_INPUTS = ("seed", "noise_seed")


@dataclass(frozen=True)
class FixedSize:
    """A width and/or height written into a node as a literal, not bound to a size slot:
    the frames have this size whatever the scene type asks for."""

    node_id: str
    class_type: str
    width: int | None
    height: int | None

    def __str__(self) -> str:
        size = f"{self.width if self.width is not None else '?'}x"
        size += f"{self.height if self.height is not None else '?'}"
        return f"node {self.node_id} ({self.class_type}) fixes {size}"


def _size_literal(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def fixed_sizes(graph: Mapping[str, Any], slots: Slots | None) -> list[FixedSize]:
    """Nodes whose `width`/`height` inputs are integer literals the size slots do not bind."""
    bound = set()
    if slots is not None:
        for name in ("width", "height"):
            bound.update(slots.inputs.get(name, ()))
    found = []
    for node_id, node in graph.items():
        if not isinstance(node, Mapping):
            continue
        inputs = node.get("inputs") or {}
        width, height = (
            None if (str(node_id), name) in bound else _size_literal(inputs.get(name))
            for name in ("width", "height")
        )
        if width is not None or height is not None:
            found.append(FixedSize(str(node_id), str(node.get("class_type")), width, height))
    return found


def size_disagreements(
    fixed: Iterable[FixedSize], width: int, height: int, user: str
) -> list[Problem]:
    """A warning for each fixed size that differs from a scene type's `width` x `height`
    (`user` names the scene type in the message)."""
    problems = []
    for size in fixed:
        if (size.width is None or size.width == width) and (
            size.height is None or size.height == height
        ):
            continue
        problems.append(
            Problem(
                size.node_id,
                size.class_type,
                "width" if size.width not in (None, width) else "height",
                "fixed_size_disagrees",
                f"{size.width}x{size.height} is written into the node, but {user} asks for "
                f"{width}x{height}: its segments come out at the node's size (and fail QA's "
                "size check); bind the node's width and height to the width/height slots, "
                "or change one of the two sizes",
                severity="warning",
                details={"fixed": [size.width, size.height], "scene": [width, height]},
            )
        )
    return problems


def registration_warnings(graph: Mapping[str, Any], slots: Slots) -> list[Problem]:
    """What registration warns about without refusing: a missing seed slot (every retake
    then sends the same graph, and ComfyUI answers it from its cache with the same video)."""
    warnings = []
    if "seed" not in slots.inputs:
        candidates = [
            f'["{node_id}", "{name}"]'
            for node_id, node in graph.items()
            if isinstance(node, Mapping)
            for name in _SEED_INPUTS
            if name in (node.get("inputs") or {}) and not is_link(node["inputs"][name])
        ]
        hint = f" (this workflow has {', '.join(candidates)})" if candidates else ""
        warnings.append(
            Problem(
                None,
                None,
                None,
                "no_seed_slot",
                "no seed slot: every retake of a segment sends the same graph, so the worker "
                "answers it from its cache at once with the same video and QA refuses it "
                'again; declare one, e.g. "seed": [node_id, "seed"]' + hint,
                severity="warning",
            )
        )
    return warnings
