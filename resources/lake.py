"""The reporting lake's folder (Parquet, read with DuckDB), as a Dagster resource."""

from pathlib import Path

from dagster import ConfigurableResource


class LakeResource(ConfigurableResource):
    """`<path>/<dataset>/...parquet`; see trulience.lake."""

    path: str

    def directory(self) -> Path:
        path = Path(self.path)
        path.mkdir(parents=True, exist_ok=True)
        return path
