"""The analyst notebooks (jupytext percent format) run top to bottom in a real Jupyter
kernel on the demo's lake, as an analyst would run them, and every chart they build has
rows; the figures' SQL (trulience/lake/figures.py) runs on an empty lake and the demo's."""

import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from trulience.config import Settings
from trulience.lake.figures import FIGURES, figure, figure_names
from trulience.lake.files import LakeError, write_state
from trulience.lake.reports import lake_connection, open_lake

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = [
    "identity_consistency.py",
    "new_analysis.py",
    "production_overview.py",
    "throughput_and_cost.py",
]
# the chart objects each notebook builds (the figure each draws: trulience/lake/figures.py)
CHARTS = {
    "identity_consistency.py": {"identity_chart", "outlier_chart"},
    "new_analysis.py": {"worker_chart"},
    "production_overview.py": {"funnel_chart", "gantt_chart"},
    "throughput_and_cost.py": {"gpu_chart", "pareto_chart"},
}
# appended before executing: every HoloViews object the kernel holds, with the rows of its
# emptiest element (an overlay or layout has data only if each of its parts has)
LIST_CHARTS = """
import holoviews as _hv
for _name, _obj in sorted(globals().items()):
    if isinstance(_obj, _hv.core.Dimensioned) and not _name.startswith("_"):
        # a Div (the notice a notebook shows for no data) holds text, not rows
        _rows = [0 if isinstance(_e, _hv.Div) else len(_e)
                 for _e in _obj.traverse(lambda _e: _e, [_hv.Element])]
        print(f"chart {_name}: {min(_rows) if _rows else 0} rows")
"""


