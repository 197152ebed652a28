"""A protocol-faithful fake ComfyUI server for tests.

Built from the HTTP and WebSocket transcripts of a real ComfyUI 0.3.64
(/work/shared/comfyui/captures, described in PROTOCOL.md) and from that server's code at
the captured commit: same paths (also under /api), status codes, body shapes, WebSocket
message types and their order, who receives which message, queue/history/cache rules.
Nodes run real image and video code on CPU (see comfyui_nodes.py).

    with FakeComfyUI() as server:
        server.add_input("face.png", png_bytes)
        ...POST f"{server.url}/prompt"..., ws to f"{server.ws_url}?clientId=..."

Each server runs its own event loop in a background thread on 127.0.0.1 with an ephemeral
port, and keeps its input/output/temp folders in a temp directory removed by stop().
Fault injection (slow nodes, failing nodes, dropped sockets, crashes, a full queue, prompts
that vanish, a second socket under a prompt's clientId) is deterministic and reset by
reset_faults(). The ways the real server fails on its own are kept as they are: a global (or
targeted) interrupt only sets a flag checked at the next node boundary and cleared when the
next prompt starts, so one sent during the last node is lost; a deleted queued prompt leaves
no trace; an identical prompt is answered from the cache at once; libx264 refuses odd
sizes at run time.
"""

import asyncio
import contextlib
import copy
import heapq
import ipaddress
import itertools
import json
import mimetypes
import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, WSMsgType, web
from PIL import Image

from tests.fakes.comfyui_nodes import NODE_CLASSES, Folders, NodeClass, NodeContext, NodeOutput

COMFYUI_VERSION = "0.3.64"
FEATURES = {"supports_preview_metadata": True, "max_upload_size": 104857600}
# GET /models as captured (get/models.json): the folder kinds a default install knows.
MODEL_FOLDERS = [
    "checkpoints",
    "configs",
    "loras",
    "vae",
    "text_encoders",
    "diffusion_models",
    "clip_vision",
    "style_models",
    "embeddings",
    "diffusers",
    "vae_approx",
    "controlnet",
    "gligen",
    "upscale_models",
    "custom_nodes",
    "hypernetworks",
    "photomaker",
    "classifiers",
    "model_patches",
    "audio_encoders",
]
MAXIMUM_HISTORY_SIZE = 10000
TEXT_EVENT = 3  # binary frame type: uint32 BE 3, uint32 BE len(node id), node id, text
_BYTES_PER_GIB = 1 << 30
_RESTART_TIMEOUT_S = 10.0

mimetypes.add_type("video/webm", ".webm")
mimetypes.add_type("video/mp4", ".mp4")
mimetypes.add_type("image/webp", ".webp")


@dataclass
class Faults:
    """Failure modes to inject; all off by default. Change them with FakeComfyUI's methods."""

    seconds_per_node: float = 0.0  # every node that really runs takes at least this long
    # or, when set, as long as this says for the prompt (API format) the node belongs to
    seconds_per_node_of: Callable[[dict[str, Any]], float] | None = None
    slow_class_types: frozenset[str] | None = None  # None: slow() applies to every class
    failing_nodes: dict[str, str] = field(default_factory=dict)  # class_type -> error message
    drop_sockets_after: int | None = None  # close every socket after this many more frames
    die_after_nodes: int | None = None  # crash once this many more nodes have run
    max_queue: int | None = None  # refuse POST /prompt when running + pending reaches this
    # next prompt: another socket takes its clientId once this many of its nodes have run
    second_socket_after_nodes: int | None = None


@dataclass(frozen=True)
class Submission:
    """A POST /prompt the server accepted (queued), as the test harness saw it."""

    prompt_id: str
    number: float
    client_id: str | None
    prompt: dict[str, Any]


class _Interrupted(Exception):
    """Raised at a node boundary after POST /interrupt (ComfyUI's InterruptProcessingException)."""


class _Crash(Exception):
    """The die_mid_run fault fired: the worker unwinds and the process goes down."""


def _full_type_name(klass: type) -> str:
    module = klass.__module__
    return klass.__qualname__ if module == "builtins" else f"{module}.{klass.__qualname__}"


def _is_link(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int | float)
    )


class _Unhashable:
    """Stands for a value a cache key cannot hold; equal to nothing, so never a cache hit."""


def _to_hashable(obj: Any) -> Any:
    """comfy_execution.caching.to_hashable: nested lists/dicts to frozensets."""
    if isinstance(obj, int | float | str | bool | type(None)):
        return obj
    if isinstance(obj, Mapping):
        return frozenset((_to_hashable(k), _to_hashable(v)) for k, v in sorted(obj.items()))
    if isinstance(obj, Sequence):
        return frozenset(zip(itertools.count(), [_to_hashable(i) for i in obj], strict=False))
    return _Unhashable()


def _format_value(x: Any) -> Any:
    """How execution_error.current_inputs shows a value."""
    if x is None or isinstance(x, int | float | bool | str):
        return x
    if isinstance(x, dict):
        return x
    return str(x)


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    loopback = False
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            for *_, sockaddr in socket.getaddrinfo(host, None, family, socket.SOCK_STREAM):
                if not ipaddress.ip_address(sockaddr[0]).is_loopback:
                    return loopback
                loopback = True
        except socket.gaierror:
            pass
    return loopback


