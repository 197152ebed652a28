"""The reporting lake (Parquet, read with DuckDB), as a Dagster resource."""

from dagster import ConfigurableResource
from pydantic import Field

from resources.environment import resolved
from trulience.lake.files import Lake


class LakeResource(ConfigurableResource):
    """A local folder or object storage URL (`LAKE_URL`); see trulience.lake."""

    url: str
    options: dict = Field(default_factory=dict)

    def location(self) -> Lake:
        return Lake(resolved(self.url), self.options)
