"""The worker's answers as records: a submitted prompt, the queue, and a finished prompt's
history entry with the files its nodes wrote."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Submitted:
    """The worker's answer to POST /prompt: the prompt id and its queue number (a counter in
    the server's memory, with gaps, restarting at 0: not an id)."""

    prompt_id: str
    number: int
    node_errors: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueEntry:
    """One queued or running prompt: `[number, prompt_id, prompt, extra_data, outputs]`."""

    number: float
    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs_to_execute: tuple[str, ...]

    @classmethod
    def parse(cls, raw: Any) -> "QueueEntry":
        number, prompt_id, prompt, extra, outputs = (list(raw) + [None] * 5)[:5]
        return cls(
            number=number if isinstance(number, int | float) else 0,
            prompt_id=str(prompt_id),
            prompt=prompt if isinstance(prompt, dict) else {},
            extra_data=extra if isinstance(extra, dict) else {},
            outputs_to_execute=tuple(str(o) for o in outputs or ()),
        )


@dataclass(frozen=True)
class QueueState:
    """GET /queue: the running prompt(s) and the pending ones in the order they will run
    (the server does not sort them; we do, by number)."""

    running: tuple[QueueEntry, ...]
    pending: tuple[QueueEntry, ...]

    def position(self, prompt_id: str) -> int | None:
        """0 if running, n for the n-th pending prompt, None if not queued at all."""
        if any(e.prompt_id == prompt_id for e in self.running):
            return 0
        for place, entry in enumerate(self.pending, start=1):
            if entry.prompt_id == prompt_id:
                return place
        return None

    def __contains__(self, prompt_id: object) -> bool:
        return isinstance(prompt_id, str) and self.position(prompt_id) is not None


@dataclass(frozen=True)
class OutputFile:
    """A file a node wrote, as /view addresses it."""

    filename: str
    subfolder: str
    type: str
    animated: bool = False


@dataclass(frozen=True)
class HistoryEntry:
    """A finished prompt as /history/<id> reports it. `outcome` is "success", "error" or
    "interrupted" (the server says "error" for both of the last two; the last message
    tells them apart)."""

    prompt_id: str
    number: float | None
    status_str: str | None
    completed: bool
    messages: tuple[tuple[str, dict[str, Any]], ...]
    outputs: dict[str, dict[str, Any]]

    @classmethod
    def parse(cls, prompt_id: str, raw: Mapping[str, Any]) -> "HistoryEntry":
        status = raw.get("status") or {}
        messages = tuple(
            (str(m[0]), m[1] if isinstance(m[1], dict) else {})
            for m in status.get("messages") or ()
            if isinstance(m, list | tuple) and len(m) == 2
        )
        prompt = raw.get("prompt") or []
        number = prompt[0] if prompt and isinstance(prompt[0], int | float) else None
        return cls(
            prompt_id=prompt_id,
            number=number,
            status_str=status.get("status_str"),
            completed=bool(status.get("completed")),
            messages=messages,
            outputs=dict(raw.get("outputs") or {}),
        )

    def message(self, event: str) -> dict[str, Any] | None:
        """The data of the last status message named `event`, if any."""
        for name, data in reversed(self.messages):
            if name == event:
                return data
        return None

    @property
    def outcome(self) -> str | None:
        if self.message("execution_interrupted") is not None:
            return "interrupted"
        if self.message("execution_error") is not None or self.status_str == "error":
            return "error"
        if self.status_str == "success" and self.completed:
            return "success"
        return None

    @property
    def cached_nodes(self) -> tuple[str, ...]:
        cached = self.message("execution_cached") or {}
        return tuple(str(n) for n in cached.get("nodes") or ())

    @property
    def executed_at(self) -> tuple[float, float] | None:
        """When the worker's execution started and ended (epoch seconds, its clock), from
        execution_start to its end message."""
        start = (self.message("execution_start") or {}).get("timestamp")
        end = None
        for event in ("execution_success", "execution_error", "execution_interrupted"):
            end = end or (self.message(event) or {}).get("timestamp")
        if isinstance(start, int | float) and isinstance(end, int | float):
            return start / 1000, max(start, end) / 1000
        return None

    @property
    def compute_s(self) -> float | None:
        """Server time from execution_start to its end message (timestamps in ms)."""
        at = self.executed_at
        return None if at is None else at[1] - at[0]

    def files(self, node_id: str) -> list[OutputFile]:
        """The files node `node_id` wrote; videos are listed under `images` with
        `animated: [true]` (there is no `videos` key)."""
        output = self.outputs.get(str(node_id)) or {}
        animated = any(output.get("animated") or ())
        return [
            OutputFile(
                filename=item["filename"],
                subfolder=item.get("subfolder", ""),
                type=item.get("type", "output"),
                animated=animated,
            )
            for key in ("images", "gifs", "videos")  # custom nodes use other keys
            for item in output.get(key) or ()
            if isinstance(item, dict) and item.get("filename")
        ]
