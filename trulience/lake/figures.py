"""The notebooks' charts, one SQL definition per figure (issue 16).

Each figure reads one SQL file over the shared lake views: the dashboards' query where a
dashboard already draws it (the render timeline, a character's consistency), otherwise a file in
`sql/reports/figures/`. The notebooks draw them (hvPlot); the core only runs the SQL and
hands back Arrow tables, so a chart and a report or dashboard never disagree.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from trulience.lake.dashboards import DASHBOARDS_DIR
from trulience.lake.files import LakeError
from trulience.lake.reports import REPORTS_DIR

FIGURES_DIR = REPORTS_DIR / "figures"
DAY_H = 24.0


@dataclass(frozen=True)
class Figure:
    """Where a figure's SQL lives and the parameters it binds unless told otherwise."""

    sql: Path
    defaults: dict[str, Any] = field(default_factory=dict)
    title: str = ""


FIGURES: dict[str, Figure] = {
    "funnel": Figure(FIGURES_DIR / "funnel.sql", title="Production funnel by stage"),
    "gpu_per_approved_minute": Figure(
        FIGURES_DIR / "gpu_per_approved_minute.sql",
        title="GPU seconds per approved minute over time",
    ),
    "failure_pareto": Figure(
        FIGURES_DIR / "failure_pareto.sql", title="QA refusals by gate, workflow and worker"
    ),
    "identity_scores": Figure(
        FIGURES_DIR / "identity_scores.sql", title="Identity score distribution per character"
    ),
    "segment_gantt": Figure(
        DASHBOARDS_DIR / "timeline.sql",
        {"project": None, "hours": DAY_H},
        "One day's segment attempts per worker",
    ),
    "take_consistency": Figure(
        DASHBOARDS_DIR / "consistency.sql",
        {"project": None, "character": None},
        "Identity per take of a character, outliers flagged",
    ),
}


def figure_names() -> list[str]:
    """Every figure the notebooks draw, in order."""
    return list(FIGURES)


def figure(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pa.Table:
    """The rows of figure `name` on a connection from `open_lake` (already narrowed to a
    project and dates, or not). `params` override the figure's own (`hours` of the Gantt,
    say); a figure without parameters takes none."""
    if name not in FIGURES:
        raise LakeError(f"unknown figure {name!r}: choose one of {', '.join(FIGURES)}")
    chosen = FIGURES[name]
    unknown = set(params) - set(chosen.defaults)
    if unknown:
        raise LakeError(f"figure {name!r} takes no parameter {', '.join(sorted(unknown))}")
    bound = chosen.defaults | params
    return con.sql(chosen.sql.read_text(), params=bound or None).to_arrow_table()
