"""Media storage as a Dagster resource (usable outside Dagster too)."""

from dagster import ConfigurableResource

from resources.environment import resolved
from trulience.storage import Storage


class StorageResource(ConfigurableResource):
    """fsspec storage root: file://, s3:// (s3fs) or memory://."""

    url: str
    options: dict = {}  # noqa: RUF012 - pydantic copies field defaults per instance

    def get(self) -> Storage:
        return Storage(resolved(self.url), self.options)
