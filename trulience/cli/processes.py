"""The servers the CLI runs as supervised children until they end: `dagster dev` (webserver
and daemon) for `trulience dev`, JupyterLab for `trulience notebooks`.

The one place DAGSTER_HOME is set: the child is a separate Dagster process that finds its
instance by that variable. Work run in this process (pipeline.py) names the instance
explicitly and needs no variable."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from trulience.cli import pipeline
from trulience.config import Settings

REPO = Path(__file__).resolve().parents[2]


def dagster_env(settings: Settings) -> dict[str, str]:
    """The environment of a Dagster child process: the instance and the studio home."""
    return os.environ | {
        "DAGSTER_HOME": str(pipeline.prepare_home(settings)),
        "TRULIENCE_HOME": str(settings.home),
    }


def dagster_dev(settings: Settings) -> int:
    """Run `dagster dev` on 127.0.0.1 until it stops (with its webserver and daemon, see
    `supervise`); its exit status."""
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(REPO / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(settings.dagster_port),
    ]
    return supervise(command, dagster_env(settings))


def supervise(command: list[str], env: dict[str, str]) -> int:
    """Run `command` from the repository until it stops, passing SIGINT and SIGTERM on to
    it (so a server stops cleanly with its own children); its exit status."""
    # dagster dev ignores signals when started from a shell with '&'; as our child, with
    # SIGINT reset to default, it stops cleanly on SIGINT or SIGTERM (as JupyterLab does).
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )

    def forward(signum, _frame):
        process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return process.wait()
