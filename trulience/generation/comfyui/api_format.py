"""The API format a worker runs: `{node_id: {"class_type": str, "inputs": {name: value}}}`,
where a value is a literal or a link `[source_node_id, output_index]`; telling it from the
editor's UI format and from a POST /prompt body."""

from collections.abc import Mapping
from typing import Any

from trulience.generation.comfyui.errors import Problem, WorkflowValidationError

UI_FORMAT_HELP = (
    "this is a UI-format workflow (the file ComfyUI's Save writes, with top-level 'nodes' and "
    "'links' arrays), not the API format a worker runs; open it in ComfyUI and choose "
    "Workflow > Export (API) (older versions: enable dev mode in the settings and use "
    "'Save (API Format)'), then register that file"
)

_POST_BODY_KEYS = {"prompt", "client_id", "prompt_id", "extra_data", "front", "number"}


def is_ui_format(graph: Any) -> bool:
    """True for the editor's save format (top-level "nodes"/"links" arrays, "version", ...)."""
    if not isinstance(graph, Mapping):
        return False
    if isinstance(graph.get("nodes"), list) or isinstance(graph.get("links"), list):
        return True
    # A node is an object; the editor's "version" is a number.
    return "last_node_id" in graph or isinstance(graph.get("version"), int | float | str)


def is_link(value: Any) -> bool:
    """A link is any list to the server (PROTOCOL section 3): `[node_id, output_index]`."""
    return isinstance(value, list | tuple)


def api_format_problems(graph: Any) -> list[Problem]:
    """Why `graph` is not an API-format workflow (empty when it is one)."""
    whole = _graph_problem(graph)
    if whole is not None:
        return [whole]
    return [p for node_id, node in graph.items() for p in _node_problems(str(node_id), node)]


def _graph_problem(graph: Any) -> Problem | None:
    """What is wrong with `graph` as a whole (the wrong format, or no nodes), if anything."""
    if is_ui_format(graph):
        return Problem(None, None, None, "ui_format", UI_FORMAT_HELP)
    if not isinstance(graph, Mapping):
        return Problem(
            None,
            None,
            None,
            "not_api_format",
            f"a workflow is a JSON object of nodes, got {type(graph).__name__}",
        )
    if isinstance(graph.get("prompt"), Mapping) and set(graph) <= _POST_BODY_KEYS:
        return Problem(
            None,
            None,
            None,
            "not_api_format",
            "this looks like a POST /prompt body; register the object under its 'prompt' key",
        )
    if not graph:
        return Problem(None, None, None, "prompt_no_outputs", "the workflow has no nodes")
    return None


def _node_problems(node_id: str, node: Any) -> list[Problem]:
    """Why one node is not an API-format node: not an object, no class_type, odd inputs."""
    if not isinstance(node, Mapping):
        return [
            Problem(
                node_id,
                None,
                None,
                "invalid_node",
                f"a node is an object with class_type and inputs, got {type(node).__name__}",
            )
        ]
    problems = []
    class_type = node.get("class_type")
    if not isinstance(class_type, str) or not class_type:
        problems.append(
            Problem(
                node_id,
                None,
                None,
                "missing_class_type",
                "the node has no class_type, so the server refuses the whole prompt",
            )
        )
    inputs = node.get("inputs", {})
    if not isinstance(inputs, Mapping):
        problems.append(
            Problem(
                node_id,
                class_type if isinstance(class_type, str) else None,
                None,
                "invalid_node",
                f"'inputs' must be an object of input names, got {type(inputs).__name__}",
            )
        )
    return problems


def check_api_format(graph: Any) -> None:
    """Raise WorkflowValidationError unless `graph` is an API-format workflow."""
    problems = api_format_problems(graph)
    if problems:
        raise WorkflowValidationError("the workflow is not in ComfyUI's API format", problems)
