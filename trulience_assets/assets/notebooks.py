"""The analyst notebooks as assets: each runs after the lake export it reads, its HTML kept
in storage and linked from the materialisation (see trulience.lake.notebooks)."""

from datetime import date
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AutomationCondition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from resources import LakeResource, StorageResource
from trulience.errors import TrulienceError
from trulience.lake.notebooks import NOTEBOOKS, notebook_names, run_notebook

GROUP = "notebooks"


class NotebookConfig(Config):
    """The notebook's parameters: one project (default every one) and a span of days."""

    project: str | None = Field(default=None, description="Only this project's slug.")
    since: str | None = Field(default=None, description="Facts from this day (YYYY-MM-DD, UTC).")
    until: str | None = Field(default=None, description="Facts up to this day (YYYY-MM-DD, UTC).")

    def day(self, name: str) -> date | None:
        text = getattr(self, name)
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            raise TrulienceError(f"{name} must be a day as YYYY-MM-DD (got {text!r})") from None


def notebook_asset(name: str, folder: Path = NOTEBOOKS) -> AssetsDefinition:
    """The asset that runs notebook `name` of `folder` after each lake export."""

    @asset(
        name=name,
        key_prefix=[GROUP],
        group_name=GROUP,
        kinds={"jupyter", "html"},
        deps=["lake_catalog", "lake_runs"],
        # after every export; the daemon's automation sensor (trulience_assets.schedules) runs it
        automation_condition=AutomationCondition.eager(),
        description=f"notebooks/{name}.py executed on the lake, stored as HTML.",
    )
    def run(
        context: AssetExecutionContext,
        config: NotebookConfig,
        lake: LakeResource,
        storage: StorageResource,
    ) -> MaterializeResult:
        try:
            done = run_notebook(
                name,
                lake.location(),
                storage.get(),
                config.project,
                config.day("since"),
                config.day("until"),
                folder,
            )
        except TrulienceError as exc:
            # the cell's message (or the bad parameter) is the asset's failure, not a
            # traceback through papermill
            raise Failure(description=str(exc)) from None
        context.log.info(f"notebook {name}: {done.cells_run} cells in {done.duration_s} s")
        return MaterializeResult(
            metadata={
                "html": MetadataValue.url(done.uri),
                "path": MetadataValue.path(done.key),
                "latest": MetadataValue.path(done.latest_key),
                "cells run": done.cells_run,
                "duration s": done.duration_s,
            }
        )

    return run


def notebook_assets(folder: Path = NOTEBOOKS) -> list[AssetsDefinition]:
    """One asset per notebook of the folder."""
    return [notebook_asset(name, folder) for name in notebook_names(folder)]
