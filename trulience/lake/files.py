"""Parquet datasets of the reporting lake (PRD-73): one folder per dataset, facts
partitioned by day (`<dataset>/date=YYYY-MM-DD/part-0.parquet`), dimensions as one file.

Every write replaces whole files atomically (write beside, then rename), so a reader (DuckDB,
a notebook, a dashboard) sees either the old partition or the new one, never half a file.
"""

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trulience.errors import TrulienceError

PART = "part-0.parquet"
STATE_DIR = "_state"


class LakeError(TrulienceError):
    """The lake cannot be read or written as asked."""


@dataclass(frozen=True)
class WriteReport:
    dataset: str
    partitions: tuple[str, ...]  # the day partitions rewritten (empty for a dimension)
    rows: int  # rows written by this export

    def describe(self) -> str:
        where = f"{len(self.partitions)} day partition(s)" if self.partitions else "one file"
        return f"{self.dataset}: {self.rows} row(s) in {where}"


def _write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)


def partition_dir(lake: Path, dataset: str, day: date) -> Path:
    return lake / dataset / f"date={day.isoformat()}"


def day_partitions(lake: Path, dataset: str) -> list[date]:
    """The days a fact dataset holds, oldest first."""
    folder = lake / dataset
    if not folder.is_dir():
        return []
    days = []
    for child in folder.iterdir():
        if child.name.startswith("date=") and (child / PART).exists():
            days.append(date.fromisoformat(child.name.removeprefix("date=")))
    return sorted(days)


def write_dimension(lake: Path, dataset: str, table: pa.Table) -> WriteReport:
    """Replace a small table whole (projects, characters, workers ...)."""
    _write_atomic(table, lake / dataset / PART)
    return WriteReport(dataset, (), table.num_rows)


def _days_of(table: pa.Table, column: str) -> pa.Array:
    values = table.column(column)
    if pa.types.is_timestamp(values.type):
        values = pc.cast(pc.cast(values, pa.timestamp("us", tz="UTC")), pa.date32())
    return values


def replace_days(
    lake: Path, dataset: str, table: pa.Table, days: Iterable[date], day_column: str
) -> WriteReport:
    """Rewrite the given day partitions of a fact dataset with exactly the rows of `table`
    (which holds every row of those days); a day with no rows left loses its partition."""
    day_values = _days_of(table, day_column)
    written = []
    for day in sorted(set(days)):
        rows = table.filter(pc.equal(day_values, pa.scalar(day, pa.date32())))
        folder = partition_dir(lake, dataset, day)
        if rows.num_rows == 0:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            _write_atomic(rows, folder / PART)
        written.append(day.isoformat())
    (lake / dataset).mkdir(parents=True, exist_ok=True)
    return WriteReport(dataset, tuple(written), table.num_rows)


def upsert_days(
    lake: Path, dataset: str, table: pa.Table, keys: list[str], day_column: str
) -> WriteReport:
    """Merge rows into their day partitions: a row replaces the stored row with the same
    key, others are kept (for sources that only say what changed, like Dagster runs)."""
    day_values = _days_of(table, day_column)
    written = []
    for day in sorted({d for d in day_values.to_pylist() if d is not None}):
        new = table.filter(pc.equal(day_values, pa.scalar(day, pa.date32())))
        path = partition_dir(lake, dataset, day) / PART
        if path.exists():
            old = pq.read_table(path, schema=table.schema)
            key_of = _row_keys(new, keys)
            kept = pc.invert(pc.is_in(_row_keys_array(old, keys), value_set=key_of))
            new = pa.concat_tables([old.filter(kept), new])
        _write_atomic(new.sort_by([(k, "ascending") for k in keys]), path)
        written.append(day.isoformat())
    (lake / dataset).mkdir(parents=True, exist_ok=True)
    return WriteReport(dataset, tuple(written), table.num_rows)


def _row_keys_array(table: pa.Table, keys: list[str]) -> pa.Array:
    if len(keys) == 1:
        return pc.cast(table.column(keys[0]), pa.string())
    parts = [pc.cast(table.column(k), pa.string()) for k in keys]
    return pc.binary_join_element_wise(*parts, "\x1f")


def _row_keys(table: pa.Table, keys: list[str]) -> pa.Array:
    return pc.unique(_row_keys_array(table, keys))


def ensure_dataset(lake: Path, dataset: str, schema: pa.Schema) -> None:
    """Give a dataset that has no rows yet an empty file, so readers see its columns."""
    folder = lake / dataset
    if folder.is_dir() and any(folder.rglob("*.parquet")):
        return
    _write_atomic(schema.empty_table(), folder / PART)


def drop_empty_marker(lake: Path, dataset: str) -> None:
    """Remove the empty file of a dataset that now has day partitions."""
    marker = lake / dataset / PART
    if marker.exists() and day_partitions(lake, dataset):
        marker.unlink()


# -- what was exported last -------------------------------------------------------------


def read_state(lake: Path, name: str) -> dict:
    path = lake / STATE_DIR / f"{name}.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LakeError(f"{path}: unreadable export state ({exc}); delete it to re-export") from exc


def write_state(lake: Path, name: str, state: dict) -> None:
    path = lake / STATE_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(state, indent=2, default=str))
    os.replace(temporary, path)


def utc_now() -> datetime:
    return datetime.now(UTC)
