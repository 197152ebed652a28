"""A segment request as a ComfyUI prompt: its reproducible prompt id, the request bound into
the workflow's slots, the seed frame uploaded, and the provenance stamped into the files."""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from trulience.generation.backend import PermanentBackendError, SegmentRequest
from trulience.generation.comfyui.answers import Submitted
from trulience.generation.comfyui.api_format import is_link
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.errors import Problem
from trulience.generation.comfyui.slots import Slots, bind_inputs
from trulience.generation.comfyui.socket import PromptTracker

# Prompt ids are uuid5 names in this namespace: the same scene, index, seed and nonce always
# give the same id, so a lost POST answer can be looked up instead of posted again.
PROMPT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://trulience.studio/comfyui/prompt")

# Fast and still small on the wire: the seed frame crosses the network once per segment.
_PNG_UPLOAD = [cv2.IMWRITE_PNG_COMPRESSION, 1]


@dataclass
class PromptRun:
    """One prompt on the worker as we follow it: our ids, the worker's answer, the socket's
    view, and how often we had to reconnect or reconcile."""

    prompt_id: str
    client_id: str
    nonce: str
    tracker: PromptTracker
    submitted: Submitted | None = None
    connects: int = 0
    reconciled: int = 0
    polled: int = 0  # /queue + /history look-ups while the socket was silent
    finished_via: str | None = None  # "socket", "history_poll" or "reconcile"

    @classmethod
    def start(cls, request: SegmentRequest) -> "PromptRun":
        # uuid5 of the request and a nonce: reproducible from the metadata, never reused
        # by a retry, and ours before the POST (a lost answer can be looked up).
        nonce = uuid.uuid4().hex
        name = f"{request.scene}|{request.index}|{request.seed}|{nonce}"
        prompt_id = str(uuid.uuid5(PROMPT_NAMESPACE, name))
        # A fresh clientId per segment: a second socket under one id silences the first.
        return cls(prompt_id, uuid.uuid4().hex, nonce, PromptTracker(prompt_id))

    def as_metadata(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "number": self.submitted.number if self.submitted else None,
            "client_id": self.client_id,
            "nonce": self.nonce,
            "executed_nodes": list(self.tracker.ran),
            "socket_connects": self.connects,
            "reconciled": self.reconciled,
            "silent_polls": self.polled,
            "finished_via": self.finished_via,
        }


@dataclass(frozen=True)
class Prepared:
    """A request's workflow made ready to run: the bound graph, its slots, what was bound,
    and what validation warned about."""

    graph: dict[str, Any]
    slots: Slots
    bound: dict[str, Any]
    warnings: list[Problem]

    def as_metadata(self) -> dict[str, Any]:
        return {
            "workflow_nodes": len(self.graph),
            "slots": self.slots.as_json(),
            "bound": self.bound,
            "validation_warnings": [str(w) for w in self.warnings],
        }


def bind_request(
    request: SegmentRequest, slots: Slots, object_info: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workflow with the request written into its slots (a copy), and what was bound."""
    values = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "seed": request.seed,
        "frames": request.frames,
        "width": request.width,
        "height": request.height,
        "fps": float(request.fps),
    }
    graph = bind_inputs(request.workflow or {}, slots, values, object_info)
    bound = {name: values[name] for name in slots.inputs if name in values}
    prefix = f"trulience/{safe_path(request.scene)}/seg-{request.index:03d}"
    for node_id, suffix in ((slots.video, ""), (slots.last_frame, "-last")):
        inputs = graph[node_id].setdefault("inputs", {}) if node_id else {}
        if "filename_prefix" in inputs and not is_link(inputs["filename_prefix"]):
            # Files land in a folder an operator can trace back to the take.
            inputs["filename_prefix"] = prefix + suffix
    if slots.last_frame:
        source = image_source(graph, slots.last_frame)
        if source is not None and graph[source].get("class_type") == "ImageFromBatch":
            inputs = graph[source].setdefault("inputs", {})
            if not is_link(inputs.get("batch_index")):
                # The last frame of a batch of `frames`; the node clamps larger indices.
                inputs["batch_index"] = max(0, min(request.frames - 1, 4095))
                bound["last_frame_index"] = inputs["batch_index"]
    return graph, bound


def upload_seed(client: ComfyUIClient, seed_frame: np.ndarray, request: SegmentRequest) -> str:
    """Upload the seed as PNG; the LoadImage value is `subfolder/name` with the name the
    server returned (it renames on a clash)."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(seed_frame, cv2.COLOR_RGB2BGR), _PNG_UPLOAD)
    if not ok:
        raise PermanentBackendError(f"{request.scene}: could not encode the seed frame")
    subfolder = f"trulience/{safe_path(request.scene)}"
    name = client.upload_image(png.tobytes(), f"seg-{request.index:03d}.png", subfolder=subfolder)
    return f"{subfolder}/{name}"


def prompt_extra_data(request: SegmentRequest, run: PromptRun) -> dict[str, Any]:
    """What the prompt carries besides its graph: the take's provenance, for the files."""
    return {
        "extra_pnginfo": {
            # SaveImage stamps each key as a PNG text chunk: provenance in the file.
            "trulience": {
                "scene": request.scene,
                "index": request.index,
                "seed": request.seed,
                "prompt_id": run.prompt_id,
            }
        }
    }


def image_source(graph: Mapping[str, Any], node_id: str) -> str | None:
    """The node feeding the `images` (or first linked) input of a save node."""
    inputs = graph[node_id].get("inputs") or {}
    link = inputs.get("images")
    if not is_link(link):
        link = next((v for v in inputs.values() if is_link(v)), None)
    if link and len(link) == 2 and isinstance(link[0], str) and link[0] in graph:
        return link[0]
    return None


def safe_path(scene: str) -> str:
    """A scene label as a relative folder path the worker accepts (no '..', no odd bytes)."""
    parts = [re.sub(r"[^A-Za-z0-9._-]+", "-", p).strip(".-") for p in scene.split("/")]
    return "/".join(p for p in parts if p) or "scene"


def check_seed_frame(seed_frame: Any, where: str) -> None:
    if (
        not isinstance(seed_frame, np.ndarray)
        or seed_frame.dtype != np.uint8
        or seed_frame.ndim != 3
        or seed_frame.shape[2] != 3
    ):
        shape = getattr(seed_frame, "shape", None)
        raise PermanentBackendError(
            f"{where}: the seed frame is {getattr(seed_frame, 'dtype', type(seed_frame))} "
            f"{shape}; expected RGB uint8 (H, W, 3)"
        )
