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
# # Where the lake is
# A notebook that only says its parameters and the lake its kernel was pointed at.

# %%
from trulience.config import Settings
from trulience.lake.files import lake_of

# %% tags=["parameters"]
project = None
since = None
until = None

# %%
print(f"lake: {lake_of(Settings.from_env()).url}; project {project}, {since}..{until}")
