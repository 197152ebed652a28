"""Generation backends as a Dagster resource: the local preview backend by default, the
ComfyUI worker pool when COMFYUI_WORKERS names workers."""

from dagster import ConfigurableResource

from resources.catalog import CatalogResource
from trulience.catalog.database import connect
from trulience.generation.backend import GenerationBackend
from trulience.generation.preview import LocalPreviewBackend
from trulience.workers import pool
from trulience.workers.pooled_backend import PooledBackend


class GenerationResource(ConfigurableResource):
    """Which backend makes segments: the preview backend, or the pool `pool` of ComfyUI
    workers (those in `comfyui_workers` are registered in it on first use)."""

    home: str
    database_url: str | None = None
    comfyui_workers: list[str] = []  # noqa: RUF012 - pydantic copies field defaults
    pool: str = "default"

    def backend(self, holder: str = "loop") -> GenerationBackend:
        if not self.comfyui_workers:
            return LocalPreviewBackend()
        # the same catalog the catalog resource opens (a nested resource would make every
        # sensor context a context manager)
        url = CatalogResource(home=self.home, database_url=self.database_url).url()
        with connect(url, actor="generation:setup") as conn:
            known = {w.url for w in pool.list_workers(conn)}
            for worker_url in self.comfyui_workers:
                if worker_url.rstrip("/") not in known:
                    pool.add_worker(conn, worker_url, self.pool)
        return PooledBackend(url, self.pool, holder=holder)
