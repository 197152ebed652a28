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
import polars as pl

from trulience.config import Settings
from trulience.lake.files import lake_of
from trulience.lake.reports import as_of, open_lake, run_report

lake = lake_of(Settings.from_env())
con = open_lake(lake)
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
# ## The studio in all
# The report's studio row: the same figures the dashboards' pulse shows.

# %%
studio = production.filter(pl.col("level") == "studio").row(0, named=True)
print(
    "takes {takes} (made {takes_made}), approved {approved}, delivered {delivered}, awaiting "
    "review {awaiting_review}, minutes generated {generated_min:.3f}, approved "
    "{approved_min:.3f}".format(**studio)
)
