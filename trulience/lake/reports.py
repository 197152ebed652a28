"""Reports over the lake with DuckDB (PRD-73): the SQL lives in `sql/reports/`, one file per
report, over views of the lake's datasets that every report, notebook and dashboard shares.
"""

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from trulience.lake.catalog_export import DATASETS
from trulience.lake.files import LakeError
from trulience.lake.run_facts import RUNS, STEPS

REPORTS_DIR = Path(__file__).resolve().parents[2] / "sql" / "reports"
SCHEMAS: dict[str, pa.Schema] = DATASETS | {"dagster_runs": RUNS, "dagster_steps": STEPS}
FORMATS = ("table", "csv", "parquet")


def report_names() -> list[str]:
    """The reports `sql/reports/` defines (every file but the shared views)."""
    return sorted(p.stem for p in REPORTS_DIR.glob("*.sql") if p.stem != "views")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_lake(lake: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake dataset plus the shared report views.
    A dataset not exported yet is an empty view with its columns, so queries still run."""
    if not (lake / "_state").is_dir():
        raise LakeError(
            f"{lake}: no lake here yet; export one with `trulience lake export` "
            "(or materialise the lake assets in Dagster)"
        )
    # Offline by design: never try to download an extension.
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    for name, schema in SCHEMAS.items():
        files = sorted((lake / name).rglob("*.parquet")) if (lake / name).is_dir() else []
        if files:
            pattern = _quote(str(lake / name / "**" / "*.parquet"))
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({pattern}, "
                "hive_partitioning = false, union_by_name = true)"
            )
        else:
            con.register(f"{name}_empty", schema.empty_table())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_empty")
    con.execute((REPORTS_DIR / "views.sql").read_text())
    return con


def run_report(lake: Path, name: str, con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """The named report as an Arrow table."""
    if name not in report_names():
        raise LakeError(f"unknown report {name!r}: choose one of {', '.join(report_names())}")
    con = con or open_lake(lake)
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
