"""Run and step facts from the orchestrator, in the lake (PRD-73, PRD-41, PRD-90).

The Dagster side reads runs updated since the last export and hands plain rows here; runs
change state (queued, started, success), so they are merged into their day partitions by
run id rather than appended.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from trulience.lake.files import (
    Lake,
    WriteReport,
    drop_empty_marker,
    ensure_dataset,
    read_state,
    upsert_days,
    write_state,
)

TS = pa.timestamp("us", tz="UTC")
OVERLAP = timedelta(minutes=10)

RUNS = pa.schema(
    [
        ("run_id", pa.string()),
        ("job", pa.string()),
        ("status", pa.string()),
        ("partition", pa.string()),
        ("character", pa.string()),
        ("scene_type", pa.string()),
        ("batch", pa.string()),
        ("priority", pa.int32()),
        ("backfill_id", pa.string()),
        ("launched_by", pa.string()),
        ("created_at", TS),
        ("started_at", TS),
        ("ended_at", TS),
        ("duration_s", pa.float64()),
        ("updated_at", TS),
    ]
)

STEPS = pa.schema(
    [
        ("run_id", pa.string()),
        ("job", pa.string()),
        ("step_key", pa.string()),
        ("status", pa.string()),
        ("attempts", pa.int32()),
        ("partition", pa.string()),
        ("started_at", TS),
        ("ended_at", TS),
        ("duration_s", pa.float64()),
        ("run_created_at", TS),
    ]
)


def since(lake: "Lake | Path") -> datetime | None:
    """Where the next export of runs starts (None: from the beginning)."""
    stamp = read_state(lake, "runs").get("exported_at")
    return datetime.fromisoformat(stamp) - OVERLAP if stamp else None


def write_run_facts(
    lake: "Lake | Path",
    runs: Sequence[dict[str, Any]],
    steps: Sequence[dict[str, Any]],
    exported_at: datetime,
) -> list[WriteReport]:
    """Merge run and step rows (dicts keyed by the schemas' column names) into the lake."""
    reports = []
    for name, schema, rows, keys, day in (
        ("dagster_runs", RUNS, runs, ["run_id"], "created_at"),
        ("dagster_steps", STEPS, steps, ["run_id", "step_key"], "run_created_at"),
    ):
        unknown = {k for row in rows for k in row} - set(schema.names)
        if unknown:
            raise ValueError(f"{name}: unknown column(s) {sorted(unknown)}")
        table = pa.Table.from_pylist(list(rows), schema=schema)
        if table.num_rows:
            reports.append(upsert_days(lake, name, table, keys, day))
            drop_empty_marker(lake, name)
        else:
            reports.append(WriteReport(name, (), 0))
        ensure_dataset(lake, name, schema)
    write_state(lake, "runs", {"exported_at": exported_at.isoformat()})
    return reports
