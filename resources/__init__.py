"""Resources: the only doors to the outside world, chosen from settings in one place."""

import os

from dagster import EnvVar

from resources.catalog import CatalogResource
from resources.faces import FacesResource
from resources.generation import GenerationResource
from resources.inbox import InboxResource
from resources.lake import LakeResource
from resources.storage import StorageResource
from trulience.config import Settings


def from_environment(name: str, value: str | None) -> str | EnvVar | None:
    """A setting taken from the environment variable `name`, handed to Dagster as that
    variable: Dagster resolves it when a run starts and shows only its name in the UI, so a
    password in DATABASE_URL or STORAGE_URL never appears there."""
    if value is not None and os.environ.get(name) == value:
        return EnvVar(name)
    return value


def build_resources(settings: Settings) -> dict:
    """Embedded defaults or production services, as the settings say."""
    database_url = from_environment("DATABASE_URL", settings.database_url)
    return {
        "catalog": CatalogResource(home=str(settings.home), database_url=database_url),
        "storage": StorageResource(
            url=from_environment("STORAGE_URL", settings.storage_url),
            options=settings.storage_options,
        ),
        "inbox": InboxResource(path=str(settings.inbox_dir)),
        "lake": LakeResource(
            url=from_environment("LAKE_URL", settings.effective_lake_url),
            options=settings.lake_options,
        ),
        "generation": GenerationResource(
            home=str(settings.home),
            database_url=database_url,
            comfyui_workers=list(settings.comfyui_workers),
        ),
        "faces": FacesResource(
            models_dir=str(settings.models_dir),
            pack_dir=str(settings.face_pack_dir) if settings.face_pack_dir else None,
        ),
    }


__all__ = [
    "CatalogResource",
    "FacesResource",
    "GenerationResource",
    "InboxResource",
    "LakeResource",
    "StorageResource",
    "build_resources",
]
