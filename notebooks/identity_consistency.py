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
# # Identity consistency per character
#
# How close each generated segment's face stays to the character (cosine similarity of
# face embeddings against the character's own identity, measured by video QA), across the
# segments of a take: the recursive loop chains each segment from the previous one's last
# frame, so drift shows up as a falling line.

# %%
import polars as pl

from trulience.config import Settings
from trulience.lake.files import lake_of
from trulience.lake.reports import open_lake

lake = lake_of(Settings.from_env())
con = open_lake(lake)

# %% [markdown]
# ## Per character

# %%
per_character = con.sql(
    """SELECT g.character,
              count(*) AS measured_segments,
              round(avg(g.value), 4) AS mean_similarity,
              round(min(g.value), 4) AS worst_similarity,
              round(max(g.threshold), 4) AS threshold,
              count(*) FILTER (WHERE NOT g.passed) AS below_threshold
         FROM qa_gates g
        WHERE g.gate = 'identity' AND g.value IS NOT NULL
        GROUP BY g.character ORDER BY g.character"""
).pl()
per_character

# %% [markdown]
# ## Drift along the chain
# Similarity by segment index, for the takes' current segments. A steady fall from index 0
# means each segment inherits a little less of the face: consider a colour/identity anchor
# or a shorter chain depth for that scene type.

# %%
drift = con.sql(
    """SELECT character, scene_type, index, round(avg(identity), 4) AS similarity
         FROM segments
        WHERE current AND identity IS NOT NULL
        GROUP BY ALL ORDER BY character, scene_type, index"""
).pl()
drift

# %%
slopes = (
    drift.group_by("character", "scene_type")
    .agg(
        pl.col("similarity").first().alias("first"),
        pl.col("similarity").last().alias("last"),
        pl.len().alias("segments"),
    )
    .with_columns((pl.col("last") - pl.col("first")).round(4).alias("change"))
    .sort("character", "scene_type")
)
slopes

# %%
worst = per_character.sort("worst_similarity").head(1)
if worst.height:
    row = worst.row(0, named=True)
    print(f"least consistent: {row['character']} (worst {row['worst_similarity']})")
