"""The take's control as the loop obeys it: run / pause / cancel between segments, the
running segment's prompt recorded for an operator to interrupt, SIGTERM turned into a stop,
and the record on the take of why its run stopped."""

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from trulience.catalog import scenes
from trulience.catalog.records import Take
from trulience.generation.backend import PermanentBackendError
from trulience.generation.plan import Run
from trulience.generation.stops import LoopStopped, NotReady, QARefused, RunTerminated

log = logging.getLogger(__name__)


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn the first SIGTERM into RunTerminated (a second one kills as usual), unless the
    process already handles SIGTERM (Dagster turns it into its own interrupt)."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise RunTerminated(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Watch:
    """The loop's side of a running segment: records its prompt on the take and tells the
    backend whether an operator cancelled the take."""

    def __init__(self, conn: psycopg.Connection, scene_id: int, index: int) -> None:
        self.conn, self.scene_id, self.index = conn, scene_id, index

    def submitted(self, worker: str, prompt_id: str) -> None:
        """Record the prompt the segment was queued as."""
        scenes.record_prompt(self.conn, self.scene_id, self.index, worker, prompt_id)

    def cancelled_by(self) -> str | None:
        """Who cancelled the take, if it is cancelled."""
        control, by = scenes.take_control(self.conn, self.scene_id)
        return (by or "an operator") if control == "cancel" else None


def wait_for_control(conn: psycopg.Connection, take: Take, run: Run) -> None:
    """Go on when the take may run; wait while it is paused (up to `run.max_pause_s`), and
    stop (LoopStopped) when it is cancelled or paused too long."""
    control, by = scenes.take_control(conn, take.id)
    if control == "run":
        return
    if control == "cancel":
        raise LoopStopped(take.id, "cancelled", by)
    scenes.set_take_state(conn, take.id, "paused")
    run.events("paused", {"scene_id": take.id, "by": by})
    deadline = time.monotonic() + run.max_pause_s
    while control == "pause":
        if time.monotonic() > deadline:
            raise LoopStopped(take.id, "paused", by)
        time.sleep(run.poll_s)
        control, by = scenes.take_control(conn, take.id)
    if control == "cancel":
        raise LoopStopped(take.id, "cancelled", by)
    scenes.set_take_state(conn, take.id, "generating")
    run.events("resumed", {"scene_id": take.id, "by": by})


@contextmanager
def stops_recorded(conn: psycopg.Connection, take: Take) -> Iterator[None]:
    """Record on the take why the block stopped it: paused or cancelled, refused by the
    gates, failed for good, or stopped from outside (it resumes when run again)."""
    try:
        yield
    except LoopStopped as exc:
        scenes.set_take_state(conn, take.id, exc.status, failure=str(exc))
        raise
    except QARefused as exc:
        scenes.set_take_state(conn, take.id, "qa_failed", failure=str(exc))
        raise
    except (PermanentBackendError, NotReady) as exc:
        scenes.set_take_state(conn, take.id, "failed", failure=str(exc))
        raise
    except BaseException as exc:
        if not isinstance(exc, Exception):  # SIGTERM, Dagster's termination, Ctrl-C
            _record_stop(conn, take, exc)
        raise


def _record_stop(conn: psycopg.Connection, take: Take, exc: BaseException) -> None:
    """Say on the take that its run was stopped from outside; it resumes when run again."""
    how = "SIGTERM" if isinstance(exc, RunTerminated) else type(exc).__name__
    try:
        scenes.set_take_state(
            conn,
            take.id,
            "failed",
            failure=f"the run was stopped from outside ({how}); its committed segments are "
            "kept, and running the take again resumes after the last of them",
        )
    except Exception:  # stopping must not be held up by the record of it
        log.exception("could not record that take %s was stopped", take.id)
