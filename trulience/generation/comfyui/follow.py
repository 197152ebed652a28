"""Following one prompt on a worker: open the WebSocket before submitting (there is no
replay), submit once under our prompt id, follow the run to its end, and when the socket drops
or stays silent, reconcile through /queue and /history; the prompt is never submitted twice."""

import logging
import time
from dataclasses import dataclass
from typing import Any

from trulience.generation.backend import SegmentRequest
from trulience.generation.comfyui.answers import HistoryEntry, Submitted
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.errors import (
    ComfyUIError,
    PromptLost,
    SegmentTimeout,
    WorkerUnavailable,
)
from trulience.generation.comfyui.request import PromptRun, prompt_extra_data
from trulience.generation.comfyui.socket import (
    DeadlineReached,
    PreviewCallback,
    ProgressCallback,
    PromptSocket,
    SocketIdle,
    SocketLost,
)

log = logging.getLogger(__name__)

# After the done marker the history entry is already written (PROTOCOL section 6); a short
# grace covers servers that write it a moment later.
_HISTORY_GRACE_S = 5.0


@dataclass
class PromptFollower:
    """One worker's client and the backend's timeouts, for following a prompt there."""

    client: ComfyUIClient
    segment_timeout_s: float
    idle_timeout_s: float
    reconnect_timeout_s: float
    ping_interval_s: float
    ping_timeout_s: float
    poll_interval_s: float
    # after this long without a message (and as often again while silence lasts) the
    # prompt is looked up in /queue and /history: a silenced socket never says "done"
    silent_poll_s: float
    on_progress: ProgressCallback | None = None
    on_preview: PreviewCallback | None = None

    @property
    def worker(self) -> str:
        return self.client.base_url

    def run(
        self,
        run: PromptRun,
        graph: dict[str, Any],
        request: SegmentRequest,
        deadline: float,
        where: str,
    ) -> HistoryEntry:
        """Open the socket, submit once, follow to the end: the prompt's history entry."""
        extra_data = prompt_extra_data(request, run)
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
                self.give_up(run.prompt_id, where)
            raise
        finally:
            socket.close()
            run.connects = socket.connects

    def _report_submitted(self, request: SegmentRequest, run: PromptRun, where: str) -> None:
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

    def _follow(
        self, socket: PromptSocket, run: PromptRun, deadline: float, where: str
    ) -> HistoryEntry:
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
                self.give_up(prompt_id, where)
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
                    self.give_up(prompt_id, where)
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

    def give_up(self, prompt_id: str, where: str) -> None:
        try:
            self.client.cancel(prompt_id)
        except ComfyUIError as error:
            log.warning("%s: could not cancel prompt %s: %s", where, prompt_id, error)
