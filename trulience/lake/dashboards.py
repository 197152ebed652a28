"""What the studio dashboards show (PRD-42, PRD-41, PRD-90, PRD-64, PRD-94), read from the
lake.

Each panel's query is a file in `sql/reports/dashboards/` over the shared lake views (not a
CLI report); this module runs them with the project filter bound and hands the app Arrow
tables and small records, so the app only draws.
"""

from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from trulience.lake.files import Lake, LakeError, read_state
from trulience.lake.reports import REPORTS_DIR, open_lake

DASHBOARDS_DIR = REPORTS_DIR / "dashboards"
# The render timeline's default window: a week back from the newest attempt.
WEEK_H = 7 * 24.0


@dataclass(frozen=True, slots=True)
class Pulse:
    """Production status of one project, or of the whole studio (PRD-42). The figures are
    `production_figures`' (sql/reports/views.sql), the same as `trulience report
    production` prints."""

    project: str
    characters: int
    characters_ready: int
    takes: int  # newest takes; the six stages below sum to it
    in_flight: int
    awaiting_review: int
    approved: int  # approved, not delivered yet
    delivered: int
    rejected: int
    failed: int
    takes_made: int  # every take ever made, older ones included
    generated_min: float
    approved_min: float  # approved or delivered
    segment_attempts: int
    gpu_s: float
    gpu_s_per_approved_min: float | None  # None before anything is approved

    @classmethod
    def of_row(cls, row: dict[str, Any], label: str | None = None) -> "Pulse":
        """A pulse from a row of `dashboards/pulse.sql` (`label` names a studio row)."""
        values = {f.name: row[f.name] for f in fields(cls)}
        return cls(**values | {"project": row["project"] or label or "all projects"})

    @classmethod
    def nothing(cls, label: str) -> "Pulse":
        """The pulse of a project the lake does not hold: every figure zero."""
        values: dict[str, Any] = {f.name: 0 for f in fields(cls)}
        return cls(**values | {"project": label, "gpu_s_per_approved_min": None})


@dataclass(frozen=True, slots=True)
class Dashboards:
    """Everything the dashboards draw for one project filter, read in one go."""

    project: str | None  # None: every project
    projects: list[str]  # every project in the lake, for the filter
    exported_at: datetime | None  # when the catalog was last exported to the lake
    runs_exported_at: datetime | None  # when the Dagster run facts were
    pulse: Pulse
    pulse_by_project: list[Pulse]
    performance: pa.Table  # per workflow and per worker (column `dimension`)
    trend: pa.Table  # per day, worker and workflow
    timeline: pa.Table  # one row per placed segment attempt
    failures: pa.Table  # QA gate refusals by cause, workflow and worker
    failed_runs: pa.Table  # orchestrator runs that failed
    failed_runs_by_job: pa.Table
    consistency: pa.Table  # one row per take with identity scores, outliers flagged


def query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pa.Table:
    """Run `sql/reports/dashboards/<name>.sql` with its parameters bound."""
    sql = (DASHBOARDS_DIR / f"{name}.sql").read_text()
    return con.sql(sql, params=params).to_arrow_table()


def exported_at(lake: "Lake | Path", source: str = "catalog") -> datetime | None:
    """When `source` ("catalog" or "runs") was last exported to the lake (None: never)."""
    stamp = read_state(lake, source).get("exported_at")
    return datetime.fromisoformat(stamp) if stamp else None


