"""Reports over the lake with DuckDB (PRD-73): the SQL lives in `sql/reports/`, one file per
report, over views of the lake's datasets that every report, notebook and dashboard shares.
"""

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from trulience.config import Settings
from trulience.lake.catalog_export import DATASETS
from trulience.lake.files import Lake, LakeError, as_lake, has_state, lake_of, read_state
from trulience.lake.run_facts import RUNS, STEPS

REPORTS_DIR = Path(__file__).resolve().parents[2] / "sql" / "reports"
SCHEMAS: dict[str, pa.Schema] = DATASETS | {"dagster_runs": RUNS, "dagster_steps": STEPS}
FORMATS = ("table", "csv", "parquet")


def report_names() -> list[str]:
    """The reports `sql/reports/` defines (every file but the shared views)."""
    return sorted(p.stem for p in REPORTS_DIR.glob("*.sql") if p.stem != "views")


# Where a report table carries the lake export time it reflects (Parquet keeps it as
# file metadata; the terminal table prints it first; CSV as a column of every row).
AS_OF = b"as_of"
RUNS_AS_OF = b"runs_as_of"


def as_of(lake: "Lake | Path | str") -> dict[bytes, bytes]:
    """When the lake's catalog facts (and the Dagster run facts, if ever) were exported, as
    report table metadata: ISO timestamps in UTC, "never" when not exported."""

    def stamp(source: str) -> bytes:
        when = read_state(lake, source).get("exported_at")
        if not when:
            return b"never"
        return datetime.fromisoformat(when).astimezone(UTC).isoformat(timespec="seconds").encode()

    return {AS_OF: stamp("catalog"), RUNS_AS_OF: stamp("runs")}


def describe_as_of(table: pa.Table) -> str | None:
    """The report's line `as of <catalog export> (...; run facts <runs export>)`, None when
    the table does not say."""
    meta = table.schema.metadata or {}
    if AS_OF not in meta:
        return None
    text = f"as of {meta[AS_OF].decode()} (lake export of the catalog"
    runs = meta.get(RUNS_AS_OF, b"never").decode()
    return text + (f"; run facts {runs})" if runs != "never" else ")")


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
            known_text = f"known: {', '.join(known)}" if known else "no project yet"
            raise LakeError(f"project {project!r} not found in the lake ({known_text})")
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


def lake_connection(
    settings: Settings | None = None,
    *,
    project: str | None = None,
    since: "date | str | None" = None,
    until: "date | str | None" = None,
) -> duckdb.DuckDBPyConnection:
    """`open_lake` on the lake the settings name (default: the environment's), for a
    notebook: `since` / `until` may be ISO dates as a papermill parameter passes them."""
    lake = lake_of(settings or Settings.from_env())
    return open_lake(lake, project=project, since=_day(since), until=_day(until))


def _day(value: "date | str | None") -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise LakeError(f"{value!r} is not a date (YYYY-MM-DD)") from error
    return value


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
    table = con.sql((REPORTS_DIR / f"{name}.sql").read_text()).to_arrow_table()
    return table.replace_schema_metadata(as_of(lake))


def format_table(table: pa.Table) -> str:
    """A plain aligned text table for the terminal, after its "as of" line."""
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

    stated = describe_as_of(table)
    out = [stated] if stated else []
    out += [line(header), line(["-" * w for w in widths])]
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
    """The table as CSV; a last column `as_of` carries the export time on every row (a CSV
    has no place for metadata that every reader keeps)."""
    stamp = (table.schema.metadata or {}).get(AS_OF)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names + (["as_of"] if stamp else []))
    extra = [stamp.decode()] if stamp else []
    for row in table.to_pylist():
        writer.writerow(["" if v is None else v for v in row.values()] + extra)
    return out.getvalue()


def write_parquet(table: pa.Table, path: Path) -> None:
    """The table as a Parquet file, its "as of" in the file's key-value metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
