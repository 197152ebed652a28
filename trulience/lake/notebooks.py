"""The analyst notebooks run on the lake and kept as HTML in storage.

A notebook is a jupytext percent file (`notebooks/*.py`). `run_notebook` executes it top to
bottom with papermill in the project's `python3` kernel, the parameters `project`, `since`
and `until` injected, in an environment whose `LAKE_URL` (and `LAKE_OPTIONS`) point at the
lake; the executed notebook becomes HTML (nbconvert) stored under

    notebooks/<notebook>/<scope>/<run stamp>.html   and   notebooks/<notebook>/<scope>/latest.html

where the scope is the project (or `all`) and the date range, if any; the newest
`KEEP_RUNS` stamped runs of a scope are kept. A cell that raises
stops the run with a `NotebookFailed` naming the notebook, the cell and its error.
`latest_notebooks` lists the newest HTML of each notebook for the apps.
"""

import json
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import jupytext
import nbformat
import papermill
from jupyter_client.manager import KernelManager
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError

from trulience.errors import TrulienceError
from trulience.lake.files import Lake
from trulience.storage import Storage, storage_key

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PREFIX = "notebooks"
LATEST = "latest.html"
KERNEL = "python3"
_STAMP = "%Y-%m-%dT%H-%M-%SZ"
# The lake exports every 15 minutes: a notebook keeps its last day or so of runs per scope.
KEEP_RUNS = 100


class NotebookFailed(TrulienceError):
    """A notebook's cell raised: the notebook, the cell and its error are in the message."""


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook as stored: its HTML's key and URI, the stable `latest` key."""

    notebook: str
    key: str
    uri: str
    latest_key: str
    cells_run: int
    duration_s: float


@dataclass(frozen=True)
class StoredNotebook:
    """The newest stored HTML of a notebook for one scope (a project or `all`)."""

    notebook: str
    scope: str
    key: str
    uri: str


def notebook_names(folder: Path = NOTEBOOKS) -> list[str]:
    """The notebooks of a folder, by name (the file name without `.py`)."""
    return sorted(p.stem for p in Path(folder).glob("*.py"))


def scope_of(project: str | None, since: date | None = None, until: date | None = None) -> str:
    """The key part naming what a run covered: `all`, a project, and the days if chosen."""
    scope = project or "all"
    if since or until:
        scope += f"_{since or 'start'}..{until or 'now'}"
    return scope


def repo_first_on_path() -> str:
    """PYTHONPATH with this checkout first, so a kernel imports this `trulience` (the
    JupyterLab server's kernels and the notebook assets' alike)."""
    paths = [str(NOTEBOOKS.parent), os.environ.get("PYTHONPATH", "")]
    return os.pathsep.join(p for p in paths if p)


def _kernel_env(lake: Lake) -> dict[str, str]:
    return os.environ | {
        "LAKE_URL": lake.url,
        "LAKE_OPTIONS": json.dumps(lake.options),
        "PYTHONPATH": repo_first_on_path(),
    }


def _failure(name: str, notebook, error: PapermillExecutionError) -> NotebookFailed:
    """The failing cell, counted from 1 as in the notebook file (papermill's injected
    parameters cell, right after the `parameters` cell or first, not counted), its first
    line and its error."""
    tagged = [i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])]
    injected_at = tagged[0] + 1 if tagged else 0
    index = error.cell_index - (error.cell_index > injected_at)
    first = next((line for line in error.source.splitlines() if line.strip()), "")
    return NotebookFailed(
        f"notebook {name}: cell {index + 1} ({first.strip()!r}) raised "
        f"{error.ename}: {error.evalue}"
    )


def _execute(name: str, path: Path, lake: Lake, parameters: dict) -> tuple:
    """The executed notebook and how many of its own code cells ran (papermill's injected
    parameters cell not counted)."""
    notebook = jupytext.read(path)
    notebook.metadata["kernelspec"] = {
        "name": KERNEL,
        "display_name": "Python 3",
        "language": "python",
    }
    with tempfile.TemporaryDirectory(prefix="trulience-notebook-") as workdir:
        kernel = KernelManager(kernel_name=KERNEL)
        kernel.start_kernel(env=_kernel_env(lake), cwd=workdir)
        try:
            executed = papermill.execute_notebook(
                notebook,
                None,
                parameters=parameters,
                kernel_name=KERNEL,
                km=kernel,
                progress_bar=False,
                cwd=workdir,
            )
        except PapermillExecutionError as exc:
            raise _failure(name, notebook, exc) from None
        finally:
            kernel.shutdown_kernel(now=True)
    own = [c for c in executed.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    return executed, sum(c.get("execution_count") is not None for c in own)


def run_notebook(
    name: str,
    lake: Lake,
    storage: Storage,
    project: str | None = None,
    since: date | None = None,
    until: date | None = None,
    folder: Path = NOTEBOOKS,
) -> NotebookRun:
    """Execute notebook `name` of `folder` on `lake` for the parameters and store its HTML."""
    path = Path(folder) / f"{name}.py"
    if not path.is_file():
        raise TrulienceError(f"no notebook {name!r} in {folder}")
    started = time.monotonic()
    parameters = {
        "project": project,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    executed, cells = _execute(name, path, lake, parameters)
    html, _resources = HTMLExporter().from_notebook_node(nbformat.from_dict(executed))
    data = html.encode("utf-8")
    scope = scope_of(project, since, until)
    stamp = datetime.now(UTC).strftime(_STAMP)
    stored = storage.put_bytes(storage_key(PREFIX, name, scope, f"{stamp}.html"), data)
    latest = storage.put_bytes(storage_key(PREFIX, name, scope, LATEST), data)
    prune_runs(storage, name, scope)
    return NotebookRun(
        name, stored.key, stored.uri, latest.key, cells, round(time.monotonic() - started, 3)
    )


def prune_runs(storage: Storage, name: str, scope: str, keep: int = KEEP_RUNS) -> list[str]:
    """Remove all but the newest `keep` stamped runs of a notebook's scope (the stamps sort
    in time); `latest.html` stays. Returns the keys removed."""
    folder = storage_key(PREFIX, name, scope)
    runs = [k for k in storage.list(folder) if k.rsplit("/", 1)[-1] != LATEST]
    removed = runs[: max(len(runs) - keep, 0)]
    for key in removed:
        storage.delete(key)
    return removed


def latest_notebooks(storage: Storage) -> list[StoredNotebook]:
    """The newest HTML of every notebook and scope in storage, by notebook then scope."""
    found = []
    for key in storage.list(PREFIX):
        parts = key.split("/")
        if len(parts) == 4 and parts[3] == LATEST:
            found.append(StoredNotebook(parts[1], parts[2], key, storage.uri(key)))
    return found
