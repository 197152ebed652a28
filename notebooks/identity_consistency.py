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
# frame, so drift shows up as a falling line. Then, take by take across all the scenes of
# one character, the takes that are off the character (PRD-94).

# %%
import hvplot.polars  # noqa: F401  (the .hvplot accessor on polars frames)
import polars as pl

from trulience.lake.figures import figure
from trulience.lake.reports import lake_connection

# %% tags=["parameters"]
project = None  # a project slug, or None for every project
since = None  # "YYYY-MM-DD" (UTC, inclusive), or None
until = None
character = None  # a character slug for the outliers per take, or None for the one most off

# %%
con = lake_connection(project=project, since=since, until=until)

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
# ### Distribution per character
# Every measured identity gate (figure `identity_scores`): the box holds the middle half of
# a character's segment attempts, the dots beyond the whiskers are the outliers to look at,
# and the title says the lowest threshold a gate held them to.

# %%
scores = pl.from_arrow(figure(con, "identity_scores"))
lowest = scores["threshold"].min()
title = "Identity per character"
if lowest is not None:
    title += f" (gates held them to {lowest} or more)"
identity_chart = scores.hvplot.box(
    y="similarity", by="character", ylabel="identity similarity", legend=False, height=320
).opts(title=title)
identity_chart

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

# %% [markdown]
# ## Outliers per take
# Every take with identity scores (dataset `consistency`, the catalog's rule
# `take_consistency`): its median identity over its committed segments and its lowest
# sampled frame. A take is an outlier when its median is under the character's calibrated
# band threshold, or when its robust z-score against all the character's takes, 0.6745 x
# (median - the character's median) / MAD, is -3.5 or lower (MAD floored at 0.01; z only
# from 3 takes on). `since` and `until` do not narrow it: a take is judged against the
# character's whole history.

# %%
takes = pl.from_arrow(figure(con, "take_consistency"))
if character is None and takes.height:
    most_off = takes.group_by("character").agg(pl.col("outlier").sum().alias("outliers"))
    character = most_off.sort(["outliers", "character"], descending=[True, False])[0, "character"]
chosen = takes.filter(pl.col("character") == character).with_columns(
    (pl.col("scene_type") + " · " + pl.col("take").cast(pl.String)).alias("label"),
    pl.when(pl.col("outlier"))
    .then(pl.lit("outlier"))
    .otherwise(pl.lit("consistent"))
    .alias("flag"),
)
chosen

# %% [markdown]
# Per scene type of each character: a scene type whose takes sit low, or hold most of the
# outliers, is the one whose workflow or prompt loses the face.

# %%
per_scene_type = (
    takes.group_by("character", "scene_type")
    .agg(
        pl.len().alias("takes"),
        pl.col("median_identity").median().round(4),
        pl.col("min_identity").min().round(4),
        pl.col("outlier").sum().alias("outliers"),
    )
    .sort("character", "scene_type")
)
per_scene_type

# %%
if chosen.height:
    band = round(chosen["threshold"].max() or 0, 3)
    outlier_chart = chosen.hvplot.scatter(
        x="label",
        y="median_identity",
        c="flag",
        cmap={"consistent": "#2b8a3e", "outlier": "#c92a2a"},
        size=80,
        xlabel="take",
        ylabel="median identity similarity",
        hover_cols=["min_identity", "z_score", "reason"],
        rot=45,
        height=320,
    ).opts(title=f"Identity per take · {character} (band threshold {band})")
    for row in chosen.filter(pl.col("outlier")).iter_rows(named=True):
        print(f"outlier: {row['character']} {row['label']} ({row['project']}): {row['reason']}")
    print(f"{character}: {chosen.height} take(s), {chosen['outlier'].sum()} outlier(s)")
else:
    print(f"{character or 'no character'}: no takes with identity scores yet")
