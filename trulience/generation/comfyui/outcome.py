"""How a prompt ended, in the studio's errors: an interrupt (the operator's, or someone
else's), a node's failure (with what to change when a video encoder refused), or success."""

import logging
import re
from collections.abc import Mapping
from typing import Any

from trulience.generation.backend import SegmentRequest
from trulience.generation.comfyui.answers import HistoryEntry
from trulience.generation.comfyui.errors import ExecutionFailed, PromptInterrupted
from trulience.generation.comfyui.registration import fixed_sizes
from trulience.generation.comfyui.slots import Slots
from trulience.generation.comfyui.socket import PromptTracker

log = logging.getLogger(__name__)


def check_outcome(
    entry: HistoryEntry,
    tracker: PromptTracker,
    worker: str,
    where: str,
    graph: Mapping[str, Any] | None = None,
    slots: Slots | None = None,
    request: SegmentRequest | None = None,
) -> None:
    """Raise unless history says success (an errored prompt still lists the outputs
    that finished before the failure: outputs alone prove nothing)."""
    outcome = entry.outcome
    if outcome == "success":
        return
    prompt_id = entry.prompt_id
    if outcome == "interrupted":
        data = entry.message("execution_interrupted") or tracker.interrupted or {}
        node = _node_label(data.get("node_id"), data.get("node_type"))
        raise PromptInterrupted(
            f"{where}: prompt {prompt_id} was interrupted on {worker}{node} "
            "(by an operator, or another client of the worker)",
            prompt_id=prompt_id,
            node_id=data.get("node_id"),
        )
    data = entry.message("execution_error") or tracker.error or {}
    node_id, node_type = data.get("node_id"), data.get("node_type")
    exception_type = data.get("exception_type")
    exception_message = str(data.get("exception_message") or "").strip()
    if data:
        message = (
            f"{where}: node {node_id} ({node_type}) failed on {worker}: "
            f"{exception_type or 'error'}: {exception_message or 'no message'}"
        )
        if "avcodec_open2" in exception_message:
            message += "; " + encoder_refusal(exception_message, graph, slots, request)
    else:
        message = (
            f"{where}: prompt {prompt_id} ended with status {entry.status_str!r} on "
            f"{worker} without saying why"
        )
    raise ExecutionFailed(
        message,
        prompt_id=prompt_id,
        node_id=node_id,
        node_type=node_type,
        exception_type=exception_type,
        exception_message=exception_message or None,
        traceback=data.get("traceback"),
        metadata={
            "executed": data.get("executed"),
            "current_inputs": data.get("current_inputs"),
            "worker": worker,
        },
    )


def cancelled_by(request: SegmentRequest) -> str | None:
    """Who cancelled the request's take (asked of its watch), or None."""
    if request.watch is None:
        return None
    try:
        return request.watch.cancelled_by()
    except Exception:  # cannot tell: treat the interrupt as nobody's, i.e. transient
        log.exception(
            "%s segment %s: could not read the take's control", request.scene, request.index
        )
        return None


_ENCODER = re.compile(r"avcodec_open2\(\W*([\w.-]+)")
# Encoders that take yuv420p frames only in even sizes (chroma is subsampled 2x2).
_EVEN_SIZE_ENCODERS = ("libx264", "libx265", "h264", "hevc", "libopenh264", "mpeg4")


def encoder_refusal(
    exception_message: str,
    graph: Mapping[str, Any] | None,
    slots: Slots | None,
    request: SegmentRequest | None,
) -> str:
    """Why a video encoder refused to open (PyAV's `avcodec_open2(...)` error) and what to
    change: the size the segment used, and the node that fixed it, if any."""
    match = _ENCODER.search(exception_message)
    encoder = match.group(1) if match else "the encoder"
    sizes = []
    if request is not None:
        sizes.append((request.width, request.height, "the scene type's size"))
    for fixed in fixed_sizes(graph or {}, slots) if graph else []:
        sizes.append(
            (fixed.width, fixed.height, f"fixed by node {fixed.node_id} ({fixed.class_type})")
        )
    odd = [
        (w, h, source)
        for w, h, source in sizes
        if (isinstance(w, int) and w % 2) or (isinstance(h, int) and h % 2)
    ]
    if any(name in encoder for name in _EVEN_SIZE_ENCODERS) and odd:
        shown = ", ".join(f"{w}x{h} ({source})" for w, h, source in odd)
        return (
            f"{encoder} refused to open: H.264 in yuv420p needs an even width and height, "
            f"and the frames were {shown}. Use an even size (e.g. "
            f"{_even(odd[0][0])}x{_even(odd[0][1])}) in the scene type or the workflow, or "
            "save as WEBM (vp9 accepts odd sizes)"
        )
    shown = ", ".join(f"{w}x{h} ({source})" for w, h, source in sizes) or "unknown"
    return (
        f"{encoder} refused to open with these settings (frame size {shown}); check the "
        "video node's codec, pixel format and size against what the encoder accepts"
    )


def _even(value: Any) -> Any:
    return value + 1 if isinstance(value, int) and value % 2 else value


def _node_label(node_id: Any, node_type: Any) -> str:
    if node_id is None:
        return ""
    return f" at node {node_id}" + (f" ({node_type})" if node_type else "")
