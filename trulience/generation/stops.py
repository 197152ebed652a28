"""Why the loop stops a take: a producer's pause or cancel, SIGTERM, another run on the take,
a finished take, a character not ready, or a segment every attempt of which failed a gate."""

from trulience.catalog.records import Take
from trulience.errors import TrulienceError


class LoopStopped(TrulienceError):
    """A producer paused or cancelled the take between segments (or, interrupting its
    prompt, during segment `during`)."""

    def __init__(self, scene_id: int, status: str, by: str | None, during: int | None = None):
        self.scene_id, self.status, self.by, self.during = scene_id, status, by, during
        when = "between segments" if during is None else f"during segment {during}"
        super().__init__(f"take {scene_id} {status} by {by or 'someone'} {when}")


class RunTerminated(KeyboardInterrupt):
    """The process running the loop was sent SIGTERM: it stops now, like Ctrl-C."""


class NotReady(TrulienceError):
    """The character or scene type is not ready for generation; says what is missing."""


class TakeBusy(TrulienceError):
    """Another run is generating this take right now."""


class TakeComplete(TrulienceError):
    """The newest take is finished and no new take was asked for."""

    def __init__(self, take: Take, character: str, scene_type: str):
        self.take = take
        done = f"{take.frames} frames" if take.frames else take.status
        super().__init__(
            f"{character}/{scene_type} take {take.take} is complete ({take.status}, {done}); "
            "ask for a new take to make another (trulience generate --new-take)"
        )


class QARefused(TrulienceError):
    """Every allowed attempt at a segment failed a quality gate."""

    def __init__(self, index: int, refusals: list[str], gates: tuple[str, ...] = ()):
        self.index, self.refusals, self.gates = index, refusals, gates
        super().__init__(
            f"segment {index} failed its quality gates in {len(refusals)} take(s): "
            + " | ".join(refusals)
        )
