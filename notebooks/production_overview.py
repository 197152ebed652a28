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
# # Production overview
#
# Where every take stands, per project and scene type, from the Parquet lake
# (`$TRULIENCE_HOME/lake`, refreshed by the `lake` job every 15 minutes or by
# `trulience lake export`). The same numbers as `trulience report production`.

# %%
import holoviews as hv
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

# %%
lake = lake_of(Settings.from_env())
con = lake_connection(project=project, since=since, until=until)
print(f"lake: {lake}, as of {as_of(lake)[b'as_of'].decode()}")

# %% [markdown]
# ## Production by project and scene type

# %%
production = pl.from_arrow(run_report(lake, "production", con))
production

# %% [markdown]
# ## Every take by stage
# The newest take of each character x scene type, each in exactly one stage; a rejected
# take waits for its regenerated segments.

# %%
stages = con.sql(
    """SELECT project, stage, count(*) AS takes, round(sum(video_s) / 60, 3) AS minutes
         FROM take_stages GROUP BY ALL ORDER BY project, stage"""
).pl()
stages

# %% [markdown]
# ### The production funnel
# The same stages as a chart, in the order a take moves through them (figure `funnel`).

# %%
funnel = pl.from_arrow(figure(con, "funnel"))
funnel_chart = (
    funnel.hvplot.bar(
        x="stage", y="takes", by="project", stacked=True, title="Newest takes by stage", height=320
    )
    if funnel.height
    else hv.Div("<p>No take in the lake yet: the funnel fills once takes are made.</p>")
)
funnel_chart

# %%
by_character = con.sql(
    """SELECT character, scene_type, take, status, stage, review_decision, reviewer,
              round(video_s, 2) AS seconds
         FROM take_stages ORDER BY character, scene_type"""
).pl()
by_character

# %% [markdown]
# ## Characters ready for generation

# %%
ready = con.sql(
    """SELECT project, count(*) AS characters, count(*) FILTER (WHERE ready) AS ready
         FROM project_characters GROUP BY project ORDER BY project"""
).pl()
ready

# %% [markdown]
# ## One day on the workers
# Every segment attempt of the last 24 hours before the newest one, on the worker that ran
# it, from start to finish, coloured by its QA verdict (figure `segment_gantt`: the render
# timeline dashboard's query).

# %%
day = pl.from_arrow(figure(con, "segment_gantt", hours=24.0)).with_columns(
    pl.col("started_at", "finished_at").dt.replace_time_zone(None),  # bokeh draws naive UTC
    pl.col("worker").alias("worker_to"),
)
gantt_chart = hv.Segments(
    day.to_pandas(),
    kdims=["started_at", "worker", "finished_at", "worker_to"],
    vdims=["qa", "character", "scene_type", "take", "index", "attempt", "compute_s"],
).opts(
    color="qa",
    cmap={"passed": "#2e7d32", "failed": "#c62828", "no verdict": "#9e9e9e"},
    line_width=14,
    tools=["hover"],
    height=260,
    width=800,
    title="Segment attempts per worker (UTC)",
)
gantt_chart

# %% [markdown]
# ## The studio in all
# The report's studio row: the same figures the dashboards' pulse shows.

# %%
studio = production.filter(pl.col("level") == "studio").row(0, named=True)
print(
    "takes {takes} (made {takes_made}), approved {approved}, delivered {delivered}, awaiting "
    "review {awaiting_review}, minutes generated {generated_min:.3f}, approved "
    "{approved_min:.3f}".format(**studio)
)
