"""A refused workflow in the studio's words: the problems a POST /prompt answer names
(a 400, or a 200 that still lists node errors), node by node and input by input."""

from collections.abc import Mapping
from typing import Any

from trulience.generation.comfyui.errors import Problem, WorkflowRejected


def rejection(answer: Any, status: int, graph: Mapping[str, Any]) -> WorkflowRejected:
    """A 400 from POST /prompt as a WorkflowRejected listing each problem."""
    if not isinstance(answer, dict):
        return WorkflowRejected(
            f"the worker refused the workflow with {status} and no explanation", status=status
        )
    error = answer.get("error") or {}
    if isinstance(error, str):  # very old servers answer {"error": "text"}
        error = {"type": "invalid_prompt", "message": error}
    problems = node_problems(answer.get("node_errors") or {}, graph)
    if not problems:
        node_id = _node_from_details(str(error.get("details") or ""))
        node = graph.get(node_id) if node_id else None
        problems = [
            Problem(
                node_id,
                node.get("class_type") if isinstance(node, Mapping) else None,
                None,
                str(error.get("type") or "invalid_prompt"),
                str(error.get("message") or "the worker refused the workflow"),
                details={"details": error.get("details"), "extra_info": error.get("extra_info")},
            )
        ]
    message = str(error.get("message") or "the worker refused the workflow")
    return WorkflowRejected(
        f"the worker refused the workflow: {message}",
        problems,
        error_type=error.get("type"),
        status=status,
    )


def _node_from_details(details: str) -> str | None:
    # invalid_prompt names the node only in the text: "Node ID '#9'".
    marker = "Node ID '#"
    if marker in details:
        return details.split(marker, 1)[1].split("'", 1)[0] or None
    return None


def node_problems(node_errors: Mapping[str, Any], graph: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for node_id, entry in node_errors.items():
        entry = entry if isinstance(entry, Mapping) else {}
        node = graph.get(str(node_id))
        class_type = entry.get("class_type") or (
            node.get("class_type") if isinstance(node, Mapping) else None
        )
        for error in entry.get("errors") or [{}]:
            extra = error.get("extra_info") or {}
            input_name = extra.get("input_name")
            details = str(error.get("details") or "")
            if input_name is None and error.get("type") == "required_input_missing":
                input_name = details or None
            message = str(error.get("message") or "invalid")
            if details and error.get("type") != "exception_during_validation":
                message = f"{message}: {details}"
            elif error.get("type") == "exception_during_validation":
                # The server's traceback is for its log, not for a producer.
                kind = extra.get("exception_type") or "error"
                message = f"{message} ({kind} {details})"
            problems.append(
                Problem(
                    str(node_id),
                    class_type,
                    input_name,
                    str(error.get("type") or "invalid"),
                    message,
                    details={
                        k: v
                        for k, v in extra.items()
                        if k in ("received_value", "received_type", "linked_node", "input_config")
                    }
                    | {"dependent_outputs": entry.get("dependent_outputs") or []},
                )
            )
    return problems
