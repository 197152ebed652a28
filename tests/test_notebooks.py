"""The analyst notebooks (jupytext percent format) run top to bottom in a real Jupyter
kernel on the demo's lake, as an analyst would run them."""

import os
import re
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

from trulience.lake.reports import open_lake

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str, env: dict, workdir: Path):
    notebook = jupytext.read(NOTEBOOKS / name)
    saved = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        NotebookClient(
            notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": workdir}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return notebook


def text_of(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_every_notebook_is_in_percent_format():
    names = sorted(p.name for p in NOTEBOOKS.glob("*.py"))
    assert names == ["identity_consistency.py", "production_overview.py", "throughput_and_cost.py"]
    for name in names:
        notebook = jupytext.read(NOTEBOOKS / name)
        assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
        assert notebook.cells[0].cell_type == "markdown"


@pytest.mark.slow
def test_production_overview_runs_on_the_demo(demo_production, tmp_path):
    out = text_of(execute("production_overview.py", demo_production.env, tmp_path))
    # two approved and delivered, one rejected, the rest waiting (see demo_production): the
    # stages are exclusive, so both delivered takes count as delivered, not also approved
    assert "approved 0, delivered 2" in out
    assert re.search(r"lake: \S+, as of 20\d\d-", out)
    assert "awaiting review" in out


@pytest.mark.slow
def test_throughput_and_cost_runs_on_the_demo(demo_production, tmp_path):
    out = text_of(execute("throughput_and_cost.py", demo_production.env, tmp_path))
    match = re.search(r"(\d+) segment attempts, ([\d.]+) GPU s", out)
    attempts, gpu_s = (
        open_lake(demo_production.lake)
        .sql("SELECT count(*), sum(compute_s) FROM segments")
        .fetchall()[0]
    )
    assert match and int(match.group(1)) == attempts
    assert float(match.group(2)) == pytest.approx(gpu_s, abs=1e-3)


@pytest.mark.slow
def test_identity_consistency_runs_on_the_demo(demo_production, tmp_path):
    out = text_of(execute("identity_consistency.py", demo_production.env, tmp_path))
    assert "least consistent: " in out
    assert "eileen" in out and "marco" in out
