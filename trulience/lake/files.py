"""Parquet datasets of the reporting lake (PRD-73): one folder per dataset, facts
partitioned by day (`<dataset>/date=YYYY-MM-DD/part-0.parquet`), dimensions as one file.

The lake is a local folder (the embedded default, `$TRULIENCE_HOME/lake`) or the same layout
on object storage (`LAKE_URL=s3://bucket/prefix`), through fsspec. Every write replaces whole
files: locally written beside and renamed, on object storage one PUT of the whole object,
so a reader (DuckDB, a notebook, a dashboard) sees the old file or the new one, never half.
"""

import io
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trulience.config import Settings, mask_secrets
from trulience.errors import TrulienceError

PART = "part-0.parquet"
STATE_DIR = "_state"


class LakeError(TrulienceError):
    """The lake cannot be read or written as asked."""


@dataclass(frozen=True)
class Lake:
    """Where the lake lives: a `file://`, `s3://` or `memory://` URL and fsspec options."""

    url: str
    options: dict = field(default_factory=dict, hash=False, compare=False)

    @cached_property
    def fs(self) -> fsspec.AbstractFileSystem:
        return fsspec.filesystem(self.protocol, **self.options)

    @property
    def protocol(self) -> str:
        return urlsplit(self.url).scheme or "file"

    @property
    def local(self) -> bool:
        return self.protocol == "file"

    @property
    def root(self) -> str:
        """The lake's path as its filesystem names it (no protocol)."""
        if self.local:
            return str(Path(urlsplit(self.url).path))
        return self.url.split("://", 1)[1].rstrip("/")

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def uri(self, *parts: str) -> str:
        """A path DuckDB can read: plain for local files, with the protocol otherwise."""
        path = self.path(*parts)
        return path if self.local else f"{self.protocol}://{path}"

    def __str__(self) -> str:
        # shown in errors, logs and notebooks: never with the URL's credentials
        return mask_secrets(self.root if self.local else self.url)

    def __repr__(self) -> str:
        return f"Lake({mask_secrets(self.url)!r})"

    def exists(self, *parts: str) -> bool:
        return self.fs.exists(self.path(*parts))

    def files(self, *parts: str) -> list[str]:
        """Every Parquet file under a folder."""
        folder = self.path(*parts)
        if not self.fs.exists(folder):
            return []
        return sorted(p for p in self.fs.find(folder) if p.endswith(".parquet"))

    def write_table(self, table: pa.Table, *parts: str) -> None:
        path = self.path(*parts)
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            temporary = f"{path}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
            pq.write_table(table, temporary, compression="zstd")
            os.replace(temporary, path)
            return
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        self.fs.pipe_file(path, buffer.getvalue())  # one PUT: the whole object or nothing

    def read_table(self, schema: pa.Schema, *parts: str) -> pa.Table:
        with self.fs.open(self.path(*parts), "rb") as handle:
            return pq.read_table(handle, schema=schema)

    def remove(self, *parts: str) -> None:
        path = self.path(*parts)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def read_text(self, *parts: str) -> str | None:
        path = self.path(*parts)
        if not self.fs.exists(path):
            return None
        with self.fs.open(path, "r") as handle:
            return handle.read()

    def write_text(self, text: str, *parts: str) -> None:
        path = self.path(*parts)
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            temporary = f"{path}.tmp"
            Path(temporary).write_text(text)
            os.replace(temporary, path)
        else:
            self.fs.pipe_file(path, text.encode())


def as_lake(lake: "Lake | Path | str") -> Lake:
    """A Lake from a Lake, a local folder, or a URL."""
    if isinstance(lake, Lake):
        return lake
    text = str(lake)
    if "://" in text:
        return Lake(text)
    return Lake(Path(text).resolve().as_uri())


@dataclass(frozen=True)
class WriteReport:
    dataset: str
    partitions: tuple[str, ...]  # the day partitions rewritten (empty for a dimension)
    rows: int  # rows written by this export

    def describe(self) -> str:
        where = f"{len(self.partitions)} day partition(s)" if self.partitions else "one file"
        return f"{self.dataset}: {self.rows} row(s) in {where}"


def _partition(day: date) -> str:
    return f"date={day.isoformat()}"


def day_partitions(lake: "Lake | Path | str", dataset: str) -> list[date]:
    """The days a fact dataset holds, oldest first."""
    lake = as_lake(lake)
    days = set()
    for file in lake.files(dataset):
        folder = file.rsplit("/", 2)[-2]
        if folder.startswith("date="):
            days.add(date.fromisoformat(folder.removeprefix("date=")))
    return sorted(days)


