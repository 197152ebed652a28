"""Export the catalog to the lake (PRD-73): small dimensions whole, facts by day.

Facts are incremental: each export asks the catalog which days have rows changed since the
last export (less an overlap, so a transaction that committed late with an older
`updated_at` is still seen) and rewrites exactly those day partitions from the catalog.
A day is always rewritten whole, so the lake never holds two versions of a row. What is
exported, dataset by dataset, is trulience/lake/catalog_datasets.py.
"""

from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow as pa

from trulience.lake.catalog_datasets import DATASETS, DIMENSIONS, FACTS  # noqa: F401
from trulience.lake.files import (
    Lake,
    WriteReport,
    drop_empty_marker,
    ensure_dataset,
    read_state,
    replace_days,
    write_dimension,
    write_state,
)
from trulience.progress import Progress

# Rows committed by a transaction that began before the last export but ended after it
# carry an older updated_at; re-reading this much history catches them.
OVERLAP = timedelta(minutes=10)


def _table(conn: psycopg.Connection, schema: pa.Schema, sql: str, params: dict) -> pa.Table:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays(
        [
            pa.array(list(values), type=field.type)
            for values, field in zip(columns, schema, strict=True)
        ],
        schema=schema,
    )


def export_catalog(
    conn: psycopg.Connection,
    lake: "Lake | Path",
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> list[WriteReport]:
    """Write the catalog's dimensions and the facts changed since the last export (every
    fact when `full` or on the first export). Returns what was written, per dataset;
    `progress` hears of each dataset as it is written ("dataset 3 of 12, ...")."""
    started = conn.execute("SELECT now()").fetchone()[0]
    state = {} if full else read_state(lake, "catalog")
    since = (
        datetime.fromisoformat(state["exported_at"]) - OVERLAP
        if state.get("exported_at")
        else datetime(1970, 1, 1, tzinfo=started.tzinfo)
    )
    if progress is not None:
        progress.start(len(DIMENSIONS) + len(FACTS))

    def written(report: WriteReport, detail: str | None = None) -> WriteReport:
        if progress is not None:
            progress.step(progress.done, detail or report.describe())
        return report

    reports = [
        written(write_dimension(lake, d.name, _table(conn, d.schema, d.sql, {})))
        for d in DIMENSIONS
    ]
    for fact in FACTS:
        days: list[date] = [row[0] for row in conn.execute(fact.changed_sql, {"since": since})]
        if days:
            table = _table(conn, fact.schema, fact.rows_sql, {"days": days})
            report = replace_days(lake, fact.name, table, days, fact.day_column)
            drop_empty_marker(lake, fact.name)
        else:
            report = WriteReport(fact.name, (), 0)
        ensure_dataset(lake, fact.name, fact.schema)
        reports.append(written(report, None if days else f"{fact.name}: no day changed"))
    write_state(lake, "catalog", {"exported_at": started.isoformat()})
    return reports
