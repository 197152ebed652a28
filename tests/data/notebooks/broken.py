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
# # A broken notebook
# Its fifth cell raises: the asset that runs it must fail with that cell's message.

# %%
import os

# %% tags=["parameters"]
project = None
since = None
until = None

# %%
print(f"lake: {os.environ['LAKE_URL']}, project {project}")

# %%
raise ValueError("the lake is upside down")

# %%
print("never reached")
