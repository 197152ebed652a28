"""The ComfyUI generation backend: one segment per prompt on a ComfyUI worker.

A segment goes: bind the request into the workflow through its slots, upload the seed frame,
open the WebSocket (before submitting: there is no replay), submit once under a prompt id we
chose, follow the run, and fetch the outputs named in /history. If the socket drops we
reconnect and reconcile through /queue and /history; the prompt is never submitted twice. A
socket that stays silent (a second socket under our clientId silences ours, PROTOCOL section
5) is not trusted to the idle timeout: every few seconds of silence we look the prompt up in
/queue and /history and finish from there. A segment is done only when history says success
and both files are on our disk.

The prompt id is reported to the request's watch once queued, so an operator can interrupt
that prompt (not the worker's whole queue); an interrupt (or a queue deletion) of a take the
operator cancelled is OperatorInterrupted, never retried; any other interrupt stays
transient. A run stopped from outside (SIGTERM, Dagster's termination) cancels its prompt.
"""

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from trulience.generation.backend import (
    OperatorInterrupted,
    PermanentBackendError,
    SegmentRequest,
    SegmentResult,
)
from trulience.generation.comfyui.answers import HistoryEntry
from trulience.generation.comfyui.api_format import check_api_format
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.errors import (
    PromptInterrupted,
    PromptLost,
    WorkflowValidationError,
)
from trulience.generation.comfyui.follow import PromptFollower
from trulience.generation.comfyui.outcome import cancelled_by, check_outcome
from trulience.generation.comfyui.outputs import fetch_last_frame, fetch_video, outputs_metadata
from trulience.generation.comfyui.request import (
    PROMPT_NAMESPACE,
    Prepared,
    PromptRun,
    bind_request,
    check_seed_frame,
    upload_seed,
)
from trulience.generation.comfyui.slots import parse_slots
from trulience.generation.comfyui.socket import PreviewCallback, ProgressCallback
from trulience.generation.comfyui.validation import check_workflow
from trulience.media.probe import InvalidVideo, probe

__all__ = ["PROMPT_NAMESPACE", "ComfyUIBackend"]


