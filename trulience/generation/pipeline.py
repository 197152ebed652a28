"""The take's segments made in order, segment n judged while segment n+1 generates (issue 15).

As soon as the backend has made segment n, its lossless last frame seeds segment n+1 and the
backend is asked for n+1 while n is judged on a thread of its own: the video QA (pure CPU
over files), then n stored and committed on a sibling connection of the loop's (a psycopg
session is not shared between threads). The loop's thread keeps everything else: the
backend, the running prompt's record (so an operator's interrupt hits it), the take's
control, SIGTERM and every event.

- n passes: its row is the checkpoint, committed before n+1's (n+1 is judged only once n's
  verdict is in); then n+1 is judged while n+2 generates, and so on.
- n fails a gate: n+1 is discarded unjudged (nothing of it stored or committed; a
  `segment_discarded` event says why), n is retaken with another seed, and the pipeline
  starts again from the retaken n.
- The take's control is read before the backend is asked for n+1 (a paused or cancelled take
  gets no speculative segment) and obeyed between commits as in the serial loop: once n is
  committed the loop waits out a pause, and a cancel discards the n+1 it holds.
- A stop while n+1 generates (an operator's interrupt, a backend error, SIGTERM) lets n's
  judging finish first, so n is committed if it passed; a run killed outright resumes after
  the last committed segment, as ever.

Without overlap (the run's `overlap=False`, or the scene type's `params.overlap_qa: false`)
each attempt is judged on the loop's own connection before the next is asked for.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType

import psycopg

from trulience.catalog import scenes
from trulience.catalog.records import Segment
from trulience.catalog.siblings import sibling_connection
from trulience.generation import attempt
from trulience.generation.attempt import Attempt, Made, SegmentStart
from trulience.generation.backend import GenerationBackend
from trulience.generation.control import wait_for_control
from trulience.generation.plan import TakePlan
from trulience.generation.seed import SeedFrame, chained_seed, first_seed_frame, reanchored
from trulience.generation.stops import QARefused
from trulience.storage import Storage

log = logging.getLogger(__name__)


class Judging:
    """One attempt being judged and committed: on a thread of its own (overlapped), or in
    place when its verdict is asked for (serial)."""

    def __init__(self, work: Callable[[], Attempt], name: str, on_thread: bool) -> None:
        self._work, self._done = work, threading.Event()
        self._attempt: Attempt | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        if on_thread:
            self._thread.start()

    def _run(self) -> None:
        try:
            self._attempt = self._work()
        except BaseException as exc:  # handed to the loop's thread by result()
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> Attempt:
        """The judged, committed attempt (waiting for it); what judging raised, raised."""
        if not self._thread.is_alive() and not self._done.is_set():
            self._run()  # serial: judged here, on the loop's thread
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._attempt is not None
        return self._attempt

    def wait(self) -> None:
        """Let a judging that has begun finish (its commit done or refused), if it runs."""
        if self._thread.is_alive():
            self._done.wait()


class Judges:
    """Where a run's attempts are judged: overlapped, on threads sharing one sibling
    connection (one at a time), or serially on the loop's connection."""

    def __init__(
        self, conn: psycopg.Connection, storage: Storage, plan: TakePlan, overlap: bool
    ) -> None:
        self.conn, self.storage, self.plan = conn, storage, plan
        self.sibling = sibling_connection(conn) if overlap else None
        self._current: Judging | None = None

    def start(self, made: Made, start: SegmentStart) -> Judging:
        """Begin judging `made` (the previous judging has been waited for)."""
        conn = self.sibling or self.conn
        name = f"judge-{self.plan.take.id}-{made.index}-a{made.number}"
        work = partial(attempt.judge, conn, self.storage, self.plan, made, start)
        self._current = Judging(work, name, on_thread=self.sibling is not None)
        return self._current

    def __enter__(self) -> "Judges":
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        if self._current is not None:
            self._current.wait()  # never close the connection under a commit
        if self.sibling is not None:
            self.sibling.close()


@dataclass
class _Segment:
    """The segment being made: where its attempts start, and the refusals of this run's
    attempts at it."""

    start: SegmentStart
    refusals: list[str] = field(default_factory=list)
    failed: tuple[str, ...] = ()


