# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A new analysis
#
# Copy this notebook to start one (`cp notebooks/new_analysis.py notebooks/<yours>.py`,
# then open it in `make notebooks`). `lake_connection()` gives an in-memory DuckDB with a
# view per lake dataset (`projects`, `characters`, `project_characters`, `scene_types`,
# `workers`, `scenes`, `segments`, `qa_gates`, `reviews`, `batches`, `budgets`,
# `dagster_runs`, `dagster_steps`) and the shared report views (`take_stages`,
# `production_figures`, ...), narrowed by the parameters below. The same questions can be
# asked of the Parquet files themselves with polars: three examples follow, each answered
# both ways.

# %%
import hvplot.polars  # noqa: F401  (the .hvplot accessor on polars frames)
import polars as pl

from trulience.config import Settings
from trulience.lake.files import lake_of
from trulience.lake.reports import SCHEMAS, lake_connection

# %% tags=["parameters"]
project = None  # a project slug, or None for every project
since = None  # "YYYY-MM-DD" (UTC, inclusive), or None
until = None

# %%
con = lake_connection(project=project, since=since, until=until)
lake = lake_of(Settings.from_env())

# %% [markdown]
# ## Reading the lake with polars
# Facts are partitioned by day (`segments/date=YYYY-MM-DD/part-0.parquet`), so
# `hive_partitioning=True` gives each row a `date` column and a filter on it reads only
# those days' files. Locally the lake is a folder; on object storage (`LAKE_URL=s3://...`)
# pass the same path as a URL with polars' storage options, for example
# `pl.scan_parquet("s3://bucket/prefix/segments/**/*.parquet", hive_partitioning=True,
# storage_options={"aws_access_key_id": ..., "aws_secret_access_key": ...,
# "aws_endpoint_url": ..., "aws_region": ...})` (the keys `LAKE_OPTIONS` holds for fsspec,
# in object_store's names).

# %%
FACT_DAY = {"segments": "created_at", "qa_gates": "created_at"}


def scan(dataset: str) -> pl.LazyFrame:
    """One lake dataset, narrowed like the DuckDB views above (empty, with its columns,
    before its first export)."""
    if lake.files(dataset):
        frame = pl.scan_parquet(
            lake.uri(dataset, "**", "*.parquet"), hive_partitioning=True, missing_columns="insert"
        )
    else:
        empty = pl.from_arrow(SCHEMAS[dataset].empty_table())
        frame = empty.lazy().with_columns(pl.lit(None, pl.Date).alias("date"))
    if project is not None:
        frame = frame.filter(pl.col("project") == project)
    if since is not None:
        frame = frame.filter(pl.col("date") >= pl.lit(since).str.to_date())
    if until is not None:
        frame = frame.filter(pl.col("date") <= pl.lit(until).str.to_date())
    return frame


# %% [markdown]
# ## 1. Which worker spent the most GPU seconds?

# %%
workers_sql = con.sql(
    """SELECT coalesce(worker, '(unknown)') AS worker, count(*) AS attempts,
              round(sum(compute_s), 3) AS gpu_s
         FROM segments GROUP BY ALL ORDER BY gpu_s DESC, worker"""
).pl()
workers_polars = (
    scan("segments")
    .group_by(pl.col("worker").fill_null("(unknown)"))
    .agg(
        pl.len().cast(pl.Int64).alias("attempts"), pl.col("compute_s").sum().round(3).alias("gpu_s")
    )
    .sort(["gpu_s", "worker"], descending=[True, False])
    .collect()
)
assert workers_sql.equals(workers_polars), (workers_sql, workers_polars)
workers_sql

# %%
worker_chart = workers_sql.hvplot.bar(x="worker", y="gpu_s", title="GPU seconds per worker")
worker_chart

# %% [markdown]
# ## 2. How many segment attempts did QA refuse, per scene type?

# %%
refused_sql = con.sql(
    """SELECT scene_type, count(*) AS attempts,
              count(*) FILTER (WHERE NOT qa_passed) AS refused
         FROM segments GROUP BY ALL ORDER BY scene_type"""
).pl()
refused_polars = (
    scan("segments")
    .group_by("scene_type")
    .agg(
        pl.len().cast(pl.Int64).alias("attempts"),
        (~pl.col("qa_passed")).sum().cast(pl.Int64).alias("refused"),
    )
    .sort("scene_type")
    .collect()
)
assert refused_sql.equals(refused_polars), (refused_sql, refused_polars)
refused_sql

# %% [markdown]
# ## 3. How close does each character's face stay to their identity, on average?

# %%
identity_sql = con.sql(
    """SELECT character, count(*) AS measured, round(avg(value), 4) AS mean_similarity
         FROM qa_gates WHERE gate = 'identity' AND value IS NOT NULL
        GROUP BY ALL ORDER BY character"""
).pl()
identity_polars = (
    scan("qa_gates")
    .filter((pl.col("gate") == "identity") & pl.col("value").is_not_null())
    .group_by("character")
    .agg(
        pl.len().cast(pl.Int64).alias("measured"),
        pl.col("value").mean().round(4).alias("mean_similarity"),
    )
    .sort("character")
    .collect()
)
assert identity_sql.equals(identity_polars), (identity_sql, identity_polars)
identity_sql
