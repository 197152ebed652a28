"""Resources: the only doors to the outside world, chosen from settings in one place."""

from resources.catalog import CatalogResource
from resources.storage import StorageResource
from trulience.config import Settings


def build_resources(settings: Settings) -> dict:
    """Embedded defaults or production services, as the settings say."""
    return {
        "catalog": CatalogResource(home=str(settings.home), database_url=settings.database_url),
        "storage": StorageResource(url=settings.storage_url, options=settings.storage_options),
    }


__all__ = ["CatalogResource", "StorageResource", "build_resources"]