def write_dimension(lake: "Lake | Path | str", dataset: str, table: pa.Table) -> WriteReport:
    """Replace a small table whole (projects, characters, workers ...)."""
    as_lake(lake).write_table(table, dataset, PART)
    return WriteReport(dataset, (), table.num_rows)


def _days_of(table: pa.Table, column: str) -> pa.Array:
    values = table.column(column)
    if pa.types.is_timestamp(values.type):
        values = pc.cast(pc.cast(values, pa.timestamp("us", tz="UTC")), pa.date32())
    return values


def replace_days(
    lake: "Lake | Path | str",
    dataset: str,
    table: pa.Table,
    days: Iterable[date],
    day_column: str,
) -> WriteReport:
    """Rewrite the given day partitions of a fact dataset with exactly the rows of `table`
    (which holds every row of those days); a day with no rows left loses its partition."""
    lake = as_lake(lake)
    day_values = _days_of(table, day_column)
    written = []
    for day in sorted(set(days)):
        rows = table.filter(pc.equal(day_values, pa.scalar(day, pa.date32())))
        if rows.num_rows == 0:
            lake.remove(dataset, _partition(day))
        else:
            lake.write_table(rows, dataset, _partition(day), PART)
        written.append(day.isoformat())
    return WriteReport(dataset, tuple(written), table.num_rows)


def upsert_days(
    lake: "Lake | Path | str", dataset: str, table: pa.Table, keys: list[str], day_column: str
) -> WriteReport:
    """Merge rows into their day partitions: a row replaces the stored row with the same
    key, others are kept (for sources that only say what changed, like Dagster runs)."""
    lake = as_lake(lake)
    day_values = _days_of(table, day_column)
    written = []
    for day in sorted({d for d in day_values.to_pylist() if d is not None}):
        new = table.filter(pc.equal(day_values, pa.scalar(day, pa.date32())))
        if lake.exists(dataset, _partition(day), PART):
            old = lake.read_table(table.schema, dataset, _partition(day), PART)
            kept = pc.invert(pc.is_in(_row_keys_array(old, keys), value_set=_row_keys(new, keys)))
            new = pa.concat_tables([old.filter(kept), new])
        lake.write_table(
            new.sort_by([(k, "ascending") for k in keys]), dataset, _partition(day), PART
        )
        written.append(day.isoformat())
    return WriteReport(dataset, tuple(written), table.num_rows)


def _row_keys_array(table: pa.Table, keys: list[str]) -> pa.Array:
    if len(keys) == 1:
        return pc.cast(table.column(keys[0]), pa.string())
    parts = [pc.cast(table.column(k), pa.string()) for k in keys]
    return pc.binary_join_element_wise(*parts, "\x1f")


def _row_keys(table: pa.Table, keys: list[str]) -> pa.Array:
    return pc.unique(_row_keys_array(table, keys))


def ensure_dataset(lake: "Lake | Path | str", dataset: str, schema: pa.Schema) -> None:
    """Give a dataset that has no rows yet an empty file, so readers see its columns."""
    lake = as_lake(lake)
    if not lake.files(dataset):
        lake.write_table(schema.empty_table(), dataset, PART)


def drop_empty_marker(lake: "Lake | Path | str", dataset: str) -> None:
    """Remove the empty file of a dataset that now has day partitions."""
    lake = as_lake(lake)
    if lake.exists(dataset, PART) and day_partitions(lake, dataset):
        lake.remove(dataset, PART)


# -- what was exported last -------------------------------------------------------------


def read_state(lake: "Lake | Path | str", name: str) -> dict:
    lake = as_lake(lake)
    text = lake.read_text(STATE_DIR, f"{name}.json")
    if text is None:
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LakeError(
            f"{lake.uri(STATE_DIR, name + '.json')}: unreadable export state ({exc}); "
            "delete it to re-export"
        ) from exc


def write_state(lake: "Lake | Path | str", name: str, state: dict) -> None:
    as_lake(lake).write_text(json.dumps(state, indent=2, default=str), STATE_DIR, f"{name}.json")


def has_state(lake: "Lake | Path | str") -> bool:
    """Whether anything was ever exported here."""
    return as_lake(lake).exists(STATE_DIR)


def utc_now() -> datetime:
    return datetime.now(UTC)


def lake_of(settings: Settings) -> Lake:
    """The lake the settings name (`LAKE_URL`, default the folder under TRULIENCE_HOME)."""
    return Lake(settings.effective_lake_url, settings.lake_options)
