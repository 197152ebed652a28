"""The ComfyUI backend: HTTP client, WebSocket follower, workflow validation, and the
generation backend that makes one segment per prompt on a ComfyUI worker.

The protocol: client (HTTP), answers (its records), refusals, socket (WebSocket), errors.
A workflow: api_format, schemas (/object_info), validation and values, models, slots, and
registration (its warnings). One segment: backend, with request (the prompt), follow (its
run), outcome (how it ended) and outputs (its files)."""

from trulience.generation.comfyui.answers import (
    HistoryEntry,
    OutputFile,
    QueueEntry,
    QueueState,
    Submitted,
)
from trulience.generation.comfyui.backend import ComfyUIBackend
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.errors import (
    ComfyUIError,
    ExecutionFailed,
    OutputMissing,
    Problem,
    PromptInterrupted,
    PromptLost,
    RequestRefused,
    SegmentTimeout,
    SlotError,
    WorkerUnavailable,
    WorkflowRejected,
    WorkflowValidationError,
)
from trulience.generation.comfyui.models import ModelRef, extract_models
from trulience.generation.comfyui.slots import Slots
from trulience.generation.comfyui.validation import check_workflow, validate_workflow

__all__ = [
    "ComfyUIBackend",
    "ComfyUIClient",
    "ComfyUIError",
    "ExecutionFailed",
    "HistoryEntry",
    "ModelRef",
    "OutputFile",
    "OutputMissing",
    "Problem",
    "PromptInterrupted",
    "PromptLost",
    "QueueEntry",
    "QueueState",
    "RequestRefused",
    "SegmentTimeout",
    "SlotError",
    "Slots",
    "Submitted",
    "WorkerUnavailable",
    "WorkflowRejected",
    "WorkflowValidationError",
    "check_workflow",
    "extract_models",
    "validate_workflow",
]