def make_segments(
    conn: psycopg.Connection,
    storage: Storage,
    backend: GenerationBackend,
    plan: TakePlan,
    committed: dict[int, Segment],
    overlap: bool = True,
) -> list[int]:
    """Every segment not yet committed, in order, each seeded from the one before and
    judged while the next generates (`overlap`); the indices made by this run."""
    todo = [i for i in range(len(plan.frame_plan)) if i not in committed]
    if not todo:
        return []
    made_now: list[int] = []
    with Judges(conn, storage, plan, overlap and len(todo) > 1) as judges:
        wait_for_control(conn, plan.take, plan.run)
        segment = _Segment(
            SegmentStart(todo[0], _seed(conn, storage, plan, committed, todo[0]), None)
        )
        made = _make(conn, storage, backend, plan, segment, retake=False)
        while True:
            index = segment.start.index
            judging = judges.start(made, segment.start)
            following = next((i for i in todo if i > index), None)
            after = made.last_frame if following == index + 1 else None
            ahead_seed = ahead = None
            if following is not None and overlap and _may_run(conn, plan):
                try:
                    ahead_seed = _seed(conn, storage, plan, committed, following, after)
                    ahead = attempt.make(conn, storage, backend, plan, following, ahead_seed, False)
                except BaseException:
                    _settle(plan, judging)  # n's verdict first: committed if it passed
                    raise
            try:
                done = judging.result()
            except BaseException:
                _discard(plan, ahead, f"the run stopped while segment {index} was judged")
                raise
            if not done.passed:
                _refused(plan, segment, done)
                _discard(plan, ahead, f"segment {index} attempt {made.number} failed its gates")
                made = _make(conn, storage, backend, plan, segment, retake=True)
                continue
            committed[index] = done.row
            made_now.append(index)
            _report(plan, done)
            if following is None:
                return made_now
            try:
                wait_for_control(conn, plan.take, plan.run)  # between segments, as ever
            except BaseException:
                _discard(plan, ahead, "the take was stopped before it was judged")
                raise
            if ahead_seed is None:
                ahead_seed = _seed(conn, storage, plan, committed, following, after)
            previous = done.metrics if following == index + 1 else None
            segment = _Segment(SegmentStart(following, ahead_seed, previous))
            made = ahead or _make(conn, storage, backend, plan, segment, retake=False)


def _make(
    conn: psycopg.Connection,
    storage: Storage,
    backend: GenerationBackend,
    plan: TakePlan,
    segment: _Segment,
    retake: bool,
) -> Made:
    """The next attempt at the segment, from its seed; QARefused once none is left."""
    if len(segment.refusals) >= plan.quality.max_attempts:
        raise QARefused(segment.start.index, segment.refusals, segment.failed)
    start = segment.start
    return attempt.make(conn, storage, backend, plan, start.index, start.seed, retake)


def _seed(
    conn: psycopg.Connection,
    storage: Storage,
    plan: TakePlan,
    committed: dict[int, Segment],
    index: int,
    after: SeedFrame | None = None,
) -> SeedFrame:
    """Segment `index`'s seed: the last frame of the segment before it, made by this run
    (`after`) or committed earlier; segment 0's from the character; re-anchored past the
    chain-depth limit."""
    if after is not None:
        seed = after
    elif index == 0:
        seed = first_seed_frame(conn, storage, plan.cell.character, plan.config)
    else:
        seed = chained_seed(storage, committed[index - 1], plan.run.work_dir)
    if plan.continuity.reanchors(index):
        assert plan.continuity.first_stats is not None  # measured whenever re-anchoring
        return reanchored(seed, plan.continuity.first_stats)
    return seed


def _may_run(conn: psycopg.Connection, plan: TakePlan) -> bool:
    """Whether the take may run on (a paused or cancelled take gets no segment ahead)."""
    control, _ = scenes.take_control(conn, plan.take.id)
    return control == "run"


def _settle(plan: TakePlan, judging: Judging) -> None:
    """While the run stops: wait for the judging under way and report its verdict, never
    masking why the run stops."""
    try:
        done = judging.result()
    except Exception:
        log.exception("judging a segment of take %s failed while the run stopped", plan.take.id)
        return
    if done.passed:
        _report(plan, done)
    else:
        _refusal_event(plan, done)


def _discard(plan: TakePlan, ahead: Made | None, reason: str) -> None:
    """Drop a segment made ahead, unjudged and uncommitted, and say so."""
    if ahead is None:
        return
    ahead.discard()
    plan.run.events(
        "segment_discarded", {"index": ahead.index, "attempt": ahead.number, "reason": reason}
    )


def _refused(plan: TakePlan, segment: _Segment, done: Attempt) -> None:
    """Count a refused attempt at the segment and report it."""
    segment.refusals.append(done.refusal)
    segment.failed = done.failed
    _refusal_event(plan, done)


def _refusal_event(plan: TakePlan, done: Attempt) -> None:
    plan.run.events(
        "qa_failed",
        {
            "index": done.row.index,
            "attempt": done.row.attempt,
            "gates": list(done.failed),
            "reason": done.refusal,
        },
    )


def _report(plan: TakePlan, done: Attempt) -> None:
    """Tell who listens that a segment is committed, with how it was made and judged."""
    made = done.row.provenance
    plan.run.events(
        "segment_committed",
        {
            "index": done.row.index,
            "attempt": done.row.attempt,
            "sha256": done.row.sha256,
            "worker": made.get("worker"),
            "backend": made.get("backend"),
            "compute_s": made.get("compute_s"),
            "gates": done.row.qa.get("gates", []),
        },
    )
