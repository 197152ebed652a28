"""A hook's configuration, checked before it is stored: which stage, which runtime, which
script, how long it may run and what its failure does to the stage."""

import math
import os
import re
import sys
from pathlib import Path

from trulience.catalog.hooks import Hook, NewHook
from trulience.errors import TrulienceError

STAGES = ("before_generation", "after_qa", "before_assembly", "before_delivery", "step")
# the interpreter each runtime's script is run with (Python: this one, so dagster_pipes and
# trulience's own reporter are importable by the hook)
INTERPRETERS = {"python": sys.executable, "shell": "/bin/sh", "node": "node"}
# veto by default: a guard that cannot give its verdict must not let the stage through
# unchecked, and a veto is the outcome the producer sees on the take (a 'fail' is an
# operator's problem: the run fails and is retried like any step)
ON_FAILURE = ("veto", "fail", "continue")
DEFAULT_ON_FAILURE = "veto"
DEFAULT_TIMEOUT_S = 300.0
MAX_TIMEOUT_S = 86400.0
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class InvalidHook(TrulienceError):
    """A hook's configuration was refused; names the field, the value and why."""

    def __init__(self, field: str, value: object, reason: str):
        self.field, self.value, self.reason = field, value, reason
        super().__init__(f"hook {field} {value!r}: {reason}")


def _one_of(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidHook(field, value, "must be one of: " + ", ".join(allowed))
    return value


def parse_timeout(value: object) -> float:
    """Seconds a hook may run: a number more than 0 and at most a day."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidHook("timeout_s", value, "must be a number of seconds") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT_S:
        raise InvalidHook("timeout_s", value, f"must be more than 0 and at most {MAX_TIMEOUT_S:g}")
    return seconds


def parse_script(value: str) -> str:
    """The script's absolute path; it must be a readable file now."""
    if not value or "\x00" in value:
        raise InvalidHook("script", value, "must be the path of a script file")
    try:
        path = Path(value).expanduser().absolute()
        if not path.is_file():
            raise InvalidHook("script", value, "no such file")
    except OSError as exc:  # a name too long, a folder that cannot be entered
        raise InvalidHook("script", value, exc.strerror or type(exc).__name__) from exc
    if not os.access(path, os.R_OK):
        raise InvalidHook("script", value, "cannot be read")
    return str(path)


def parse_hook(
    project: str,
    name: str,
    stage: str,
    runtime: str,
    script: str,
    *,
    scene_type: str | None = None,
    args: tuple[str, ...] = (),
    timeout_s: object = DEFAULT_TIMEOUT_S,
    on_failure: str = DEFAULT_ON_FAILURE,
) -> NewHook:
    """A hook's configuration checked field by field (InvalidHook names the first bad one)."""
    if not _NAME.match(name or ""):
        raise InvalidHook(
            "name", name, "must be lowercase letters, digits, '-' or '_' (at most 63)"
        )
    for arg in args:
        if "\x00" in arg:
            raise InvalidHook("args", arg, "a NUL character is not allowed")
    return NewHook(
        project=project,
        scene_type=scene_type,
        name=name,
        stage=_one_of("stage", stage, STAGES),
        runtime=_one_of("runtime", runtime, tuple(INTERPRETERS)),
        script=parse_script(script),
        args=tuple(args),
        timeout_s=parse_timeout(timeout_s),
        on_failure=_one_of("on_failure", on_failure, ON_FAILURE),
    )


def command(hook: Hook) -> list[str]:
    """The command line that runs the hook's script in its runtime."""
    return [INTERPRETERS[hook.runtime], hook.script, *hook.args]
