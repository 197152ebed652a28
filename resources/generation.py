"""Generation backends as a Dagster resource: the local preview backend by default, the
ComfyUI worker pool when COMFYUI_WORKERS names workers (decided by
trulience.workers.configured, as for `trulience generate`). The resource only vends the
backend; the worker health sensor registers the configured workers in the catalog."""

from dagster import ConfigurableResource, get_dagster_logger

from resources.catalog import CatalogResource
from trulience.generation.backend import GenerationBackend
from trulience.workers.configured import DEFAULT_POOL, backend_for


class GenerationResource(ConfigurableResource):
    """Which backend makes segments: the preview backend, or the pool `pool` of ComfyUI
    workers (those in `comfyui_workers` are registered in it by the worker health sensor)."""

    home: str
    database_url: str | None = None
    comfyui_workers: list[str] = []  # noqa: RUF012 - pydantic copies field defaults
    pool: str = DEFAULT_POOL

    def backend(self, holder: str = "loop") -> GenerationBackend:
        """The configured backend; a segment waiting for a worker says why in the run's log."""
        # the same catalog the catalog resource opens (a nested resource would make every
        # sensor context a context manager); the preview backend needs none
        url = (
            CatalogResource(home=self.home, database_url=self.database_url).url()
            if self.comfyui_workers
            else None
        )
        return backend_for(
            url,
            self.comfyui_workers,
            self.pool,
            holder=holder,
            report=get_dagster_logger("trulience.pool").info,
        )
