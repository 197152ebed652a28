"""Domain errors of the ComfyUI backend, each on the transient or the permanent side.

Transient means a fresh attempt may succeed (the worker went away, lost the prompt, was
interrupted, timed out); permanent means the same request will fail again (a workflow the
worker refuses, a node that raises on these inputs).
"""

from dataclasses import dataclass, field
from typing import Any

from trulience.generation.backend import (
    BackendError,
    PermanentBackendError,
    TransientBackendError,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow: where (node, class, input), what kind, and why.

    `type` uses ComfyUI's names where one exists (`value_not_in_list`,
    `required_input_missing`, `return_type_mismatch`, ...); `severity` is "error" for what
    the worker would refuse or fail on, "warning" for what it silently alters.
    """

    node_id: str | None
    class_type: str | None
    input_name: str | None
    type: str
    message: str
    severity: str = "error"
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = []
        if self.node_id is not None:
            where.append(f"node {self.node_id}")
        if self.class_type:
            where.append(f"({self.class_type})")
        if self.input_name:
            where.append(f"input {self.input_name!r}")
        prefix = " ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ComfyUIError(BackendError):
    """Something went wrong talking to a ComfyUI worker."""

    worker: str | None = None


class WorkerUnavailable(ComfyUIError, TransientBackendError):
    """The worker cannot be reached, timed out, or answered with a server error."""


class RequestRefused(ComfyUIError, PermanentBackendError):
    """The worker refused a request as malformed (4xx); sending it again will not help."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OutputMissing(ComfyUIError, TransientBackendError):
    """An output the worker reported is not there to fetch (wiped temp folder, restart)."""


class WorkflowValidationError(ComfyUIError, PermanentBackendError):
    """A workflow breaks the rules of the worker's node schemas; carries every problem."""

    def __init__(self, message: str, problems: list[Problem] | tuple[Problem, ...] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = [message, *(f"  - {p}" for p in self.problems)]
        super().__init__("\n".join(lines))
        self.summary = message


class WorkflowRejected(WorkflowValidationError):
    """The worker refused the workflow at POST /prompt (400, or 200 with node_errors).

    `prompt_id` is set when the worker had accepted part of it (and we cancelled that part).
    """

    def __init__(
        self,
        message: str,
        problems: list[Problem] | tuple[Problem, ...] = (),
        *,
        error_type: str | None = None,
        prompt_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, problems)
        self.error_type = error_type
        self.prompt_id = prompt_id
        self.status = status


class SlotError(ComfyUIError, PermanentBackendError):
    """The request's slots do not fit the workflow (missing slot, unknown node or input)."""


class ExecutionFailed(ComfyUIError, PermanentBackendError):
    """A node raised while the prompt ran. The message names the node, its class and the
    exception; the server's traceback and the node's inputs stay in `metadata`."""

    def __init__(
        self,
        message: str,
        *,
        prompt_id: str,
        node_id: str | None,
        node_type: str | None,
        exception_type: str | None,
        exception_message: str | None,
        traceback: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.prompt_id = prompt_id
        self.node_id = node_id
        self.node_type = node_type
        self.exception_type = exception_type
        self.exception_message = exception_message
        self.traceback = traceback
        self.metadata = {
            "prompt_id": prompt_id,
            "node_id": node_id,
            "node_type": node_type,
            "exception_type": exception_type,
            "exception_message": exception_message,
            "traceback": traceback,
            **(metadata or {}),
        }


class PromptInterrupted(ComfyUIError, TransientBackendError):
    """The prompt was interrupted on the worker (by an operator, or another client)."""

    def __init__(self, message: str, *, prompt_id: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.prompt_id = prompt_id
        self.node_id = node_id


class PromptLost(ComfyUIError, TransientBackendError):
    """The worker has no trace of the prompt: deleted from its queue, or it restarted."""

    def __init__(self, message: str, *, prompt_id: str) -> None:
        super().__init__(message)
        self.prompt_id = prompt_id


class SegmentTimeout(ComfyUIError, TransientBackendError):
    """A segment took longer than allowed (overall, or with no message from the worker)."""

    def __init__(self, message: str, *, prompt_id: str | None, which: str) -> None:
        super().__init__(message)
        self.prompt_id = prompt_id
        self.which = which  # "segment" or "idle"
