"""Following one prompt over a ComfyUI worker's WebSocket.

The worker streams a run only to the socket whose clientId the prompt was posted with, and a
second socket under the same clientId silences the first (PROTOCOL section 5): use one fresh
clientId per segment. The server never pings, so we do, to notice a dead connection. There
is no replay: after a reconnect the caller must reconcile through /history and /queue.
"""

import json
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from trulience.generation.comfyui.errors import WorkerUnavailable

log = logging.getLogger(__name__)

# Binary frame event types (server.py BinaryEventTypes).
PREVIEW_IMAGE = 1
TEXT = 3
PREVIEW_IMAGE_WITH_METADATA = 4
_IMAGE_FORMATS = {1: "image/jpeg", 2: "image/png"}

# progress_state carries the whole node map and grows with the graph; previews are images.
_MAX_MESSAGE = 64 * 1024 * 1024


@dataclass(frozen=True)
class ProgressUpdate:
    """Where a prompt is: `event` is "queued", "started", "cached", "executing", "progress"
    or "executed"; `value`/`max` are set for step progress (samplers); `nodes_started`
    counts the nodes that have run so far (cached ones excluded)."""

    prompt_id: str
    event: str
    node: str | None = None
    value: float | None = None
    max: float | None = None
    nodes_started: int = 0


@dataclass(frozen=True)
class Preview:
    """A preview image from a binary frame (type 1 carries no node or prompt id)."""

    image_type: str
    data: bytes
    node_id: str | None = None
    prompt_id: str | None = None


@dataclass(frozen=True)
class NodeText:
    """A binary TEXT frame: a node's progress text (broadcast to every socket)."""

    node_id: str
    text: str


ProgressCallback = Callable[[ProgressUpdate], None]
PreviewCallback = Callable[[Preview], None]


def parse_binary(frame: bytes) -> Preview | NodeText | None:
    """Decode a binary frame's header (big-endian uint32 event type, then per type);
    None for types we do not know or frames too short to hold their header."""
    if len(frame) < 8:
        return None
    (event,) = struct.unpack(">I", frame[:4])
    if event == PREVIEW_IMAGE:
        (image_format,) = struct.unpack(">I", frame[4:8])
        return Preview(_IMAGE_FORMATS.get(image_format, "application/octet-stream"), frame[8:])
    if event in (TEXT, PREVIEW_IMAGE_WITH_METADATA):
        (length,) = struct.unpack(">I", frame[4:8])
        header = frame[8 : 8 + length]
        if len(header) < length:
            return None
        body = frame[8 + length :]
        if event == TEXT:
            return NodeText(header.decode("utf-8", "replace"), body.decode("utf-8", "replace"))
        try:
            meta = json.loads(header)
        except ValueError:
            meta = {}
        return Preview(
            str(meta.get("image_type") or "image/png"),
            body,
            node_id=meta.get("node_id"),
            prompt_id=meta.get("prompt_id"),
        )
    return None


@dataclass
class PromptTracker:
    """What the socket told us about one prompt so far. `outcome` is set by the message
    that ends the run (success, error, interrupted); `done` by `executing {node: null}`."""

    prompt_id: str
    started_ms: float | None = None
    finished_ms: float | None = None
    cached: tuple[str, ...] = ()
    executed: dict[str, dict[str, Any]] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    current_node: str | None = None
    outcome: str | None = None
    error: dict[str, Any] | None = None
    interrupted: dict[str, Any] | None = None
    done: bool = False
    last_message_at: float = field(default_factory=time.monotonic)

    @property
    def started(self) -> bool:
        return self.started_ms is not None or self.current_node is not None or bool(self.ran)

    def feed(self, message: Any) -> ProgressUpdate | None:
        """Take one parsed text message; return a progress update worth reporting."""
        self.last_message_at = time.monotonic()
        if not isinstance(message, dict):
            return None
        kind = message.get("type")
        data = message.get("data")
        if not isinstance(data, dict):
            return None
        owner = data.get("prompt_id")
        if kind == "executing" and owner is None and "prompt_id" not in data:
            # After a reconnect the server names the running node without a prompt id; with
            # one clientId per prompt, it is ours.
            node = data.get("node")
            if node is not None:
                self.current_node = str(node)
                return self._update("executing", node=self.current_node)
            return None
        if owner != self.prompt_id:
            return None
        if kind == "execution_start":
            self.started_ms = data.get("timestamp")
            return self._update("started")
        if kind == "execution_cached":
            self.cached = tuple(str(n) for n in data.get("nodes") or ())
            return self._update("cached")
        if kind == "executing":
            node = data.get("node")
            if node is None:
                self.done = True
                self.current_node = None
                return None
            self.current_node = str(node)
            if self.current_node not in self.ran:
                self.ran.append(self.current_node)
            return self._update("executing", node=self.current_node)
        if kind == "progress":
            return self._update(
                "progress",
                node=_str(data.get("node")) or self.current_node,
                value=_float(data.get("value")),
                max=_float(data.get("max")),
            )
        if kind == "executed":
            node = str(data.get("node"))
            self.executed[node] = data.get("output") or {}
            return self._update("executed", node=node)
        if kind == "execution_success":
            self.outcome = "success"
            self.finished_ms = data.get("timestamp")
        elif kind == "execution_error":
            self.outcome = "error"
            self.error = data
            self.finished_ms = data.get("timestamp")
        elif kind == "execution_interrupted":
            self.outcome = "interrupted"
            self.interrupted = data
            self.finished_ms = data.get("timestamp")
        return None

    def _update(self, event: str, **fields: Any) -> ProgressUpdate:
        return ProgressUpdate(self.prompt_id, event, nodes_started=len(self.ran), **fields)