class ComfyUIBackend:
    """Generation backend on one ComfyUI worker (see the module docstring for the flow)."""

    def __init__(
        self,
        url_or_client: str | ComfyUIClient,
        *,
        segment_timeout_s: float = 1800.0,
        idle_timeout_s: float = 300.0,
        reconnect_timeout_s: float = 30.0,
        http_timeout_s: float = 30.0,
        ping_interval_s: float = 5.0,
        ping_timeout_s: float = 10.0,
        poll_interval_s: float = 0.5,
        silent_poll_s: float = 5.0,
        validate: bool = True,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
        name: str = "comfyui",
    ) -> None:
        self.client = (
            url_or_client
            if isinstance(url_or_client, ComfyUIClient)
            else ComfyUIClient(url_or_client, timeout_s=http_timeout_s)
        )
        self.segment_timeout_s = segment_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.reconnect_timeout_s = reconnect_timeout_s
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self.poll_interval_s = poll_interval_s
        # after this long without a message (and as often again while silence lasts) the
        # prompt is looked up in /queue and /history: a silenced socket never says "done"
        self.silent_poll_s = silent_poll_s
        self.validate = validate
        self.on_progress = on_progress
        self.on_preview = on_preview
        self.name = name
        # called once the worker's execution ended well, before the outputs are fetched:
        # a pool gives the worker's slot back then (the download needs no GPU)
        self.on_executed: Callable[[], None] | None = None
        self._object_info: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"ComfyUIBackend({self.client.base_url!r})"

    @property
    def worker(self) -> str:
        return self.client.base_url

    def close(self) -> None:
        """Close the HTTP session to the worker."""
        self.client.close()

    # -- operator controls ----------------------------------------------------------------

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Interrupt the worker's running prompt (only if it is `prompt_id`, when given)."""
        self.client.interrupt(prompt_id)

    def free(self, unload_models: bool = True, free_memory: bool = True) -> None:
        """Ask the worker to unload models and free memory once its current prompt ends."""
        self.client.free(unload_models=unload_models, free_memory=free_memory)

    # -- one segment ----------------------------------------------------------------------

    def generate_segment(
        self, seed_frame: np.ndarray, request: SegmentRequest, work_dir: Path
    ) -> SegmentResult:
        """Run the request's workflow on the worker from `seed_frame` and fetch its video
        (into `work_dir`) and its lossless last frame."""
        started_at = datetime.now(UTC)
        clock = time.monotonic()
        where = f"{request.scene} segment {request.index}"
        prepared = self._prepare(seed_frame, request, where)
        graph, slots = prepared.graph, prepared.slots
        image_ref = upload_seed(self.client, seed_frame, request)
        for node_id, input_name in slots.inputs["seed_image"]:
            graph[node_id].setdefault("inputs", {})[input_name] = image_ref

        run = PromptRun.start(request)
        entry = self._run_to_end(run, prepared, request, clock + self.segment_timeout_s, where)
        if self.on_executed is not None:
            self.on_executed()
        video_path, video_file = fetch_video(
            self.client, entry, slots, graph, request, work_dir, where
        )
        try:
            frames = probe(video_path).frames
        except InvalidVideo as error:
            raise PermanentBackendError(
                f"{where}: the video node {slots.video} wrote a file we cannot read: {error}"
            ) from error
        last, last_source, last_file = fetch_last_frame(
            self.client, entry, slots, video_path, where
        )
        server_compute_s = entry.compute_s
        return SegmentResult(
            video_path=video_path,
            last_frame=last,
            frames=frames,
            backend=self.name,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            compute_s=(
                server_compute_s if server_compute_s is not None else time.monotonic() - clock
            ),
            worker=self.worker,
            ran_workflow=True,  # the request's workflow ran on this server: provenance names it
            metadata={
                **run.as_metadata(),
                "seed_image": image_ref,
                **outputs_metadata(entry, video_file, last_file, last_source),
                **prepared.as_metadata(),
                "server_compute_s": server_compute_s,
                "server_executed_at": entry.executed_at,  # (start, end), the worker's clock
                "wall_s": round(time.monotonic() - clock, 3),
            },
        )

    def _run_to_end(
        self,
        run: PromptRun,
        prepared: Prepared,
        request: SegmentRequest,
        deadline: float,
        where: str,
    ) -> HistoryEntry:
        """Run the prompt to a successful end: its history entry. An interrupt of a take the
        operator cancelled is OperatorInterrupted; any other stays transient."""
        try:
            entry = self._follower().run(run, prepared.graph, request, deadline, where)
            check_outcome(
                entry, run.tracker, self.worker, where, prepared.graph, prepared.slots, request
            )
        except (PromptInterrupted, PromptLost) as error:
            by = cancelled_by(request)
            if by is None:
                raise  # nobody of ours asked: another client's interrupt, a restart
            raise OperatorInterrupted(
                f"{where}: prompt {run.prompt_id} on {self.worker} was stopped on the "
                f"request of {by}, who cancelled the take ({error})",
                by=by,
            ) from error
        return entry

    # -- preparing --------------------------------------------------------------------------

    def _prepare(self, seed_frame: np.ndarray, request: SegmentRequest, where: str) -> Prepared:
        """Check the request and its workflow (against the worker's schemas when validating)
        and bind it: the bound graph, its slots, what was bound, and validation warnings."""
        check_seed_frame(seed_frame, where)
        if request.workflow is None:
            raise WorkflowValidationError(
                f"{where}: the ComfyUI backend needs a workflow (an API-format graph); the "
                "scene type names none"
            )
        check_api_format(request.workflow)
        object_info = self._schemas(request.workflow) if self.validate else {}
        slots = parse_slots(request.params.get("slots"), request.workflow, object_info)
        graph, bound = bind_request(request, slots, object_info)
        warnings = check_workflow(graph, object_info) if self.validate else []
        return Prepared(graph, slots, bound, warnings)

    def _schemas(self, graph: Mapping[str, Any]) -> dict[str, Any]:
        """The /object_info of each class in `graph`, fetched once per backend."""
        for node in graph.values():
            class_type = node.get("class_type")
            if isinstance(class_type, str) and class_type not in self._object_info:
                info = self.client.object_info(class_type).get(class_type)
                if isinstance(info, dict):  # misses are asked again: nodes get installed
                    self._object_info[class_type] = info
        classes = {node.get("class_type") for node in graph.values()}
        return {name: info for name, info in self._object_info.items() if name in classes}

    def _follower(self) -> PromptFollower:
        """Who follows a prompt on this worker, with the backend's timeouts as they are now."""
        return PromptFollower(
            self.client,
            segment_timeout_s=self.segment_timeout_s,
            idle_timeout_s=self.idle_timeout_s,
            reconnect_timeout_s=self.reconnect_timeout_s,
            ping_interval_s=self.ping_interval_s,
            ping_timeout_s=self.ping_timeout_s,
            poll_interval_s=self.poll_interval_s,
            silent_poll_s=self.silent_poll_s,
            on_progress=self.on_progress,
            on_preview=self.on_preview,
        )
