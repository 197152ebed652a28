"""An operator's interrupt: stop a take's ComfyUI prompt now and cancel the take.

A global POST /interrupt stops whatever the worker runs, another client's prompt included,
and ComfyUI forgets it when it lands during the last node (PROTOCOL section 11). So the take's
own prompt, recorded on the take while its segment runs, is interrupted by id, or deleted
from the worker's queue if it has not started. The take is marked cancelled *first*: the loop
then reads the `execution_interrupted` (or the vanished prompt) as the operator's cancel and
never retries it; if the interrupt is lost in the last node, the segment finishes and the
take stops before the next one.
"""

from dataclasses import dataclass

import psycopg

from trulience.catalog import scenes as scene_repo
from trulience.catalog.scenes import RunningPrompt
from trulience.generation.comfyui.client import ComfyUIClient
from trulience.generation.comfyui.errors import ComfyUIError
from trulience.workers import pool


@dataclass(frozen=True)
class PromptStopped:
    """What interrupting one take did: `action` is "interrupted" (it was running; it stops
    at the next node boundary), "deleted" (it was still queued), "finished" (the worker
    no longer has it; nothing to stop) or "unreachable" (`error` says why)."""

    prompt: RunningPrompt
    action: str
    error: str | None = None

    def describe(self) -> str:
        """One line for an operator."""
        p = self.prompt
        take = f"{p.project}/{p.character}/{p.scene_type} take {p.take} segment {p.segment}"
        if self.action == "interrupted":
            return (
                f"{take}: prompt {p.prompt_id} interrupted (it stops at the next node "
                "boundary; during its last node the segment finishes instead) and the take "
                "cancelled"
            )
        if self.action == "deleted":
            return f"{take}: prompt {p.prompt_id} removed from the queue; the take is cancelled"
        if self.action == "unreachable":
            return (
                f"{take}: could not reach {p.worker} to stop prompt {p.prompt_id} "
                f"({self.error}); the take is cancelled and stops before its next segment"
            )
        return f"{take}: prompt {p.prompt_id} already ended on the worker; the take is cancelled"


def interrupt_take(conn: psycopg.Connection, scene_id: int, by: str) -> list[PromptStopped]:
    """Cancel a take and stop the prompt its running segment has on a worker (none when it
    is between segments: then the cancel stops it before the next one)."""
    scene_repo.set_take_control(conn, scene_id, "cancel", by)
    return [_stop(conn, p) for p in scene_repo.running_prompts(conn, scene_id=scene_id)]


def interrupt_worker(conn: psycopg.Connection, name: str, by: str) -> list[PromptStopped]:
    """Cancel every take whose prompt the worker has (running or queued) and stop those
    prompts by id; other clients' prompts on the worker are left alone."""
    worker = pool.get_worker(conn, name)
    stopped = []
    with ComfyUIClient(worker.url) as client:
        queue = client.queue()
        for prompt in scene_repo.running_prompts(conn, worker=worker.url):
            if prompt.prompt_id not in queue:
                # ended between our look-ups, or left behind by a killed run: not ours to cancel
                continue
            scene_repo.set_take_control(conn, prompt.scene_id, "cancel", by)
            stopped.append(_stop(conn, prompt, client))
    return stopped


def _stop(
    conn: psycopg.Connection, prompt: RunningPrompt, client: ComfyUIClient | None = None
) -> PromptStopped:
    if client is None:
        with ComfyUIClient(prompt.worker) as own:
            return _stop(conn, prompt, own)
    try:
        position = client.queue().position(prompt.prompt_id)
        if position is None:
            return PromptStopped(prompt, "finished")
        # delete first, then interrupt: a queued prompt cannot start in between
        client.cancel(prompt.prompt_id)
    except ComfyUIError as error:  # the cancel stands; one worker down must not stop the rest
        return PromptStopped(prompt, "unreachable", str(error))
    return PromptStopped(prompt, "interrupted" if position == 0 else "deleted")
