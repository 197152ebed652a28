"""`trulience notebooks` (`make notebooks`): JupyterLab on 127.0.0.1 over `notebooks/`.

The `.py` notebooks are jupytext percent files: jupytext's contents manager opens them as
notebooks and saves them back as the same `.py` (notebooks/jupytext.toml), and a double
click opens them as notebooks (notebooks/.jupyter/labconfig: a default JupyterLab reads,
which a user's own setting still overrides). Kernels run this environment's python with
the studio's settings (TRULIENCE_HOME made absolute, LAKE_URL and the rest as they are), so
a notebook reads the same lake as `trulience report`."""

import os
import secrets
import sys
from pathlib import Path

import click

from trulience.cli import processes
from trulience.cli.common import settings
from trulience.config import Settings
from trulience.lake.files import lake_of
from trulience.lake.notebooks import NOTEBOOKS, repo_first_on_path

# Found through JUPYTER_CONFIG_PATH: the default viewer of a .py file is jupytext's notebook.
LAB_CONFIG = NOTEBOOKS / ".jupyter"


def checkpoints_dir(settings: Settings) -> Path:
    return settings.home / "notebooks" / "checkpoints"


def lab_command(settings: Settings) -> list[str]:
    """JupyterLab on 127.0.0.1 at the notebook port (never another one when it is taken),
    over `notebooks/`, no browser, jupytext's contents manager, one Ctrl+C stops it."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={settings.notebook_port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={NOTEBOOKS}",
        "--ServerApp.contents_manager_class=jupytext.AsyncTextFileContentsManager",
        # checkpoints in the (git-ignored) studio home, not .ipynb_checkpoints in the tree
        f"--FileCheckpoints.checkpoint_dir={checkpoints_dir(settings)}",
        "--ServerApp.answer_yes=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # the environment is pinned: no installs
    ]
    if os.geteuid() == 0:  # a container's root: Jupyter refuses to run without this
        command.append("--ServerApp.allow_root=True")
    return command


def lab_env(settings: Settings, token: str) -> dict[str, str]:
    """The server's environment, which its kernels inherit: the token (never on the command
    line, where `ps` shows it), the studio home as an absolute path (a kernel runs in the
    notebook's folder), this repository first on the path, the lab's defaults."""
    config_paths = [str(LAB_CONFIG), os.environ.get("JUPYTER_CONFIG_PATH", "")]
    return os.environ | {
        "JUPYTER_TOKEN": token,
        "TRULIENCE_HOME": str(settings.home),
        "PYTHONPATH": repo_first_on_path(),
        "JUPYTER_CONFIG_PATH": os.pathsep.join(p for p in config_paths if p),
        "JUPYTER_PREFER_ENV_PATH": "1",  # this venv's python3 kernel before a user's own
    }


def lab_url(settings: Settings, token: str) -> str:
    return f"http://127.0.0.1:{settings.notebook_port}/lab?token={token}"


def jupyter_lab(settings: Settings, token: str) -> int:
    """Run JupyterLab until it stops (Ctrl+C or SIGTERM); its exit status."""
    # it must exist: Jupyter puts checkpoints in the system's temp folder otherwise
    checkpoints_dir(settings).mkdir(parents=True, exist_ok=True)
    return processes.supervise(lab_command(settings), lab_env(settings, token))


@click.command("notebooks")
def notebooks() -> None:
    """Start JupyterLab on 127.0.0.1 over notebooks/ (the .py files open as notebooks) with
    the lake of these settings; print its URL with the token (Ctrl+C stops it). The token
    is JUPYTER_TOKEN when set, else a new one."""
    chosen = settings()
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    lake = lake_of(chosen)
    note = "" if not lake.local or lake.exists() else "  (not exported yet: `make demo`)"
    click.echo(f"lake             {lake}{note}")
    click.echo(f"JupyterLab: {lab_url(chosen, token)}  (Ctrl+C to stop)")
    sys.exit(jupyter_lab(chosen, token))


COMMANDS = {"notebooks": notebooks}
