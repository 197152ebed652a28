"""Resources: the only doors to the outside world, chosen from settings in one place."""

from resources.catalog import CatalogResource
from resources.environment import from_environment
from resources.faces import FacesResource
from resources.generation import GenerationResource
from resources.hooks import HooksResource
from resources.inbox import InboxResource
from resources.lake import LakeResource
from resources.media import MediaResource
from resources.storage import StorageResource
from trulience.config import Settings


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
        # the review server's media route: what the Dagster UI links a take's media to
        "media": MediaResource(
            base_url=settings.public_url,
            home=str(settings.home),
            secret=from_environment("TRULIENCE_SECRET", settings.secret),
        ),
        "faces": FacesResource(
            models_dir=str(settings.models_dir),
            pack_dir=str(settings.face_pack_dir) if settings.face_pack_dir else None,
        ),
        "hooks": HooksResource(),
    }


__all__ = [
    "CatalogResource",
    "FacesResource",
    "GenerationResource",
    "HooksResource",
    "InboxResource",
    "LakeResource",
    "MediaResource",
    "StorageResource",
    "build_resources",
]
