"""`python -m trulience.production.hooks.process --timeout S --outcome FILE -- COMMAND...`

Runs a hook's command in its own process group and session, waits at most S seconds, and
on timeout (or when it is itself terminated, as Dagster does to a stopped run) kills the
whole group: SIGTERM, then SIGKILL after a grace period, so no child of the hook lingers.
What happened is written to FILE as JSON ({"exit_code", "timed_out", "error"}) and this
process exits 0, so the pipes client always hands back what the hook reported."""

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

GRACE_S = 2.0


def kill_group(child: subprocess.Popen, grace_s: float = GRACE_S) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever is left of it."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:  # the whole group is gone already
            break
        try:
            child.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
    child.wait()


def run(
    command: list[str], timeout_s: float, grace_s: float = GRACE_S, env: dict | None = None
) -> dict:
    """Run `command` in a new session for at most `timeout_s` (with `env`, else this
    process's environment); what became of it. SIGINT or SIGTERM meanwhile kills the
    command's group and exits (128 + the signal)."""
    started: list[subprocess.Popen] = []

    def stop(signum: int, _frame: object) -> None:
        for child in started:
            kill_group(child, grace_s)
        raise SystemExit(128 + signum)

    # set before the child starts, so a stop at any moment takes its group with it
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            started.append(subprocess.Popen(command, start_new_session=True, env=env))
        except OSError as exc:
            error = f"{command[0]}: {exc.strerror}"
            return {"exit_code": None, "timed_out": False, "error": error}
        (child,) = started
        try:
            return {"exit_code": child.wait(timeout=timeout_s), "timed_out": False, "error": None}
        except subprocess.TimeoutExpired:
            kill_group(child, grace_s)
            return {"exit_code": child.returncode, "timed_out": True, "error": None}
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def write_outcome(path: Path, outcome: dict) -> None:
    """Write the outcome whole or not at all (renamed into place)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(outcome))
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trulience.production.hooks.process")
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--grace", type=float, default=GRACE_S)
    parser.add_argument("--outcome", type=Path, required=True)
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    write_outcome(args.outcome, run(args.command, args.timeout, args.grace))
    return 0


if __name__ == "__main__":
    sys.exit(main())
