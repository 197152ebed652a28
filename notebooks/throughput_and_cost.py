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
# # Throughput and cost
#
# GPU seconds spent per segment attempt (retakes included: a take that failed QA cost GPU
# time too), per worker, workflow, scene type and resolution, and what that costs at a rate
# per GPU hour. `GPU_HOUR_RATE` is a parameter: set it to your provider's price.

# %%
import hvplot.polars  # noqa: F401  (the .hvplot accessor on polars frames)
import polars as pl

from trulience.config import Settings
from trulience.lake.figures import figure
from trulience.lake.files import lake_of
from trulience.lake.reports import as_of, lake_connection, run_report

# %% tags=["parameters"]
project = None  # a project slug, or None for every project
since = None  # "YYYY-MM-DD" (UTC, inclusive), or None
until = None
GPU_HOUR_RATE = 2.50  # currency units per GPU hour

# %%
lake = lake_of(Settings.from_env())
con = lake_connection(project=project, since=since, until=until)
print(f"lake: {lake}, as of {as_of(lake)[b'as_of'].decode()}")

# %% [markdown]
# ## Throughput per day, worker and workflow

# %%
throughput = pl.from_arrow(run_report(lake, "throughput", con))
throughput

# %% [markdown]
# ## GPU seconds per second of video, by scene type and resolution
# The basis of cost estimates: how much GPU time one second of finished video takes,
# counting every attempt.

# %%
per_second = con.sql(
    """SELECT scene_type, width || 'x' || height AS resolution,
              count(*) AS attempts,
              count(*) FILTER (WHERE NOT qa_passed) AS retaken,
              round(sum(compute_s), 3) AS gpu_s,
              round(sum(video_s) FILTER (WHERE qa_passed), 3) AS good_video_s,
              round(sum(compute_s) / nullif(sum(video_s) FILTER (WHERE qa_passed), 0), 4)
                  AS gpu_s_per_good_video_s
         FROM segments GROUP BY ALL ORDER BY scene_type, resolution"""
).pl()
per_second

# %% [markdown]
# ## Cost per project at the rate above
# GPU seconds and minutes as `production_figures` defines them (the report and the
# dashboards read the same view): every attempt's GPU time, per approved minute.

# %%
cost = con.sql(
    """SELECT project, round(gpu_s, 3) AS gpu_s, round(generated_min, 3) AS generated_min,
              round(approved_min, 3) AS approved_min, gpu_s_per_approved_min
         FROM production_figures WHERE level = 'project' ORDER BY project"""
).pl()
cost = cost.with_columns(
    (pl.col("gpu_s") / 3600 * GPU_HOUR_RATE).round(4).alias("cost"),
    (pl.col("gpu_s_per_approved_min") / 3600 * GPU_HOUR_RATE)
    .round(4)
    .alias("cost_per_approved_minute"),
)
cost

# %% [markdown]
# ### GPU seconds per approved minute over time
# At the end of each day, every attempt's GPU seconds so far over the minutes approved by
# then (figure `gpu_per_approved_minute`): the last point is the studio's figure in
# `trulience report production`. A rising line says retakes cost more than approvals bring.

# %%
over_time = pl.from_arrow(figure(con, "gpu_per_approved_minute"))
gpu_chart = over_time.hvplot.line(
    x="day", y="gpu_s_per_approved_min", ylabel="GPU s per approved minute", height=300
) * over_time.hvplot.scatter(x="day", y="gpu_s_per_approved_min", hover_cols=["gpu_s"])
gpu_chart

# %% [markdown]
# ## Failure Pareto: QA refusals by gate, workflow and worker
# Refusals per gate, per workflow and per worker, most first, with the share of all
# refusals they add up to (figure `failure_pareto`). The few bars on the left are where
# fixing one thing saves most retakes. A lake without a refusal shows every gate at zero.

# %%
checks = pl.from_arrow(figure(con, "failure_pareto"))


def pareto(dimension: str) -> pl.DataFrame:
    counted = checks.group_by(dimension).agg(pl.col("failures", "checks").sum())
    counted = counted.sort(["failures", dimension], descending=[True, False])
    total = counted["failures"].sum()
    return counted.with_columns(
        (pl.col("failures").cum_sum() / total if total else pl.lit(0.0)).alias("cumulative")
    )


bars = {"y": "failures", "hover_cols": ["checks", "cumulative"], "height": 240, "width": 720}
pareto_chart = (
    pareto("gate").hvplot.bar(x="gate", rot=45, **bars)
    + pareto("workflow").hvplot.bar(x="workflow", **bars)
    + pareto("worker").hvplot.bar(x="worker", **bars)
).cols(1)
pareto_chart

# %% [markdown]
# ## Batch estimates against what the batches used
# Each batch printed a GPU estimate with a 90 % range before it launched (`trulience batch
# create`); here is how the takes it made compare. A batch outside its range says the
# history it was estimated from no longer fits (new workflow, model or GPU).

# %%
estimates = con.sql(
    """SELECT batch_id, project, status, takes, delivered,
              estimate_low_s, estimate_gpu_s, estimate_high_s,
              round(actual_gpu_s, 3) AS actual_gpu_s,
              CASE WHEN actual_gpu_s BETWEEN estimate_low_s AND estimate_high_s THEN 'inside'
                   WHEN estimate_gpu_s IS NULL THEN 'no estimate'
                   ELSE 'outside' END AS range_check
         FROM batches ORDER BY batch_id"""
).pl()
estimates

# %%
budgets = con.sql(
    """SELECT b.project, b.gpu_seconds_limit, b.policy,
              coalesce(f.gpu_s, 0) AS used_gpu_s,
              b.gpu_seconds_limit - coalesce(f.gpu_s, 0) AS remaining_gpu_s
         FROM budgets b
         LEFT JOIN production_figures f ON f.level = 'project' AND f.project = b.project
        ORDER BY b.project"""
).pl()
budgets

# %% [markdown]
# ## Orchestration overhead
# Run wall time against the GPU seconds of its segments: what Dagster, QA, assembly and
# storage add around generation.

# %%
overhead = con.sql(
    """SELECT r.job, count(*) AS runs, round(sum(r.duration_s), 2) AS run_s,
              round(sum(s.gpu_s), 2) AS gpu_s
         FROM dagster_runs r
         LEFT JOIN (SELECT run_id, sum(compute_s) AS gpu_s FROM segments GROUP BY run_id) s
           USING (run_id)
        WHERE r.status = 'SUCCESS'
        GROUP BY r.job ORDER BY r.job"""
).pl()
overhead

# %%
print(
    f"{throughput['attempts'].sum()} segment attempts, {throughput['gpu_s'].sum():.3f} GPU s, "
    f"cost {cost['cost'].sum():.4f} at {GPU_HOUR_RATE}/GPU hour"
)
