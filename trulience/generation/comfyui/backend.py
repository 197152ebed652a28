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

import logging
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from trulience.generation.backend import (
    OperatorInterrupted,
    PermanentBackendError,
    SegmentRequest,
    SegmentResult,
)
from trulience.generation.comfyui.api_format import check_api_format, is_link
from trulience.generation.comfyui.client import (
    ComfyUIClient,
    HistoryEntry,
    OutputFile,
    Submitted,
)
from trulience.generation.comfyui.errors import (
    ComfyUIError,
    ExecutionFailed,
    Problem,
    PromptInterrupted,
    PromptLost,
    SegmentTimeout,
    SlotError,
    WorkerUnavailable,
    WorkflowValidationError,
)
from trulience.generation.comfyui.registration import fixed_sizes
from trulience.generation.comfyui.slots import Slots, bind_inputs, parse_slots
from trulience.generation.comfyui.socket import (
    DeadlineReached,
    PreviewCallback,
    ProgressCallback,
    PromptSocket,
    PromptTracker,
    SocketIdle,
    SocketLost,
)
from trulience.generation.comfyui.validation import check_workflow
from trulience.media.frames import last_frame
from trulience.media.probe import InvalidVideo, probe

log = logging.getLogger(__name__)

# Prompt ids are uuid5 names in this namespace: the same scene, index, seed and nonce always
# give the same id, so a lost POST answer can be looked up instead of posted again.
PROMPT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://trulience.studio/comfyui/prompt")

# Fast and still small on the wire: the seed frame crosses the network once per segment.
_PNG_UPLOAD = [cv2.IMWRITE_PNG_COMPRESSION, 1]

# After the done marker the history entry is already written (PROTOCOL section 6); a short
# grace covers servers that write it a moment later.
_HISTORY_GRACE_S = 5.0