@web.middleware
async def _origin_only(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
    """ComfyUI's CSRF guard: Origin host != Host on a loopback Host answers 403, empty."""
    if "Host" in request.headers and "Origin" in request.headers:
        host_domain = request.headers["Host"].lower()
        parsed = urllib.parse.urlparse(request.headers["Origin"])
        origin_domain: str | None = parsed.netloc.lower()
        host_parsed = urllib.parse.urlsplit("//" + host_domain)
        loopback = _is_loopback(host_parsed.hostname)
        host_cmp: str | None = host_domain
        if parsed.port is None:
            host_cmp = host_parsed.hostname
        if host_parsed.port is None:
            origin_domain = parsed.hostname
        if loopback and host_cmp and origin_domain and host_cmp != origin_domain:
            return web.Response(status=403)
    if request.method == "OPTIONS":
        return web.Response()
    return await handler(request)


class _ExecutionList:
    """comfy_execution.graph.ExecutionList: dissolves the graph, output nodes first."""

    def __init__(
        self,
        prompt: dict[str, Any],
        is_cached: Callable[[str], bool],
        is_output: Callable[[str], bool],
    ) -> None:
        self.prompt = prompt
        self.is_cached = is_cached
        self.is_output = is_output
        self.pending: dict[str, bool] = {}
        self.block_count: dict[str, int] = {}
        self.blocking: dict[str, dict[str, dict[Any, bool]]] = {}
        self.staged: str | None = None

    def add_node(self, node_id: str) -> None:
        node_ids = [node_id]
        links = []
        while node_ids:
            unique_id = node_ids.pop()
            if unique_id in self.pending:
                continue
            self.pending[unique_id] = True
            self.block_count[unique_id] = 0
            self.blocking[unique_id] = {}
            for value in self.prompt[unique_id]["inputs"].values():
                if _is_link(value) and not self.is_cached(value[0]):
                    node_ids.append(value[0])
                    links.append((value[0], value[1], unique_id))
        for from_id, socket_index, to_id in links:
            self._add_strong_link(from_id, socket_index, to_id)

    def _add_strong_link(self, from_id: str, socket_index: Any, to_id: str) -> None:
        if self.is_cached(from_id):
            return
        self.add_node(from_id)
        if to_id not in self.blocking[from_id]:
            self.blocking[from_id][to_id] = {}
            self.block_count[to_id] += 1
        self.blocking[from_id][to_id][socket_index] = True

    def is_empty(self) -> bool:
        return not self.pending

    def stage(self) -> str:
        available = [n for n in self.pending if self.block_count[n] == 0]
        if not available:
            raise RuntimeError("Dependency cycle detected")
        self.staged = self._ux_friendly_pick(available)
        return self.staged

    def _ux_friendly_pick(self, available: list[str]) -> str:
        # Output nodes as soon as they can run, then what feeds them (as ComfyUI does).
        for node_id in available:
            if self.is_output(node_id):
                return node_id
        for node_id in available:
            if any(self.is_output(b) for b in self.blocking[node_id]):
                return node_id
        for node_id in available:
            for blocked in self.blocking[node_id]:
                if any(self.is_output(b) for b in self.blocking[blocked]):
                    return node_id
        return available[0]

    def complete(self) -> None:
        node_id = self.staged
        assert node_id is not None
        del self.pending[node_id]
        for blocked in self.blocking[node_id]:
            self.block_count[blocked] -= 1
        del self.blocking[node_id]
        self.staged = None


@dataclass
class _Run:
    """Per-prompt execution state (PromptExecutor's locals)."""

    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    keys: dict[str, Any]
    status_messages: list[list[Any]] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Process:
    """One lifetime of the server process: app, queue, history, caches, sockets.

    A restart or crash throws the whole object away, which is how the real server loses its
    queue, history, caches and `number` counter.
    """

    def __init__(self, host: "FakeComfyUI") -> None:
        self.host = host
        self.folders = host.folders
        self.queue: list[tuple[Any, str, int, list[Any]]] = []  # heap
        self.queue_seq = itertools.count()
        self.running: dict[int, list[Any]] = {}
        self.history: dict[str, dict[str, Any]] = {}
        self.number = 0
        self.task_counter = 0
        self.flags: dict[str, Any] = {}
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.sockets_metadata: dict[str, dict[str, Any]] = {}
        self.transports: dict[int, asyncio.BaseTransport] = {}
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self.interrupted = False
        self.current_prompt_id: str | None = None
        self.vanished: set[str] = set()
        self.outputs_cache: dict[Any, tuple[Any, ...]] = {}
        self.ui_cache: dict[Any, dict[str, Any]] = {}
        self.objects: dict[tuple[str, str], str] = {}  # (node id, class) -> preview prefix
        self.rng = random.Random(host.preview_seed)
        self.messages: asyncio.Queue[tuple[Any, Any, str | None]] = asyncio.Queue()
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.worker: asyncio.Task[None] | None = None
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.interlopers: list[Any] = []  # client sessions of second sockets we opened

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, port: int) -> int:
        app = web.Application(
            client_max_size=FEATURES["max_upload_size"], middlewares=[_origin_only]
        )
        for method, path, handler in self._routes():
            for prefix in ("", "/api"):
                app.router.add_route(method, prefix + path, handler)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.port = self.runner.addresses[0][1]  # the bound port, when asked for port 0
        self.tasks.append(asyncio.create_task(self._publish_loop()))
        self.worker = asyncio.create_task(self._worker_loop())
        return self.port

    async def shutdown(self) -> None:
        """Go away like a killed process: sockets cut, listener closed, work abandoned."""
        current = asyncio.current_task()
        tasks = [t for t in [*self.tasks, self.worker] if t is not None and t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._abort_sockets()
        for session in self.interlopers:
            await session.close()
        self.interlopers.clear()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def _abort_sockets(self) -> None:
        for transport in list(self.transports.values()):
            transport.abort()
        self.transports.clear()

    # --- messages --------------------------------------------------------------------------

    def send(self, event: Any, data: Any, sid: str | None = None) -> None:
        """PromptServer.send_sync: queue a message; sid None means every socket."""
        self.messages.put_nowait((event, data, sid))

    def queue_updated(self) -> None:
        self.send("status", {"status": self.queue_info()})

    def queue_info(self) -> dict[str, Any]:
        return {"exec_info": {"queue_remaining": len(self.queue) + len(self.running)}}

    async def _publish_loop(self) -> None:
        while True:
            event, data, sid = await self.messages.get()
            await self._send_now(event, data, sid)

    async def _send_now(self, event: Any, data: Any, sid: str | None) -> None:
        if isinstance(event, int):
            frame: bytes | None = struct.pack(">I", event) + data
            message = None
        else:
            frame = None
            message = {"type": event, "data": data}
        targets = list(self.sockets.values()) if sid is None else [self.sockets.get(sid)]
        for ws in targets:
            if ws is None or ws.closed:
                continue
            try:
                if frame is not None:
                    await ws.send_bytes(frame)
                else:
                    await ws.send_json(message)
            except (ConnectionError, RuntimeError):
                continue  # the real server logs "send error" and carries on
            self.host._frame_sent(self)

    # --- queue -----------------------------------------------------------------------------

    def put(self, item: list[Any]) -> None:
        heapq.heappush(self.queue, (item[0], item[1], next(self.queue_seq), item))
        self.queue_updated()
        self.wake.set()

    def _get(self) -> tuple[int, list[Any]]:
        *_, item = heapq.heappop(self.queue)
        item_id = self.task_counter
        self.running[item_id] = copy.deepcopy(item)
        self.task_counter += 1
        self.queue_updated()
        return item_id, item

    def _task_done(
        self, item_id: int, history_result: dict[str, Any], status: dict[str, Any]
    ) -> None:
        prompt = self.running.pop(item_id)
        if prompt[1] not in self.vanished:
            if len(self.history) > MAXIMUM_HISTORY_SIZE:
                self.history.pop(next(iter(self.history)))
            self.history[prompt[1]] = {"prompt": prompt, "outputs": {}, "status": status}
            self.history[prompt[1]].update(history_result)
        self.queue_updated()

    def wipe_queue(self) -> None:
        self.queue = []
        self.queue_updated()

    def delete_queue_item(self, prompt_id: Any) -> bool:
        for index, entry in enumerate(self.queue):
            if entry[3][1] == prompt_id:
                if len(self.queue) == 1:
                    self.wipe_queue()
                else:
                    self.queue.pop(index)
                    heapq.heapify(self.queue)
                self.queue_updated()  # so a deletion is announced twice, as in ComfyUI
                return True
        return False

    def vanish(self, prompt_id: str) -> None:
        """Forget a prompt without a word: out of the queue and history, running one muted."""
        self.queue = [entry for entry in self.queue if entry[1] != prompt_id]
        heapq.heapify(self.queue)
        self.history.pop(prompt_id, None)
        self.vanished.add(prompt_id)

    # --- worker ----------------------------------------------------------------------------

    async def _worker_loop(self) -> None:
        while True:
            while not self.queue and not self.flags:
                self.wake.clear()
                await self.wake.wait()
            if self.queue:
                item_id, item = self._get()
                try:
                    success, messages, history_result = await self._execute(item)
                except _Crash:
                    await self.host._crash_from_worker(self)
                    return
                except Exception:
                    # A bug in the fake must not wedge the queue: record the run as failed.
                    traceback.print_exc()
                    success, messages, history_result = False, [], {"outputs": {}, "meta": {}}
                status = {"status_str": "success" if success else "error"}
                status.update(completed=success, messages=messages)
                self._task_done(item_id, history_result, status)
                if self.client_id is not None and item[1] not in self.vanished:
                    self.send("executing", {"node": None, "prompt_id": item[1]}, self.client_id)
            flags, self.flags = self.flags, {}
            if flags.get("free_memory", False):
                # POST /free acts after the running prompt: the next one starts cold.
                self.outputs_cache.clear()
                self.ui_cache.clear()
                self.objects.clear()

    async def _maybe_take_over(self, run: _Run) -> None:
        """The second-socket fault: fires once the prompt has run the nodes it waits for."""
        after = self.host.faults.second_socket_after_nodes
        if after is not None and self.client_id is not None and len(run.executed) >= after:
            self.host.faults.second_socket_after_nodes = None  # one shot
            await self._open_second_socket(self.client_id)

    async def _open_second_socket(self, client_id: str) -> None:
        """Connect another socket under `client_id`, as a second tab or process would: from
        now on it gets every message meant for that id and the first socket gets none."""
        session = ClientSession()
        self.interlopers.append(session)
        ws = await session.ws_connect(f"http://127.0.0.1:{self.port}/ws?clientId={client_id}")
        await ws.receive()  # its status frame: the server has registered it

        async def listen() -> None:
            async for message in ws:
                self.host.interloper_frames.append(message.data)

        self.tasks.append(asyncio.create_task(listen()))

    def _add_message(self, run: _Run, event: str, data: dict[str, Any], broadcast: bool) -> None:
        data = {**data, "timestamp": int(time.time() * 1000)}
        run.status_messages.append([event, data])
        if run.prompt_id in self.vanished:
            return
        if self.client_id is not None or broadcast:
            self.send(event, data, self.client_id)

    def _send_client(self, run: _Run, event: str, data: dict[str, Any]) -> None:
        """Per-prompt messages go to the submitting client only, and only if it named one."""
        if self.client_id is not None and run.prompt_id not in self.vanished:
            self.send(event, data, self.client_id)

    def _progress(self, run: _Run, node_id: str, state: str) -> None:
        entry = run.progress.setdefault(node_id, {"value": 0, "max": 1, "state": "pending"})
        if state == "running":
            entry.update(state="running", value=0.0, max=1.0)
        else:
            entry.update(state="finished", value=entry["max"])
        nodes = {
            nid: {
                "value": e["value"],
                "max": e["max"],
                "state": e["state"],
                "node_id": nid,
                "prompt_id": run.prompt_id,
                "display_node_id": nid,
                "parent_node_id": None,
                "real_node_id": nid,
            }
            for nid, e in run.progress.items()
            if e["state"] != "pending"
        }
        self._send_client(run, "progress_state", {"prompt_id": run.prompt_id, "nodes": nodes})

    def _is_changed(self, node: dict[str, Any]) -> Any:
        node_class = NODE_CLASSES[node["class_type"]]
        if node_class.is_changed is None:
            return False
        if "is_changed" in node:
            return node["is_changed"]
        try:
            node["is_changed"] = [node_class.is_changed(self.folders, node["inputs"]["image"])]
        except Exception:
            node["is_changed"] = float("nan")
        return node["is_changed"]

    def _signature(self, prompt: dict[str, Any], node_id: str) -> Any:
        """CacheKeySetInputSignature: class + inputs, recursively through the ancestors."""
        ancestors: list[str] = []
        order: dict[str, int] = {}

        def walk(nid: str) -> None:
            if nid not in prompt:
                return
            inputs = prompt[nid].get("inputs", {})
            for key in sorted(inputs):
                if _is_link(inputs[key]) and inputs[key][0] not in order:
                    ancestors.append(inputs[key][0])
                    order[inputs[key][0]] = len(ancestors) - 1
                    walk(inputs[key][0])

        def immediate(nid: str) -> list[Any]:
            if nid not in prompt:
                return [float("nan")]
            node = prompt[nid]
            signature: list[Any] = [node["class_type"], self._is_changed(node)]
            if NODE_CLASSES[node["class_type"]].takes_unique_id:
                signature.append(nid)
            for key, value in sorted(node.get("inputs", {}).items()):
                if _is_link(value):
                    signature.append((key, ("ANCESTOR", order[value[0]], value[1])))
                else:
                    signature.append((key, value))
            return signature

        walk(node_id)
        return _to_hashable([immediate(node_id)] + [immediate(a) for a in ancestors])

    async def _execute(self, item: list[Any]) -> tuple[bool, list[Any], dict[str, Any]]:
        _, prompt_id, prompt, extra_data, execute_outputs = item
        self.interrupted = False  # an interrupt sent while idle is forgotten
        self.client_id = extra_data.get("client_id")
        self.current_prompt_id = prompt_id
        run = _Run(prompt_id, prompt, extra_data, keys={})
        await self._maybe_take_over(run)
        self._add_message(run, "execution_start", {"prompt_id": prompt_id}, broadcast=False)
        run.keys = {nid: self._signature(prompt, nid) for nid in prompt}
        # The classic cache keeps only what the current prompt can use.
        used = set(run.keys.values())
        for cache in (self.outputs_cache, self.ui_cache):
            for key in [k for k in cache if k not in used]:
                del cache[key]
        live_objects = {(nid, node["class_type"]) for nid, node in prompt.items()}
        self.objects = {k: v for k, v in self.objects.items() if k in live_objects}
        cached_nodes = [nid for nid in prompt if run.keys[nid] in self.outputs_cache]
        self._add_message(
            run, "execution_cached", {"nodes": cached_nodes, "prompt_id": prompt_id}, False
        )
        execution = _ExecutionList(
            prompt,
            is_cached=lambda nid: nid in run.keys and run.keys[nid] in self.outputs_cache,
            is_output=lambda nid: NODE_CLASSES[prompt[nid]["class_type"]].output_node,
        )
        for node_id in execute_outputs:
            execution.add_node(node_id)
        success = True
        while not execution.is_empty():
            node_id = execution.stage()
            error = await self._execute_node(run, node_id)
            if error is not None:
                success = False
                self._report_error(run, node_id, *error)
                break
            execution.complete()
        else:
            self._add_message(run, "execution_success", {"prompt_id": prompt_id}, False)
        outputs, meta = {}, {}
        for node_id in prompt:
            ui = self.ui_cache.get(run.keys[node_id])
            if ui is not None:
                outputs[node_id] = ui["output"]
                meta[node_id] = ui["meta"]
        self.last_node_id = None
        self.current_prompt_id = None
        return success, run.status_messages, {"outputs": outputs, "meta": meta}

    def _input_data(
        self, run: _Run, node_id: str, node_class: NodeClass
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """get_input_data: linked values from the output cache, literals, hidden values."""
        inputs = run.prompt[node_id]["inputs"]
        schema = node_class.input_types(self.folders)
        values: dict[str, Any] = {}
        for category in ("required", "optional"):
            for name in schema.get(category, {}):
                if name not in inputs:
                    continue
                value = inputs[name]
                if _is_link(value):
                    cached = self.outputs_cache.get(run.keys.get(value[0]))
                    if cached is not None and int(value[1]) < len(cached):
                        values[name] = cached[int(value[1])]
                else:
                    values[name] = value
        hidden: dict[str, Any] = {}
        for name, kind in schema.get("hidden", {}).items():
            kind = kind[0] if isinstance(kind, list) else kind
            if kind == "PROMPT":
                hidden[name] = run.prompt
            elif kind == "EXTRA_PNGINFO":
                hidden[name] = run.extra_data.get("extra_pnginfo")
            elif kind == "UNIQUE_ID":
                hidden[name] = node_id
        return values, hidden

    async def _execute_node(
        self, run: _Run, node_id: str
    ) -> tuple[dict[str, Any], BaseException] | None:
        """Run one node; None on success, else (error details, exception)."""
        class_type = run.prompt[node_id]["class_type"]
        node_class = NODE_CLASSES[class_type]
        key = run.keys[node_id]
        if key in self.outputs_cache:
            cached_ui = self.ui_cache.get(key) or {}
            self._send_client(
                run,
                "executed",
                {
                    "node": node_id,
                    "display_node": node_id,
                    "output": cached_ui.get("output"),
                    "prompt_id": run.prompt_id,
                },
            )
            self._progress(run, node_id, "finished")
            return None
        values: dict[str, Any] | None = None
        hidden: dict[str, Any] = {}
        await self._maybe_take_over(run)
        try:
            self._progress(run, node_id, "running")
            values, hidden = self._input_data(run, node_id, node_class)
            if self.client_id is not None:
                self.last_node_id = node_id
            self._send_client(
                run,
                "executing",
                {"node": node_id, "display_node": node_id, "prompt_id": run.prompt_id},
            )
            if self.interrupted:  # the only place an interrupt lands: a node boundary
                raise _Interrupted()
            await self.host._slow_down(class_type, run.prompt)
            if class_type in self.host.faults.failing_nodes:
                raise RuntimeError(self.host.faults.failing_nodes[class_type])
            output = await self._run_in_thread(run, node_id, node_class, {**values, **hidden})
        except _Interrupted as ex:
            return {"node_id": node_id}, ex
        except Exception as ex:
            shown = dict(values or {})
            if not node_class.is_v3:
                shown.update(hidden)  # V1 nodes receive hidden inputs as arguments
            return {
                "node_id": node_id,
                "exception_message": f"{ex}\n",
                "exception_type": _full_type_name(type(ex)),
                "traceback": traceback.format_tb(ex.__traceback__),
                "current_inputs": {k: [_format_value(v)] for k, v in shown.items()},
            }, ex
        if output.ui:
            self.ui_cache[key] = {
                "meta": {
                    "node_id": node_id,
                    "display_node": node_id,
                    "parent_node": None,
                    "real_node_id": node_id,
                },
                "output": output.ui,
            }
            self._send_client(
                run,
                "executed",
                {
                    "node": node_id,
                    "display_node": node_id,
                    "output": output.ui,
                    "prompt_id": run.prompt_id,
                },
            )
        self.outputs_cache[key] = output.values
        self._progress(run, node_id, "finished")
        run.executed.append(node_id)
        self.host._node_finished(self)
        return None

    async def _run_in_thread(
        self, run: _Run, node_id: str, node_class: NodeClass, kwargs: dict[str, Any]
    ) -> NodeOutput:
        loop = asyncio.get_running_loop()
        object_key = (node_id, node_class.name)
        if object_key not in self.objects:
            letters = "abcdefghijklmnopqrstupvxyz"  # sic: ComfyUI's alphabet repeats "p"
            self.objects[object_key] = "_temp_" + "".join(self.rng.choice(letters) for _ in "12345")

        def send_text(text_node_id: str, text: str) -> None:
            node_bytes = str(text_node_id).encode()
            payload = struct.pack(">I", len(node_bytes)) + node_bytes + text.encode()
            loop.call_soon_threadsafe(self.send, TEXT_EVENT, payload, None)

        ctx = NodeContext(
            node_id=node_id,
            folders=self.folders,
            preview_prefix=self.objects[object_key],
            send_text=send_text,
        )
        return await loop.run_in_executor(
            self.host._executor, lambda: node_class.run(ctx, **kwargs)
        )

    def _report_error(
        self, run: _Run, node_id: str, error: dict[str, Any], ex: BaseException
    ) -> None:
        base = {
            "prompt_id": run.prompt_id,
            "node_id": node_id,
            "node_type": run.prompt[node_id]["class_type"],
            "executed": list(run.executed),
        }
        if isinstance(ex, _Interrupted):
            # Broadcast when the prompt has no client: observers do see interruptions.
            self._add_message(run, "execution_interrupted", base, broadcast=True)
            return
        message = {
            **base,
            "exception_message": error["exception_message"],
            "exception_type": error["exception_type"],
            "traceback": error["traceback"],
            "current_inputs": error["current_inputs"],
            "current_outputs": list(run.prompt),
        }
        self._add_message(run, "execution_error", message, broadcast=False)

    # --- validation (execution.validate_prompt / validate_inputs) --------------------------

    def validate_prompt(
        self, prompt: Any, partial_targets: Any
    ) -> tuple[bool, dict[str, Any] | None, list[str], dict[str, Any]]:
        outputs: list[str] = []
        for x in prompt:
            if "class_type" not in prompt[x]:
                return (
                    False,
                    {
                        "type": "invalid_prompt",
                        "message": "Cannot execute because a node is missing the class_type "
                        "property.",
                        "details": f"Node ID '#{x}'",
                        "extra_info": {},
                    },
                    [],
                    {},
                )
            class_type = prompt[x]["class_type"]
            node_class = NODE_CLASSES.get(class_type)
            if node_class is None:
                return (
                    False,
                    {
                        "type": "invalid_prompt",
                        "message": f"Cannot execute because node {class_type} does not exist.",
                        "details": f"Node ID '#{x}'",
                        "extra_info": {},
                    },
                    [],
                    {},
                )
            wanted = partial_targets is None or x in partial_targets
            if node_class.output_node and wanted and x not in outputs:
                outputs.append(x)
        if not outputs:
            error = {
                "type": "prompt_no_outputs",
                "message": "Prompt has no outputs",
                "details": "",
                "extra_info": {},
            }
            return False, error, [], {}

        good_outputs: list[str] = []
        errors: list[tuple[str, list[dict[str, Any]]]] = []
        node_errors: dict[str, Any] = {}
        validated: dict[str, tuple[bool, list[dict[str, Any]], str]] = {}
        for o in outputs:
            try:
                valid, reasons, _ = self._validate_inputs(prompt, o, validated)
            except Exception as ex:
                valid = False
                reasons = [
                    {
                        "type": "exception_during_validation",
                        "message": "Exception when validating node",
                        "details": str(ex),
                        "extra_info": {
                            "exception_type": _full_type_name(type(ex)),
                            "traceback": traceback.format_tb(ex.__traceback__),
                        },
                    }
                ]
                validated[o] = (False, reasons, o)
            if valid is True:
                good_outputs.append(o)
                continue
            errors.append((o, reasons))
            # As in ComfyUI: every failed node seen so far is charged to this output too.
            for node_id, (ok, node_reasons, _) in validated.items():
                if ok is not True and len(node_reasons) > 0:
                    if node_id not in node_errors:
                        node_errors[node_id] = {
                            "errors": node_reasons,
                            "dependent_outputs": [],
                            "class_type": prompt[node_id]["class_type"],
                        }
                    node_errors[node_id]["dependent_outputs"].append(o)
        if not good_outputs:
            details = "\n".join(
                f"{e['message']}: {e['details']}" for _, reasons in errors for e in reasons
            )
            error = {
                "type": "prompt_outputs_failed_validation",
                "message": "Prompt outputs failed validation",
                "details": details,
                "extra_info": {},
            }
            return False, error, [], node_errors
        return True, None, good_outputs, node_errors

    def _validate_inputs(
        self,
        prompt: dict[str, Any],
        unique_id: str,
        validated: dict[str, tuple[bool, list[dict[str, Any]], str]],
    ) -> tuple[bool, list[dict[str, Any]], str]:
        if unique_id in validated:
            return validated[unique_id]
        inputs = prompt[unique_id]["inputs"]
        node_class = NODE_CLASSES[prompt[unique_id]["class_type"]]
        class_inputs = node_class.input_types(self.folders)
        validate_inputs = ["image"] if node_class.validate else []
        errors: list[dict[str, Any]] = []
        valid = True
        for category in ("required", "optional"):
            for x, input_info in class_inputs.get(category, {}).items():
                input_type = input_info[0]
                extra_info = input_info[1] if len(input_info) > 1 else {}
                if x not in inputs:
                    if category == "required":
                        errors.append(
                            {
                                "type": "required_input_missing",
                                "message": "Required input is missing",
                                "details": f"{x}",
                                "extra_info": {"input_name": x},
                            }
                        )
                    continue
                val = inputs[x]
                info = [input_type, extra_info]
                if isinstance(val, list):
                    ok = self._validate_link(prompt, x, val, info, validated, errors)
                    valid = valid and ok
                    continue
                error = self._validate_value(inputs, x, val, info, validate_inputs)
                if error is not None:
                    errors.append(error)
        if node_class.validate is not None and "image" in inputs and not _is_link(inputs["image"]):
            result = node_class.validate(self.folders, inputs["image"])
            if result is not True:
                details = "image" + ("" if result is False else f" - {result}")
                errors.append(
                    {
                        "type": "custom_validation_failed",
                        "message": "Custom validation failed for node",
                        "details": details,
                        "extra_info": {"input_name": "image"},
                    }
                )
        ret = (False, errors, unique_id) if errors or valid is not True else (True, [], unique_id)
        validated[unique_id] = ret
        return ret

    def _validate_link(
        self,
        prompt: dict[str, Any],
        x: str,
        val: list[Any],
        info: list[Any],
        validated: dict[str, tuple[bool, list[dict[str, Any]], str]],
        errors: list[dict[str, Any]],
    ) -> bool:
        if len(val) != 2:
            errors.append(
                {
                    "type": "bad_linked_input",
                    "message": "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                    "details": f"{x}",
                    "extra_info": {"input_name": x, "input_config": info, "received_value": val},
                }
            )
            return True
        o_id = val[0]
        # A missing node or slot raises here, outside any try: the whole output is charged.
        received_type = NODE_CLASSES[prompt[o_id]["class_type"]].return_types[val[1]]
        input_type = info[0]
        if not _types_match(received_type, input_type):
            errors.append(
                {
                    "type": "return_type_mismatch",
                    "message": "Return type mismatch between linked nodes",
                    "details": f"{x}, received_type({received_type}) mismatch "
                    f"input_type({input_type})",
                    "extra_info": {
                        "input_name": x,
                        "input_config": info,
                        "received_type": received_type,
                        "linked_node": val,
                    },
                }
            )
            return True
        try:
            ok, _, _ = self._validate_inputs(prompt, o_id, validated)
            return ok is True
        except Exception as ex:
            reasons = [
                {
                    "type": "exception_during_inner_validation",
                    "message": "Exception when validating inner node",
                    "details": str(ex),
                    "extra_info": {
                        "input_name": x,
                        "input_config": info,
                        "exception_message": str(ex),
                        "exception_type": _full_type_name(type(ex)),
                        "traceback": traceback.format_tb(ex.__traceback__),
                        "linked_node": val,
                    },
                }
            ]
            validated[o_id] = (False, reasons, o_id)
            return False

    @staticmethod
    def _validate_value(
        inputs: dict[str, Any], x: str, val: Any, info: list[Any], custom: list[str]
    ) -> dict[str, Any] | None:
        input_type, extra_info = info
        try:
            if isinstance(val, dict) and "__value__" in val:
                val = inputs[x] = val["__value__"]
            # Conversions are written back: a float 64.9 for an INT runs (and is stored) as 64.
            converters: dict[str, Callable[[Any], Any]] = {
                "INT": int,
                "FLOAT": float,
                "STRING": str,
                "BOOLEAN": bool,
            }
            if isinstance(input_type, str) and input_type in converters:
                val = inputs[x] = converters[input_type](val)
        except Exception as ex:
            return {
                "type": "invalid_input_type",
                "message": f"Failed to convert an input value to a {input_type} value",
                "details": f"{x}, {val}, {ex}",
                "extra_info": {
                    "input_name": x,
                    "input_config": info,
                    "received_value": val,
                    "exception_message": str(ex),
                },
            }
        if x in custom:
            return None  # LoadImage's value is checked by its own hook, not the enum
        value_error = {"input_name": x, "input_config": info, "received_value": val}
        if "min" in extra_info and val < extra_info["min"]:
            return {
                "type": "value_smaller_than_min",
                "message": "Value {} smaller than min of {}".format(val, extra_info["min"]),
                "details": f"{x}",
                "extra_info": value_error,
            }
        if "max" in extra_info and val > extra_info["max"]:
            return {
                "type": "value_bigger_than_max",
                "message": "Value {} bigger than max of {}".format(val, extra_info["max"]),
                "details": f"{x}",
                "extra_info": value_error,
            }
        # Only the bare-list enum dialect is checked here. A ["COMBO", {"options": ...}]
        # input has the type "COMBO" (a str), which ComfyUI 0.3.64 does not check against
        # its options: a bad value is accepted and fails when the node runs.
        if isinstance(input_type, list) and val not in input_type:
            listed = str(input_type)
            if len(input_type) > 20:
                listed = f"(list of length {len(input_type)})"
                value_error["input_config"] = None
            return {
                "type": "value_not_in_list",
                "message": "Value not in list",
                "details": f"{x}: '{val}' not in {listed}",
                "extra_info": value_error,
            }
        return None

    # --- HTTP ------------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, Callable[[web.Request], Any]]]:
        return [
            ("GET", "/ws", self.h_websocket),
            ("GET", "/embeddings", self.h_embeddings),
            ("GET", "/models", self.h_models),
            ("GET", "/models/{folder}", self.h_models_folder),
            ("GET", "/extensions", self.h_extensions),
            ("POST", "/upload/image", self.h_upload_image),
            ("GET", "/view", self.h_view),
            ("GET", "/system_stats", self.h_system_stats),
            ("GET", "/features", self.h_features),
            ("GET", "/prompt", self.h_get_prompt),
            ("GET", "/object_info", self.h_object_info),
            ("GET", "/object_info/{node_class}", self.h_object_info_node),
            ("GET", "/history", self.h_history),
            ("GET", "/history/{prompt_id}", self.h_history_id),
            ("GET", "/queue", self.h_queue),
            ("POST", "/prompt", self.h_post_prompt),
            ("POST", "/queue", self.h_post_queue),
            ("POST", "/interrupt", self.h_interrupt),
            ("POST", "/free", self.h_free),
            ("POST", "/history", self.h_post_history),
        ]

    async def h_websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.rel_url.query.get("clientId", "")
        if sid:
            self.sockets.pop(sid, None)  # a newer socket with this id silences the older one
        else:
            sid = uuid.uuid4().hex
        self.sockets[sid] = ws
        self.sockets_metadata[sid] = {"feature_flags": {}}
        if request.transport is not None:
            self.transports[id(ws)] = request.transport
        try:
            await ws.send_json(
                {"type": "status", "data": {"status": self.queue_info(), "sid": sid}}
            )
            if self.client_id == sid and self.last_node_id is not None:
                await ws.send_json({"type": "executing", "data": {"node": self.last_node_id}})
            first_message = True
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                    if first_message and data.get("type") == "feature_flags":
                        self.sockets_metadata[sid]["feature_flags"] = data.get("data", {})
                        await ws.send_json({"type": "feature_flags", "data": FEATURES})
                    first_message = False
                except (ValueError, AttributeError, ConnectionError):
                    pass
        finally:
            # Unconditional, as in ComfyUI: an old socket closing late unregisters a newer one.
            self.sockets.pop(sid, None)
            self.sockets_metadata.pop(sid, None)
            self.transports.pop(id(ws), None)
        return ws

    async def h_embeddings(self, request: web.Request) -> web.Response:
        names = [os.path.splitext(f)[0] for f in self.host.folders.model_files("embeddings")]
        return web.json_response(names)

    async def h_models(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.host.models))

    async def h_models_folder(self, request: web.Request) -> web.Response:
        folder = request.match_info["folder"]
        if folder not in self.host.models:
            return web.Response(status=404)
        return web.json_response(self.host.folders.model_files(folder))

    async def h_extensions(self, request: web.Request) -> web.Response:
        return web.json_response([])  # no frontend is installed in the fake

    async def h_upload_image(self, request: web.Request) -> web.Response:
        post = await request.post()
        image = post.get("image")
        overwrite = post.get("overwrite")
        upload_type = post.get("type", "input")
        upload_dir = self.folders.by_type(str(upload_type))
        if upload_dir is None:
            raise ValueError(f"unknown upload type {upload_type!r}")  # a 500, as in ComfyUI
        if not (image and isinstance(image, web.FileField) and image.file):
            return web.Response(status=400)
        filename = image.filename
        if not filename:
            return web.Response(status=400)
        subfolder = str(post.get("subfolder", ""))
        root = str(upload_dir)
        full_folder = os.path.join(root, os.path.normpath(subfolder))
        filepath = os.path.abspath(os.path.join(full_folder, filename))
        if os.path.commonpath((root, filepath)) != root:
            return web.Response(status=400)
        os.makedirs(full_folder, exist_ok=True)
        data = image.file.read()
        stem, ext = os.path.splitext(filename)
        duplicate = False
        if overwrite not in ("true", "1"):
            i = 1
            while os.path.exists(filepath):
                if Path(filepath).read_bytes() == data:  # same bytes: keep the name, no write
                    duplicate = True
                    break
                filename = f"{stem} ({i}){ext}"
                filepath = os.path.join(full_folder, filename)
                i += 1
        if not duplicate:
            Path(filepath).write_bytes(data)
        return web.json_response({"name": filename, "subfolder": subfolder, "type": upload_type})

    async def h_view(self, request: web.Request) -> web.StreamResponse:
        query = request.rel_url.query
        if "filename" not in query:
            return web.Response(status=404)
        filename, output_dir = self.folders.annotated(query["filename"])
        if not filename:
            return web.Response(status=400)
        if filename[0] == "/" or ".." in filename:
            return web.Response(status=400)
        if output_dir is None:
            output_dir = self.folders.by_type(query.get("type", "output"))
        if output_dir is None:
            return web.Response(status=400)
        folder = str(output_dir)
        if "subfolder" in query:
            full_folder = os.path.join(folder, query["subfolder"])
            if os.path.commonpath((os.path.abspath(full_folder), folder)) != folder:
                return web.Response(status=403)
            folder = full_folder
        filename = os.path.basename(filename)
        file = os.path.join(folder, filename)
        if not os.path.isfile(file):
            return web.Response(status=404)
        disposition = {"Content-Disposition": f'filename="{filename}"'}
        if "preview" in query:
            return self._view_preview(file, query, disposition)
        channel = query.get("channel", "rgba")
        if channel in ("rgb", "a"):
            with Image.open(file) as img:
                if channel == "rgb":
                    out = img.convert("RGB")
                else:
                    alpha = img.getchannel("A") if img.mode == "RGBA" else None
                    out = Image.new("RGBA", img.size)
                    out.putalpha(alpha if alpha is not None else Image.new("L", img.size, 255))
                buffer = BytesIO()
                out.save(buffer, format="PNG")
            return web.Response(
                body=buffer.getvalue(), content_type="image/png", headers=disposition
            )
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if content_type in {"text/html", "application/xhtml+xml", "text/javascript", "text/css"}:
            content_type = "application/octet-stream"
        return web.FileResponse(file, headers={**disposition, "Content-Type": content_type})

    @staticmethod
    def _view_preview(
        file: str, query: Mapping[str, str], disposition: dict[str, str]
    ) -> web.Response:
        preview = query.get("preview", "jpeg;90").split(";")
        image_format = preview[0]
        if image_format not in ("webp", "jpeg") or "a" in query.get("channel", ""):
            image_format = "webp"
        quality = int(preview[-1]) if preview[-1].isdigit() else 90
        buffer = BytesIO()
        with Image.open(file) as img:
            if image_format == "jpeg" or query.get("channel", "") == "rgb":
                img = img.convert("RGB")
            img.save(buffer, format=image_format, quality=quality)
        return web.Response(
            body=buffer.getvalue(), content_type=f"image/{image_format}", headers=disposition
        )

    async def h_system_stats(self, request: web.Request) -> web.Response:
        ram_total = 24 * _BYTES_PER_GIB
        ram_free = 23 * _BYTES_PER_GIB
        argv = ["main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(self.port)]
        argv += ["--disable-api-nodes", "--disable-all-custom-nodes", "--disable-auto-launch"]
        return web.json_response(
            {
                "system": {
                    "os": os.name,
                    "ram_total": ram_total,
                    "ram_free": ram_free,
                    "comfyui_version": COMFYUI_VERSION,
                    "required_frontend_version": "1.27.10",
                    "installed_templates_version": "0.1.95",
                    "required_templates_version": "0.1.95",
                    "python_version": sys.version,
                    "pytorch_version": "2.13.0+cpu",
                    "embedded_python": False,
                    "argv": argv,
                },
                "devices": [
                    {
                        "name": "cpu",
                        "type": "cpu",
                        "index": None,
                        "vram_total": ram_total,
                        "vram_free": ram_free,
                        "torch_vram_total": ram_total,
                        "torch_vram_free": ram_free,
                    }
                ],
            }
        )

    async def h_features(self, request: web.Request) -> web.Response:
        return web.json_response(FEATURES)

    async def h_get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response(self.queue_info())

    async def h_object_info(self, request: web.Request) -> web.Response:
        return web.json_response({n: c.schema(self.folders) for n, c in NODE_CLASSES.items()})

    async def h_object_info_node(self, request: web.Request) -> web.Response:
        node_class = NODE_CLASSES.get(request.match_info["node_class"])
        if node_class is None:
            return web.json_response({})
        return web.json_response({node_class.name: node_class.schema(self.folders)})

    async def h_history(self, request: web.Request) -> web.Response:
        max_items_text = request.rel_url.query.get("max_items")
        max_items = int(max_items_text) if max_items_text is not None else None
        offset = int(request.rel_url.query.get("offset", -1))
        if offset < 0 and max_items is not None:
            offset = len(self.history) - max_items
        out = {}
        for i, (prompt_id, entry) in enumerate(self.history.items()):
            if i >= offset:
                out[prompt_id] = entry
                if max_items is not None and len(out) >= max_items:
                    break
        return web.json_response(out)

    async def h_history_id(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        if prompt_id not in self.history:
            return web.json_response({})
        return web.json_response({prompt_id: copy.deepcopy(self.history[prompt_id])})

    async def h_queue(self, request: web.Request) -> web.Response:
        # Heap order, not sorted by number: the real server returns its heap list as is.
        return web.json_response(
            {
                "queue_running": list(self.running.values()),
                "queue_pending": [entry[3] for entry in self.queue],
            }
        )

    async def h_post_prompt(self, request: web.Request) -> web.Response:
        json_data = await request.json()  # unparseable or empty: the exception makes a 500
        limit = self.host.faults.max_queue
        if limit is not None and len(self.queue) + len(self.running) >= limit:
            return web.json_response(self._queue_full_error(limit), status=503)
        if "number" in json_data:
            number: float = float(json_data["number"])
        else:
            number = self.number
            # `in` rather than .get(): a JSON array body must reach the no_prompt answer.
            if "front" in json_data and json_data["front"]:  # noqa: RUF019
                number = -number
            self.number += 1  # counts rejected prompts too, so numbers have gaps
        if "prompt" not in json_data:
            error = {
                "type": "no_prompt",
                "message": "No prompt provided",
                "details": "No prompt provided",
                "extra_info": {},
            }
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        prompt = json_data["prompt"]
        prompt_id = str(json_data.get("prompt_id", uuid.uuid4()))  # taken as given, unchecked
        partial = json_data.get("partial_execution_targets")
        valid = self.validate_prompt(prompt, partial)
        extra_data = json_data["extra_data"] if "extra_data" in json_data else {}  # noqa: SIM401
        if "client_id" in json_data:
            extra_data["client_id"] = json_data["client_id"]
        if not valid[0]:
            return web.json_response({"error": valid[1], "node_errors": valid[3]}, status=400)
        self.vanished.discard(prompt_id)
        self.put([number, prompt_id, prompt, extra_data, valid[2]])
        self.host._record(
            Submission(prompt_id, number, extra_data.get("client_id"), copy.deepcopy(prompt))
        )
        return web.json_response(
            {"prompt_id": prompt_id, "number": number, "node_errors": valid[3]}
        )

    def _queue_full_error(self, limit: int) -> dict[str, Any]:
        # Not real ComfyUI behaviour (it has no queue limit): a fault for client tests.
        remaining = len(self.queue) + len(self.running)
        return {
            "error": {
                "type": "queue_full",
                "message": "Queue is full",
                "details": f"{remaining} prompts queued or running; the limit is {limit}",
                "extra_info": {"queue_remaining": remaining, "limit": limit},
            },
            "node_errors": {},
        }

    async def h_post_queue(self, request: web.Request) -> web.Response:
        json_data = await request.json()
        if "clear" in json_data and json_data["clear"]:  # noqa: RUF019 - may be a list
            self.wipe_queue()
        for prompt_id in json_data.get("delete", []) if "delete" in json_data else []:
            self.delete_queue_item(prompt_id)  # the running prompt is not in the heap: no-op
        return web.Response(status=200)

    async def h_interrupt(self, request: web.Request) -> web.Response:
        try:
            json_data = await request.json()
        except json.JSONDecodeError:
            json_data = {}
        prompt_id = json_data.get("prompt_id")
        if prompt_id:
            # Targeted: only if that prompt is running; pending or unknown ids do nothing.
            if any(item[1] == prompt_id for item in self.running.values()):
                self.interrupted = True
        else:
            self.interrupted = True
        return web.Response(status=200)

    async def h_free(self, request: web.Request) -> web.Response:
        json_data = await request.json()
        for flag in ("unload_models", "free_memory"):
            if json_data.get(flag, False):
                self.flags[flag] = json_data[flag]
                self.wake.set()
        return web.Response(status=200)

    async def h_post_history(self, request: web.Request) -> web.Response:
        json_data = await request.json()
        if "clear" in json_data and json_data["clear"]:  # noqa: RUF019 - may be a list
            self.history = {}
        for prompt_id in json_data.get("delete", []) if "delete" in json_data else []:
            self.history.pop(prompt_id, None)
        return web.Response(status=200)


def _types_match(received_type: Any, input_type: Any) -> bool:
    """comfy_execution.validation.validate_node_input (non-strict)."""
    if received_type == input_type:
        return True
    if not isinstance(received_type, str) or not isinstance(input_type, str):
        return False
    received = {t.strip() for t in received_type.split(",")}
    wanted = {t.strip() for t in input_type.split(",")}
    return bool(received & wanted)


class FakeComfyUI:
    """A fake ComfyUI server on 127.0.0.1 (ephemeral port), in a background thread.

    Use it as a context manager, or call start() and stop(). restart() and kill() simulate
    the process going away: queue, history, caches, temp files and the `number` counter are
    lost; input and output files stay, and the server comes back on the same port.
    """

    def __init__(
        self,
        *,
        faults: Faults | None = None,
        models: Mapping[str, Iterable[str]] | None = None,
        root: str | Path | None = None,
        preview_seed: int = 0,
    ) -> None:
        """models maps a model folder ("checkpoints") to its files; root keeps the folders
        somewhere you choose (else a temp dir removed by stop()); preview_seed fixes
        PreviewImage's random temp names."""
        self.faults = faults or Faults()
        self.models: dict[str, list[str]] = {folder: [] for folder in MODEL_FOLDERS}
        for folder, files in (models or {}).items():
            self.models[folder] = list(files)
        self.preview_seed = preview_seed
        self._owns_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="fake-comfyui-")) if root is None else Path(root)
        self.folders = Folders(
            input=(self.root / "input").resolve(),
            output=(self.root / "output").resolve(),
            temp=(self.root / "temp").resolve(),
            models=self.models,
        )
        for folder in (self.folders.input, self.folders.output, self.folders.temp):
            folder.mkdir(parents=True, exist_ok=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fake-comfyui-node")
        self._process: _Process | None = None
        self._port = 0
        self._stopped = False
        self._lock = threading.Lock()
        self._submissions: list[Submission] = []
        self._frames_since_armed = 0
        self._nodes_since_armed = 0
        self.interloper_frames: list[Any] = []  # what second sockets we opened received

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> "FakeComfyUI":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving (again, after kill() or a crash: same port, empty memory)."""
        if self._stopped:
            raise RuntimeError("this FakeComfyUI was stopped; create a new one")
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="fake-comfyui", daemon=True
            )
            self._thread.start()
        if self._process is None:
            self._call(self._bring_up())

    def stop(self) -> None:
        """Stop serving and remove the temp folders. Bounded: never hangs a test run."""
        if self._stopped:
            return
        self._stopped = True
        if self._loop is not None and self._thread is not None:
            if self._process is not None:
                # Best effort: the loop is stopped below regardless.
                with contextlib.suppress(Exception):
                    self._call(self._take_down())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self._loop.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        """Simulate a server restart: everything in memory and in temp/ is lost."""
        self.kill()
        self.start()

    def kill(self) -> None:
        """Crash now: sockets cut, connections refused until start(), memory lost."""
        if self._process is not None:
            self._call(self._take_down())

    @property
    def alive(self) -> bool:
        """True while the server accepts connections."""
        return self._process is not None

    async def _bring_up(self) -> None:
        # ComfyUI wipes temp/ at startup, so temp outputs and temp uploads do not survive.
        shutil.rmtree(self.folders.temp, ignore_errors=True)
        self.folders.temp.mkdir(parents=True, exist_ok=True)
        process = _Process(self)
        self._port = await process.start(self._port)
        self._process = process

    async def _take_down(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await process.shutdown()

    async def _crash_from_worker(self, process: _Process) -> None:
        if self._process is process:
            await self._take_down()

    def _call(self, coro: Any, timeout: float = _RESTART_TIMEOUT_S) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # --- addresses and observations -----------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self._port}"

    @property
    def ws_url(self) -> str:
        """ws://127.0.0.1:PORT/ws (add ?clientId=...)."""
        return f"ws://127.0.0.1:{self._port}/ws"

    @property
    def input_dir(self) -> Path:
        return self.folders.input

    @property
    def output_dir(self) -> Path:
        return self.folders.output

    @property
    def temp_dir(self) -> Path:
        return self.folders.temp

    @property
    def submissions(self) -> list[Submission]:
        """Every POST /prompt the server accepted, in order, across restarts."""
        with self._lock:
            return list(self._submissions)

    def _record(self, submission: Submission) -> None:
        with self._lock:
            self._submissions.append(submission)

    def add_input(self, name: str, data: bytes, subfolder: str = "") -> Path:
        """Put a file in input/ directly (what POST /upload/image with overwrite does)."""
        path = self.folders.input / subfolder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def set_models(self, folder: str, files: Iterable[str]) -> None:
        """What GET /models/<folder> lists, e.g. drop a checkpoint to make it "missing"."""
        self.models[folder] = list(files)

    # --- faults --------------------------------------------------------------------------------

    def slow(self, seconds_per_node: float, class_type: str | None = None) -> None:
        """Make every node (or every node of one class) that really runs take this long."""
        self.faults.seconds_per_node = seconds_per_node
        self.faults.slow_class_types = None if class_type is None else frozenset([class_type])

    def fail_node(self, class_type: str, message: str = "injected failure") -> None:
        """Nodes of this class raise RuntimeError(message): a runtime execution_error."""
        self.faults.failing_nodes[class_type] = message

    def drop_socket_after(self, n_messages: int) -> None:
        """After n more frames are sent, cut every socket; the run goes on into history."""
        self._frames_since_armed = 0
        self.faults.drop_sockets_after = n_messages

    def die_mid_run(self, after_nodes: int = 1) -> None:
        """Crash (like kill()) once `after_nodes` more nodes have finished running."""
        self._nodes_since_armed = 0
        self.faults.die_after_nodes = after_nodes

    def second_socket_on_next_prompt(self, after_nodes: int = 0) -> None:
        """Once the next prompt with a client_id has run `after_nodes` nodes (0: as it
        starts), open a second socket under that clientId (kept open): the submitter's
        socket stays open but hears nothing more, not even broadcasts
        (runs/sockets/c_two_sockets_one_clientId). What the second socket receives is
        collected in `interloper_frames`."""
        self.faults.second_socket_after_nodes = after_nodes

    def queue_limit(self, n: int | None) -> None:
        """Refuse POST /prompt with 503 {"error": {"type": "queue_full", ...}, "node_errors": {}}
        while running + pending >= n; a refused prompt uses no `number`. Real ComfyUI has no
        limit: this is for client tests of "refuse when the queue is full". None lifts it."""
        self.faults.max_queue = n

    def vanish_prompt(self, prompt_id: str) -> None:
        """Delete a prompt from queue and history with no event; if it is running, it finishes
        silently and leaves no history entry."""
        if self._process is not None:
            process = self._process

            async def vanish() -> None:
                process.vanish(prompt_id)

            self._call(vanish())

    def reset_faults(self) -> None:
        """Turn every fault off."""
        self.faults = Faults()
        self._frames_since_armed = 0
        self._nodes_since_armed = 0

    async def _slow_down(self, class_type: str, prompt: dict[str, Any]) -> None:
        faults = self.faults
        seconds = (
            faults.seconds_per_node
            if faults.seconds_per_node_of is None
            else faults.seconds_per_node_of(prompt)
        )
        if seconds > 0 and (
            faults.slow_class_types is None or class_type in faults.slow_class_types
        ):
            await asyncio.sleep(seconds)

    def _frame_sent(self, process: _Process) -> None:
        limit = self.faults.drop_sockets_after
        if limit is None:
            return
        self._frames_since_armed += 1
        if self._frames_since_armed >= limit:
            self.faults.drop_sockets_after = None  # one shot
            process._abort_sockets()

    def _node_finished(self, process: _Process) -> None:
        limit = self.faults.die_after_nodes
        if limit is None:
            return
        self._nodes_since_armed += 1
        if self._nodes_since_armed >= limit:
            self.faults.die_after_nodes = None  # one shot
            raise _Crash()
