"""Reports over the lake with DuckDB (PRD-73): the SQL lives in `sql/reports/`, one file per
report, over views of the lake's datasets that every report, notebook and dashboard shares.
"""

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from trulience.lake.catalog_export import DATASETS
from trulience.lake.files import Lake, LakeError, as_lake, has_state
from trulience.lake.run_facts import RUNS, STEPS

REPORTS_DIR = Path(__file__).resolve().parents[2] / "sql" / "reports"
SCHEMAS: dict[str, pa.Schema] = DATASETS | {"dagster_runs": RUNS, "dagster_steps": STEPS}
FORMATS = ("table", "csv", "parquet")


def report_names() -> list[str]:
    """The reports `sql/reports/` defines (every file but the shared views)."""
    return sorted(p.stem for p in REPORTS_DIR.glob("*.sql") if p.stem != "views")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Which column says when a fact happened, for --since / --until.
_WHEN = {
    "scenes": "created_at",
    "segments": "created_at",
    "qa_gates": "created_at",
    "reviews": "created_at",
    "dagster_runs": "created_at",
    "dagster_steps": "run_created_at",
}


def open_lake(
    lake: "Lake | Path | str",
    *,
    project: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake dataset plus the shared report views,
    optionally narrowed to one project and to facts from `since` to `until` (inclusive days,
    UTC). A dataset not exported yet is an empty view with its columns, so queries run."""
    lake = as_lake(lake)
    if not has_state(lake):
        raise LakeError(
            f"{lake}: no lake here yet; export one with `trulience lake export` "
            "(or materialise the lake assets in Dagster)"
        )
    if since and until and until < since:
        raise LakeError(f"--until {until} is before --since {since}")
    # Offline by design: never try to download an extension.
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    if not lake.local:  # object storage is read through fsspec (no httpfs extension)
        con.register_filesystem(lake.fs)
    for name, schema in SCHEMAS.items():
        if lake.files(name):
            pattern = _quote(lake.uri(name, "**", "*.parquet"))
            con.execute(
                f"CREATE VIEW _all_{name} AS SELECT * FROM read_parquet({pattern}, "
                "hive_partitioning = false, union_by_name = true)"
            )
        else:
            con.register(f"_all_{name}", schema.empty_table())
    if project is not None:
        known = [r[0] for r in con.sql("SELECT project FROM _all_projects ORDER BY 1").fetchall()]
        if project not in known:
            raise LakeError(
                f"project {project!r} is not in the lake (projects: {', '.join(known) or 'none'})"
            )
    for name, schema in SCHEMAS.items():
        where = []
        if project is not None and "project" in schema.names:
            where.append(f"project = {_quote(project)}")
        elif project is not None and name == "dagster_runs":
            where.append(
                "character IN (SELECT character FROM _all_project_characters "
                f"WHERE project = {_quote(project)})"
            )
        elif project is not None and name == "dagster_steps":
            where.append("run_id IN (SELECT run_id FROM dagster_runs)")
        if name in _WHEN and since is not None:
            where.append(f"{_WHEN[name]} >= TIMESTAMPTZ {_quote(since.isoformat() + ' 00:00Z')}")
        if name in _WHEN and until is not None:
            end = (until + timedelta(days=1)).isoformat()
            where.append(f"{_WHEN[name]} < TIMESTAMPTZ {_quote(end + ' 00:00Z')}")
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM _all_{name}{condition}")
    con.execute((REPORTS_DIR / "views.sql").read_text())
    return con


def run_report(
    lake: "Lake | Path | str",
    name: str,
    con: duckdb.DuckDBPyConnection | None = None,
    **narrowing: object,
) -> pa.Table:
    """The named report as an Arrow table (`narrowing`: project, since, until; see
    `open_lake`)."""
    if name not in report_names():
        raise LakeError(f"unknown report {name!r}: choose one of {', '.join(report_names())}")
    if con is not None and narrowing:
        # an open connection's views are already narrowed (or not): say so, never ignore it
        raise LakeError("narrow the lake when opening it: open_lake(lake, project=..., ...)")
    con = con or open_lake(lake, **narrowing)
    return con.sql((REPORTS_DIR / f"{name}.sql").read_text()).to_arrow_table()


def format_table(table: pa.Table) -> str:
    """A plain aligned text table for the terminal."""
    header = table.column_names
    rows = [["" if v is None else _cell(v) for v in row.values()] for row in table.to_pylist()]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    numeric = [
        pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
        for f in table.schema
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return (
            f"{value:.4g}"
            if abs(value) < 1e-3 and value
            else f"{value:,.3f}".rstrip("0").rstrip(".")
        )
    return str(value)


def to_csv(table: pa.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow(["" if v is None else v for v in row.values()])
    return out.getvalue()


def write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