@dataclass
class _Run:
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
    def start(cls, request: SegmentRequest) -> "_Run":
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
        self._object_info: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"ComfyUIBackend({self.client.base_url!r})"

    @property
    def worker(self) -> str:
        return self.client.base_url

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
        graph, slots, bound, warnings = self._prepare(seed_frame, request, where)
        image_ref = self._upload_seed(seed_frame, request)
        for node_id, input_name in slots.inputs["seed_image"]:
            graph[node_id].setdefault("inputs", {})[input_name] = image_ref

        run = _Run.start(request)
        try:
            entry = self._run(run, graph, request, clock + self.segment_timeout_s, where)
            self._check_outcome(entry, run.tracker, where, graph, slots, request)
        except (PromptInterrupted, PromptLost) as error:
            by = _cancelled_by(request)
            if by is None:
                raise  # nobody of ours asked: another client's interrupt, a restart
            raise OperatorInterrupted(
                f"{where}: prompt {run.prompt_id} on {self.worker} was stopped on the "
                f"request of {by}, who cancelled the take ({error})",
                by=by,
            ) from error

        video_path, video_file = self._fetch_video(entry, slots, graph, request, work_dir, where)
        try:
            frames = probe(video_path).frames
        except InvalidVideo as error:
            raise PermanentBackendError(
                f"{where}: the video node {slots.video} wrote a file we cannot read: {error}"
            ) from error
        last, last_source, last_file = self._last_frame(entry, slots, video_path, where)
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
                "cached_nodes": list(entry.cached_nodes),
                "outputs": {
                    node: [_file_json(f) for f in entry.files(node)] for node in entry.outputs
                },
                "video_file": _file_json(video_file),
                "last_frame_file": _file_json(last_file) if last_file else None,
                "last_frame_source": last_source,
                "workflow_nodes": len(graph),
                "slots": slots.as_json(),
                "bound": bound,
                "validation_warnings": [str(w) for w in warnings],
                "server_compute_s": server_compute_s,
                "wall_s": round(time.monotonic() - clock, 3),
            },
        )

    # -- preparing --------------------------------------------------------------------------

    def _prepare(
        self, seed_frame: np.ndarray, request: SegmentRequest, where: str
    ) -> tuple[dict[str, Any], Slots, dict[str, Any], list[Problem]]:
        """Check the request and its workflow (against the worker's schemas when validating)
        and bind it: the bound graph, its slots, what was bound, and validation warnings."""
        _check_seed_frame(seed_frame, where)
        if request.workflow is None:
            raise WorkflowValidationError(
                f"{where}: the ComfyUI backend needs a workflow (an API-format graph); the "
                "scene type names none"
            )
        check_api_format(request.workflow)
        object_info = self._schemas(request.workflow) if self.validate else {}
        slots = parse_slots(request.params.get("slots"), request.workflow, object_info)
        graph, bound = self._bind(request, slots, object_info)
        warnings = check_workflow(graph, object_info) if self.validate else []
        return graph, slots, bound, warnings

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

    def _bind(
        self, request: SegmentRequest, slots: Slots, object_info: Mapping[str, Any]
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
        prefix = f"trulience/{_safe_path(request.scene)}/seg-{request.index:03d}"
        for node_id, suffix in ((slots.video, ""), (slots.last_frame, "-last")):
            inputs = graph[node_id].setdefault("inputs", {}) if node_id else {}
            if "filename_prefix" in inputs and not is_link(inputs["filename_prefix"]):
                # Files land in a folder an operator can trace back to the take.
                inputs["filename_prefix"] = prefix + suffix
        if slots.last_frame:
            source = _image_source(graph, slots.last_frame)
            if source is not None and graph[source].get("class_type") == "ImageFromBatch":
                inputs = graph[source].setdefault("inputs", {})
                if not is_link(inputs.get("batch_index")):
                    # The last frame of a batch of `frames`; the node clamps larger indices.
                    inputs["batch_index"] = max(0, min(request.frames - 1, 4095))
                    bound["last_frame_index"] = inputs["batch_index"]
        return graph, bound

    def _upload_seed(self, seed_frame: np.ndarray, request: SegmentRequest) -> str:
        """Upload the seed as PNG; the LoadImage value is `subfolder/name` with the name the
        server returned (it renames on a clash)."""
        ok, png = cv2.imencode(".png", cv2.cvtColor(seed_frame, cv2.COLOR_RGB2BGR), _PNG_UPLOAD)
        if not ok:
            raise PermanentBackendError(f"{request.scene}: could not encode the seed frame")
        subfolder = f"trulience/{_safe_path(request.scene)}"
        name = self.client.upload_image(
            png.tobytes(), f"seg-{request.index:03d}.png", subfolder=subfolder
        )
        return f"{subfolder}/{name}"

    def _run(
        self,
        run: _Run,
        graph: dict[str, Any],
        request: SegmentRequest,
        deadline: float,
        where: str,
    ) -> HistoryEntry:
        """Open the socket, submit once, follow to the end: the prompt's history entry."""
        extra_data = {
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
        socket = PromptSocket(
            self.client.ws_url(run.client_id),
            open_timeout_s=min(self.reconnect_timeout_s, 10.0),
            ping_interval_s=self.ping_interval_s,
            ping_timeout_s=self.ping_timeout_s,
        )
        try:
            socket.connect()  # before submitting: the server replays nothing
            run.submitted = self._submit(graph, run.client_id, run.prompt_id, extra_data, where)
            self._report_submitted(request, run, where)
            return self._follow(socket, run, deadline, where)
        except BaseException as error:
            if run.submitted is not None and not isinstance(error, Exception):
                # SIGTERM, Dagster's termination, Ctrl-C: the run stops, so must its prompt
                self._give_up(run.prompt_id, where)
            raise
        finally:
            socket.close()
            run.connects = socket.connects

    def _report_submitted(self, request: SegmentRequest, run: _Run, where: str) -> None:
        if request.watch is None:
            return
        try:
            request.watch.submitted(self.worker, run.prompt_id)
        except Exception:  # the record helps operators; its failure must not fail the GPU work
            log.exception("%s: could not record prompt %s", where, run.prompt_id)

    def _submit(
        self,
        graph: dict[str, Any],
        client_id: str,
        prompt_id: str,
        extra_data: dict[str, Any],
        where: str,
    ) -> Submitted:
        try:
            return self.client.submit(
                graph, client_id=client_id, prompt_id=prompt_id, extra_data=extra_data
            )
        except WorkerUnavailable:
            # The POST may have reached the worker and only its answer was lost: the id is
            # ours, so look for it rather than post again.
            found = self._find_queued(prompt_id)
            if found is None:
                raise
            log.warning("%s: POST /prompt answer lost, but prompt %s is there", where, prompt_id)
            return found

    def _find_queued(self, prompt_id: str) -> Submitted | None:
        try:
            queue = self.client.queue()
            for entry in (*queue.running, *queue.pending):
                if entry.prompt_id == prompt_id:
                    return Submitted(prompt_id, int(entry.number), {})
            if self.client.history(prompt_id) is not None:
                return Submitted(prompt_id, -1, {})
        except ComfyUIError as error:
            log.debug("looking for prompt %s: %s", prompt_id, error)
        return None

    # -- following --------------------------------------------------------------------------

    def _follow(self, socket: PromptSocket, run: _Run, deadline: float, where: str) -> HistoryEntry:
        """Follow the prompt to its end and return its history entry."""
        prompt_id, tracker = run.prompt_id, run.tracker
        waiting_since = time.monotonic()  # silence while queued behind others is not idleness
        while True:
            try:
                socket.follow(
                    tracker,
                    deadline=deadline,
                    idle_timeout_s=min(self.silent_poll_s, self.idle_timeout_s),
                    on_progress=self.on_progress,
                    on_preview=self.on_preview,
                )
                run.finished_via = "socket"
                return self._history_after_done(prompt_id, where)
            except DeadlineReached:
                self._give_up(prompt_id, where)
                raise SegmentTimeout(
                    f"{where}: prompt {prompt_id} did not finish within "
                    f"{self.segment_timeout_s:g} s on {self.worker}; it was cancelled",
                    prompt_id=prompt_id,
                    which="segment",
                ) from None
            except SocketIdle:
                # Silent for a while: the run may have ended unheard (a second socket under
                # our clientId takes every message), so ask the worker itself.
                run.polled += 1
                try:
                    state = self._reconcile(prompt_id, where)
                except WorkerUnavailable as error:
                    # the socket is still up: one failed look-up is no reason to give up
                    log.warning("%s: looking up prompt %s: %s", where, prompt_id, error)
                    state = "running"
                if isinstance(state, HistoryEntry):
                    run.finished_via = "history_poll"
                    return state
                now = time.monotonic()
                if state == "pending":
                    waiting_since = now
                    continue
                silent_s = now - max(socket.last_message_at, waiting_since)
                if silent_s >= self.idle_timeout_s:
                    self._give_up(prompt_id, where)
                    node = f" (node {tracker.current_node})" if tracker.current_node else ""
                    raise SegmentTimeout(
                        f"{where}: no word from {self.worker} for {self.idle_timeout_s:g} s "
                        f"while prompt {prompt_id} ran{node}; it was cancelled",
                        prompt_id=prompt_id,
                        which="idle",
                    ) from None
            except SocketLost as lost:
                run.reconciled += 1
                log.warning("%s: %s; reconnecting", where, lost)
                self._reconnect(socket, prompt_id, deadline, where)
                state = self._reconcile(prompt_id, where)
                if isinstance(state, HistoryEntry):
                    run.finished_via = "reconcile"
                    return state

    def _reconnect(self, socket: PromptSocket, prompt_id: str, deadline: float, where: str) -> None:
        """Reopen the socket (same clientId: the old connection is dead) within the
        reconnect window, or raise WorkerUnavailable."""
        give_up_at = min(deadline, time.monotonic() + self.reconnect_timeout_s)
        delay = 0.1
        while True:
            try:
                socket.connect()
                return
            except SocketLost as error:
                if time.monotonic() + delay >= give_up_at:
                    raise WorkerUnavailable(
                        f"{where}: lost the WebSocket to {self.worker} and could not reconnect "
                        f"within {self.reconnect_timeout_s:g} s ({error}); prompt {prompt_id} "
                        "may still run there"
                    ) from error
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _reconcile(self, prompt_id: str, where: str) -> HistoryEntry | str:
        """Where the prompt is now: its history entry, "running" or "pending"; PromptLost if
        the worker has no trace of it. The queue is read first: a prompt leaves the queue
        only once its history is written, so the other order could miss it in between."""
        queue = self.client.queue()
        position = queue.position(prompt_id)
        if position is not None:
            return "running" if position == 0 else "pending"
        raw = self.client.history(prompt_id)
        if raw is not None:
            return HistoryEntry.parse(prompt_id, raw)
        raise PromptLost(
            f"{where}: the worker lost the prompt {prompt_id}: it is neither queued nor in "
            f"the history of {self.worker} (deleted from the queue, or the worker restarted)",
            prompt_id=prompt_id,
        )

    def _history_after_done(self, prompt_id: str, where: str) -> HistoryEntry:
        give_up_at = time.monotonic() + _HISTORY_GRACE_S
        while True:
            raw = self.client.history(prompt_id)
            if raw is not None:
                return HistoryEntry.parse(prompt_id, raw)
            if time.monotonic() >= give_up_at:
                state = self._reconcile(prompt_id, where)
                if isinstance(state, HistoryEntry):
                    return state
                raise PromptLost(
                    f"{where}: the worker announced the end of prompt {prompt_id} but lists "
                    f"it as {state} and not in its history",
                    prompt_id=prompt_id,
                )
            time.sleep(self.poll_interval_s)

    def _give_up(self, prompt_id: str, where: str) -> None:
        try:
            self.client.cancel(prompt_id)
        except ComfyUIError as error:
            log.warning("%s: could not cancel prompt %s: %s", where, prompt_id, error)

    # -- results --------------------------------------------------------------------------

    def _check_outcome(
        self,
        entry: HistoryEntry,
        tracker: PromptTracker,
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
                f"{where}: prompt {prompt_id} was interrupted on {self.worker}{node} "
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
                f"{where}: node {node_id} ({node_type}) failed on {self.worker}: "
                f"{exception_type or 'error'}: {exception_message or 'no message'}"
            )
            if "avcodec_open2" in exception_message:
                message += "; " + encoder_refusal(exception_message, graph, slots, request)
        else:
            message = (
                f"{where}: prompt {prompt_id} ended with status {entry.status_str!r} on "
                f"{self.worker} without saying why"
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
                "worker": self.worker,
            },
        )

    def _fetch_video(
        self,
        entry: HistoryEntry,
        slots: Slots,
        graph: Mapping[str, Any],
        request: SegmentRequest,
        work_dir: Path,
        where: str,
    ) -> tuple[Path, OutputFile]:
        """Download the video slot's file (videos are listed under `images`, `animated`)."""
        files = entry.files(slots.video)
        if not files:
            raise SlotError(
                f"{where}: the video slot names node {slots.video} "
                f"({graph[slots.video].get('class_type')}), which listed no file in history"
            )
        chosen = next((f for f in files if f.animated), files[0])
        work_dir = Path(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        suffix = PurePosixPath(chosen.filename).suffix or ".mp4"
        path = self.client.download(
            chosen.filename,
            chosen.subfolder,
            chosen.type,
            work_dir / f"segment-{request.index:03d}{suffix}",
        )
        return path, chosen

    def _last_frame(
        self, entry: HistoryEntry, slots: Slots, video_path: Path, where: str
    ) -> tuple[np.ndarray, str, OutputFile | None]:
        """The lossless last frame from the last_frame slot's PNG, else (no slot) by seeking
        the video; returns the frame, its source and the file it came from."""
        if slots.last_frame is None:
            return last_frame(video_path), "seek", None
        files = entry.files(slots.last_frame)
        if not files:
            raise SlotError(
                f"{where}: the last_frame slot names node {slots.last_frame}, which listed "
                "no file in history"
            )
        chosen = files[-1]  # a batch saves one file per image: the last one is the last frame
        data = self.client.view(chosen.filename, chosen.subfolder, chosen.type)
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            raise SlotError(
                f"{where}: the last_frame node {slots.last_frame} wrote {chosen.filename!r}, "
                "which is not an image we can decode"
            )
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB), "lossless", chosen


def _cancelled_by(request: SegmentRequest) -> str | None:
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


def _image_source(graph: Mapping[str, Any], node_id: str) -> str | None:
    """The node feeding the `images` (or first linked) input of a save node."""
    inputs = graph[node_id].get("inputs") or {}
    link = inputs.get("images")
    if not is_link(link):
        link = next((v for v in inputs.values() if is_link(v)), None)
    if link and len(link) == 2 and isinstance(link[0], str) and link[0] in graph:
        return link[0]
    return None


def _safe_path(scene: str) -> str:
    """A scene label as a relative folder path the worker accepts (no '..', no odd bytes)."""
    parts = [re.sub(r"[^A-Za-z0-9._-]+", "-", p).strip(".-") for p in scene.split("/")]
    return "/".join(p for p in parts if p) or "scene"


def _node_label(node_id: Any, node_type: Any) -> str:
    if node_id is None:
        return ""
    return f" at node {node_id}" + (f" ({node_type})" if node_type else "")


def _file_json(file: OutputFile) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "subfolder": file.subfolder,
        "type": file.type,
        "animated": file.animated,
    }


def _check_seed_frame(seed_frame: Any, where: str) -> None:
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