def projects(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every project slug in the lake, in order."""
    return [row[0] for row in con.sql("SELECT project FROM projects ORDER BY project").fetchall()]


def _pulse_rows(con: duckdb.DuckDBPyConnection, project: str | None) -> list[dict[str, Any]]:
    return query(con, "pulse", project=project).to_pylist()


def pulses(con: duckdb.DuckDBPyConnection, project: str | None = None) -> list[Pulse]:
    """The pulse of each project (only `project`'s when given)."""
    return [Pulse.of_row(r) for r in _pulse_rows(con, project) if r["project"] is not None]


def pulse(con: duckdb.DuckDBPyConnection, project: str | None = None) -> Pulse:
    """The pulse of `project`, or of the whole studio (its own ratio, not a sum of ratios)."""
    return _pulse_of(_pulse_rows(con, project), project)


def _pulse_of(rows: list[dict[str, Any]], project: str | None) -> Pulse:
    label = project or "all projects"
    wanted = [r for r in rows if r["project"] == project]
    return Pulse.of_row(wanted[0], label) if wanted else Pulse.nothing(label)


def performance(con: duckdb.DuckDBPyConnection, project: str | None = None) -> pa.Table:
    """Segment attempts and GPU time per workflow and per worker (column `dimension`)."""
    return query(con, "performance", project=project)


def performance_trend(con: duckdb.DuckDBPyConnection, project: str | None = None) -> pa.Table:
    """Segment attempts and GPU time per day, worker and workflow."""
    return query(con, "performance_trend", project=project)


def timeline(
    con: duckdb.DuckDBPyConnection, project: str | None = None, hours: float | None = None
) -> pa.Table:
    """Segment attempts per worker with start and finish, within `hours` of the newest."""
    return query(con, "timeline", project=project, hours=hours)


def failures(con: duckdb.DuckDBPyConnection, project: str | None = None) -> pa.Table:
    """QA gate refusals counted by cause, workflow and worker."""
    return query(con, "failures_by_cause", project=project)


def failed_runs(con: duckdb.DuckDBPyConnection, project: str | None = None) -> pa.Table:
    """Orchestrator runs that ended in failure, newest first."""
    return query(con, "failed_runs", project=project)


def consistency(
    con: duckdb.DuckDBPyConnection, project: str | None = None, character: str | None = None
) -> pa.Table:
    """Every take with identity scores (of `project` and `character` when given), one row
    per take: median and lowest identity, robust z-score, outlier flag and reason (PRD-94;
    the rule is the catalog's view take_consistency)."""
    return query(con, "consistency", project=project, character=character)


def count_by(table: pa.Table, column: str, value: str | None = None) -> pa.Table:
    """Rows of `table` per `column` (or the sum of `value`), most first."""
    if value is None:
        grouped = table.group_by(column).aggregate([([], "count_all")])
        grouped = grouped.rename_columns([column, "count"])
    else:
        grouped = table.group_by(column).aggregate([(value, "sum")])
        grouped = grouped.rename_columns([column, value])
    total = grouped.column_names[1]
    return grouped.sort_by([(total, "descending"), (column, "ascending")])


def load(
    lake: "Lake | Path", project: str | None = None, timeline_hours: float | None = WEEK_H
) -> Dashboards:
    """Read every dashboard for `project` (None: all) from the lake in one connection.
    Raises LakeError when there is no lake yet or it cannot be read."""
    try:
        return _load(lake, project, timeline_hours)
    except duckdb.Error as error:
        # e.g. files written by an older export, missing a column the views now need
        raise LakeError(
            f"{lake}: the lake could not be read ({str(error).splitlines()[0]}); "
            "rewrite it with `trulience lake export --full`"
        ) from error


def _load(lake: "Lake | Path", project: str | None, timeline_hours: float | None) -> Dashboards:
    con = open_lake(lake)
    try:
        runs = failed_runs(con, project)
        rows = _pulse_rows(con, project)
        return Dashboards(
            project=project,
            projects=projects(con),
            exported_at=exported_at(lake, "catalog"),
            runs_exported_at=exported_at(lake, "runs"),
            pulse=_pulse_of(rows, project),
            pulse_by_project=[Pulse.of_row(r) for r in rows if r["project"] is not None],
            performance=performance(con, project),
            trend=performance_trend(con, project),
            timeline=timeline(con, project, timeline_hours),
            failures=failures(con, project),
            failed_runs=runs,
            failed_runs_by_job=count_by(runs, "job"),
            consistency=consistency(con, project),
        )
    finally:
        con.close()
