"""Progress of long work as lines a person reads: "segment 3 of 8, 12 s elapsed, ~20 s left".

Long commands (generate, demo, imports, exports) report through one `Progress` so every one
says the same things in the same words; the loop's events are turned into its lines by
`loop_events`.
"""

import time
from collections.abc import Callable
from typing import Any

Echo = Callable[[str], None]


def duration(seconds: float) -> str:
    """Seconds as a person reads them: "4.2 s", "12 s", "3 min 05 s", "1 h 02 min"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts `done` of `total` units (segments, folders, rows) and prints one line per step,
    with the time elapsed and an estimate of what is left from the pace so far."""

    def __init__(
        self,
        echo: Echo,
        unit: str,
        total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.echo = echo
        self.unit = unit
        self.total = total
        self.clock = clock
        self.started = clock()
        self.done = 0
        self._counted_from = 0  # units already done before we started (a resumed take)
        self._pace_started = self.started

    def start(self, total: int, already_done: int = 0) -> None:
        """Begin (or restart) counting: `already_done` units need no time from us."""
        self.total = total
        self.done = already_done
        self._counted_from = already_done
        self._pace_started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float | None:
        """Seconds left at the pace of the units done by this process; None before one."""
        measured = self.done - self._counted_from
        if self.total is None or measured <= 0:
            return None
        per_unit = (self.clock() - self._pace_started) / measured
        return per_unit * max(0, self.total - self.done)

    def line(self, index: int, detail: str = "") -> str:
        """The line for unit `index` (0-based) as a person reads it."""
        of = f" of {self.total}" if self.total is not None else ""
        parts = [f"{self.unit} {index + 1}{of}"]
        if detail:
            parts.append(detail)
        parts.append(f"{duration(self.elapsed())} elapsed")
        left = self.remaining()
        if left is not None and self.total is not None and self.done < self.total:
            parts.append(f"~{duration(left)} left")
        return ", ".join(parts)

    def step(self, index: int, detail: str = "") -> None:
        """Unit `index` (0-based) is done."""
        self.done += 1
        self.echo(self.line(index, detail))

    def note(self, text: str) -> None:
        self.echo(f"{text} ({duration(self.elapsed())} elapsed)")


def loop_events(progress: Progress) -> Callable[[str, dict[str, Any]], None]:
    """An `events` callback for the generation loop that reports through `progress`."""

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind == "take":
            committed = len(data.get("committed", ()))
            progress.start(len(data["plan"]), already_done=committed)
            state = (
                f"resuming take {data['take']} after {committed} committed segment(s)"
                if data.get("resumed")
                else f"take {data['take']}: {len(data['plan'])} segments"
            )
            progress.note(state)
        elif kind == "segment_committed":
            attempt = data.get("attempt", 1)
            progress.step(data["index"], f"attempt {attempt}" if attempt > 1 else "")
        elif kind == "qa_failed":
            gates = ", ".join(str(g) for g in data.get("gates", ()))
            progress.note(
                f"segment {data['index'] + 1}: attempt {data['attempt']} failed QA ({gates}),"
                " retaking"
            )
        elif kind == "paused":
            progress.note("paused")
        elif kind == "resumed":
            progress.note("resumed")
        elif kind == "take_generated":
            progress.note(f"take generated: {data['frames']} frames")

    return on_event