def charts_of(out: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^chart (\w+): (\d+) rows$", out, re.M)}


def with_parameters(notebook, **values):
    """The notebook with a cell of `values` after its parameters cell, as papermill injects."""
    at = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", []))
    source = "\n".join(f"{k} = {v!r}" for k, v in values.items())
    notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    return notebook


def execute(name: str, env: dict, workdir: Path, **parameters):
    notebook = jupytext.read(NOTEBOOKS / name)
    if parameters:
        with_parameters(notebook, **parameters)
    notebook.cells.append(nbformat.v4.new_code_cell(LIST_CHARTS))
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
    assert names == NAMES
    for name in names:
        notebook = jupytext.read(NOTEBOOKS / name)
        assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
        assert notebook.cells[0].cell_type == "markdown"


def test_every_notebook_takes_project_and_dates_as_parameters():
    """A papermill parameters cell near the top: project, since and until, None by default."""
    for name in NAMES:
        cells = jupytext.read(NOTEBOOKS / name).cells
        tagged = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and tagged[0] <= 3, name
        values: dict = {}
        exec(cells[tagged[0]].source, values)
        assert {k: values[k] for k in ("project", "since", "until")} == dict.fromkeys(
            ("project", "since", "until")
        ), name
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        assert "lake_connection(project=project, since=since, until=until)" in code, name


def assert_charts_have_data(name: str, out: str) -> None:
    listed = charts_of(out)
    assert CHARTS[name] <= set(listed), (name, listed)
    assert all(listed[chart] > 0 for chart in CHARTS[name]), (name, listed)


@pytest.mark.slow
def test_production_overview_runs_on_the_demo(demo_production, tmp_path):
    out = text_of(execute("production_overview.py", demo_production.env, tmp_path))
    assert_charts_have_data("production_overview.py", out)
    # two approved and delivered, one rejected, the rest waiting (see demo_production): the
    # stages are exclusive, so both delivered takes count as delivered, not also approved
    assert "approved 0, delivered 2" in out
    assert re.search(r"lake: \S+, as of 20\d\d-", out)
    assert "awaiting review" in out


@pytest.mark.slow
def test_throughput_and_cost_runs_on_the_demo(demo_production, tmp_path):
    out = text_of(execute("throughput_and_cost.py", demo_production.env, tmp_path))
    assert_charts_have_data("throughput_and_cost.py", out)
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
    assert_charts_have_data("identity_consistency.py", out)
    assert "least consistent: " in out
    assert "eileen" in out and "marco" in out


@pytest.mark.slow
def test_the_template_answers_alike_in_sql_and_polars(demo_production, tmp_path):
    """The template's three questions: the notebook itself asserts that DuckDB over the
    views and polars over the Parquet files agree, all days and one project on one day."""
    out = text_of(execute("new_analysis.py", demo_production.env, tmp_path))
    assert_charts_have_data("new_analysis.py", out)
    day = open_lake(demo_production.lake).sql("SELECT min(created_at)::DATE FROM segments")
    since = day.fetchall()[0][0].isoformat()
    narrowed = execute(
        "new_analysis.py", demo_production.env, tmp_path, project="demo", since=since, until=since
    )
    assert_charts_have_data("new_analysis.py", text_of(narrowed))


@pytest.mark.slow
def test_a_parameter_narrows_the_notebook(demo_production, tmp_path):
    """An injected project the lake does not hold stops the notebook with the lake's word."""
    with pytest.raises(Exception, match="project 'nope' not found in the lake"):
        execute("identity_consistency.py", demo_production.env, tmp_path, project="nope")


@pytest.mark.slow
def test_every_notebook_runs_on_an_empty_lake(tmp_path):
    """A fresh install's analyst opens the notebooks before any take is made: each runs,
    its charts say there is nothing yet instead of failing."""
    lake = tmp_path / "lake"
    write_state(lake, "catalog", {})
    env = {"TRULIENCE_HOME": str(tmp_path / "home"), "LAKE_URL": lake.as_uri()}
    outputs = {name: text_of(execute(name, env, tmp_path)) for name in NAMES}  # no error
    assert charts_of(outputs["production_overview.py"]) == {"funnel_chart": 0, "gantt_chart": 0}
    assert "no takes with identity scores yet" in outputs["identity_consistency.py"]
    assert "takes 0 (made 0)" in outputs["production_overview.py"]


# -- the figures' SQL --------------------------------------------------------------------


def test_every_figure_runs_on_an_empty_lake(tmp_path):
    write_state(tmp_path, "catalog", {})
    con = open_lake(tmp_path)
    assert figure_names() == list(FIGURES)
    for name in figure_names():
        assert figure(con, name).num_rows == 0, name


@pytest.mark.slow
def test_every_figure_has_rows_on_the_demo(demo_production):
    con = open_lake(demo_production.lake)
    rows = {name: figure(con, name) for name in figure_names()}
    assert all(t.num_rows > 0 for t in rows.values()), {n: t.num_rows for n, t in rows.items()}
    # the funnel's stages are production_figures' and add up to its takes
    takes = con.sql("SELECT takes FROM production_figures WHERE level = 'studio'").fetchall()
    assert sum(rows["funnel"].column("takes").to_pylist()) == takes[0][0]
    # the last point over time is the studio's GPU seconds per approved minute
    studio = con.sql(
        "SELECT gpu_s_per_approved_min FROM production_figures WHERE level = 'studio'"
    ).fetchall()[0][0]
    last = rows["gpu_per_approved_minute"].column("gpu_s_per_approved_min")[-1].as_py()
    assert last == pytest.approx(studio)
    # the Pareto counts every gate check once, refused or not
    checks = con.sql("SELECT count(*), count(*) FILTER (WHERE NOT passed) FROM qa_gates")
    pareto = rows["failure_pareto"]
    assert checks.fetchall()[0] == (
        sum(pareto.column("checks").to_pylist()),
        sum(pareto.column("failures").to_pylist()),
    )
    # the Gantt reaches back from the newest attempt: no hours back, only that one
    assert figure(con, "segment_gantt", hours=0.0).num_rows == 1


def test_a_figure_says_what_it_takes(tmp_path):
    write_state(tmp_path, "catalog", {})
    con = open_lake(tmp_path)
    with pytest.raises(LakeError, match="unknown figure 'pie'"):
        figure(con, "pie")
    with pytest.raises(LakeError, match="takes no parameter hours"):
        figure(con, "funnel", hours=1.0)


def test_lake_connection_reads_the_settings_and_iso_dates(tmp_path):
    write_state(tmp_path / "lake", "catalog", {})
    settings = Settings.from_env({"TRULIENCE_HOME": str(tmp_path)})
    con = lake_connection(settings, since="2026-11-01", until="2026-11-30")
    assert con.sql("SELECT count(*) FROM segments").fetchall() == [(0,)]
    with pytest.raises(LakeError, match="'11/01/2026' is not a date"):
        lake_connection(settings, since="11/01/2026")
    with pytest.raises(LakeError, match="before --since"):
        lake_connection(settings, since="2026-11-30", until="2026-11-01")
