"""Jobs over the assets."""

from dagster import AssetSelection, define_asset_job

characters_job = define_asset_job(
    "characters",
    selection=AssetSelection.groups("characters"),
    description="Per-character assets, one run per character partition.",
)

scenes_job = define_asset_job(
    "scenes",
    selection=AssetSelection.groups("scenes"),
    description="Per character x scene type: generate the take through the recursive loop.",
)

delivery_job = define_asset_job(
    "delivery",
    selection=AssetSelection.groups("delivery"),
    description="Per character x scene type: package the approved take for delivery.",
)

lake_job = define_asset_job(
    "lake",
    selection=AssetSelection.groups("lake"),
    description="Export the catalog and run facts to the Parquet lake (incremental).",
)

notebooks_job = define_asset_job(
    "notebooks",
    selection=AssetSelection.groups("notebooks"),
    description="Run the analyst notebooks on the lake and store each as HTML.",
)