class SocketLost(WorkerUnavailable):
    """The WebSocket closed or stopped answering pings."""


class SocketIdle(Exception):
    """No message arrived within the idle timeout (the connection itself is alive)."""


class DeadlineReached(Exception):
    """The caller's overall deadline passed while following."""


class PromptSocket:
    """One WebSocket to a worker under one clientId; reconnect with the same id only after
    the previous connection died (two live sockets with one id silence the older)."""

    def __init__(
        self,
        url: str,
        *,
        open_timeout_s: float = 10,
        ping_interval_s: float | None = 5,
        ping_timeout_s: float | None = 10,
        close_timeout_s: float = 2,
    ) -> None:
        self.url = url
        self.close_timeout_s = close_timeout_s
        self.open_timeout_s = open_timeout_s
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self.connection: ClientConnection | None = None
        self.connects = 0
        # when the worker last said anything (time.monotonic): a silenced socket stays open
        self.last_message_at = time.monotonic()

    def connect(self) -> None:
        """Open the socket and read the first frame (the server's status with our sid)."""
        self.close()
        try:
            self.connection = connect(
                self.url,
                open_timeout=self.open_timeout_s,
                ping_interval=self.ping_interval_s,
                ping_timeout=self.ping_timeout_s,
                # A dead peer never answers our close either: do not wait long for it.
                close_timeout=self.close_timeout_s,
                max_size=_MAX_MESSAGE,
                compression=None,
                proxy=None,
                legacy=True,
            )
        # a worker killed while we connect cuts the handshake short: ConnectionClosed
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed) as error:
            raise SocketLost(f"{self.url}: cannot open the WebSocket ({error})") from error
        self.connects += 1
        self.last_message_at = time.monotonic()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception as error:  # closing a dead socket may raise anything
                log.debug("closing %s: %s", self.url, error)
            self.connection = None

    def __enter__(self) -> "PromptSocket":
        self.connect()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def receive(self, timeout_s: float) -> dict[str, Any] | Preview | NodeText | None:
        """The next message (parsed), None on timeout; SocketLost when the connection died."""
        if self.connection is None:
            raise SocketLost(f"{self.url}: the WebSocket is not open")
        try:
            raw = self.connection.recv(timeout=max(0.0, timeout_s))
        except TimeoutError:
            return None
        except ConnectionClosed as error:
            self.connection = None
            raise SocketLost(f"{self.url}: the WebSocket closed ({error})") from error
        except OSError as error:
            self.connection = None
            raise SocketLost(f"{self.url}: the WebSocket failed ({error})") from error
        self.last_message_at = time.monotonic()
        if isinstance(raw, bytes):
            return parse_binary(raw)
        try:
            return json.loads(raw)
        except ValueError:
            log.warning("%s sent a text frame that is not JSON: %.200r", self.url, raw)
            return {}

    def follow(
        self,
        tracker: PromptTracker,
        *,
        deadline: float,
        idle_timeout_s: float,
        on_progress: ProgressCallback | None = None,
        on_preview: PreviewCallback | None = None,
    ) -> PromptTracker:
        """Feed messages to `tracker` until the prompt's done marker arrives. Raises
        SocketLost, SocketIdle (no message for `idle_timeout_s`) or DeadlineReached
        (`deadline` on the time.monotonic clock)."""
        idle_since = time.monotonic()
        while not tracker.done:
            now = time.monotonic()
            if now >= deadline:
                raise DeadlineReached()
            if now - idle_since >= idle_timeout_s:
                raise SocketIdle()
            message = self.receive(min(deadline - now, idle_timeout_s - (now - idle_since)))
            if message is None:
                continue
            idle_since = time.monotonic()
            if isinstance(message, Preview):
                if on_preview is not None and message.prompt_id in (None, tracker.prompt_id):
                    on_preview(message)
                continue
            if isinstance(message, NodeText):
                log.debug("node %s: %s", message.node_id, message.text)
                continue
            update = tracker.feed(message)
            if update is not None and on_progress is not None:
                try:
                    on_progress(update)
                except Exception:  # a broken progress display must not fail a segment
                    log.exception("progress callback failed")
        return tracker


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
