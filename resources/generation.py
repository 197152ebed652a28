"""Generation backends as a Dagster resource: the local preview backend by default,
ComfyUI workers when COMFYUI_WORKERS names them."""

from dagster import ConfigurableResource

from trulience.errors import ConfigError
from trulience.generation.backend import GenerationBackend
from trulience.generation.preview import LocalPreviewBackend


class GenerationResource(ConfigurableResource):
    """Which backend makes segments: `preview` (CPU animatic) or the ComfyUI worker pool."""

    comfyui_workers: list[str] = []  # noqa: RUF012 - pydantic copies field defaults

    def backend(self) -> GenerationBackend:
        if self.comfyui_workers:
            raise ConfigError(
                "COMFYUI_WORKERS is set, but the ComfyUI backend is not available in this "
                "version yet; unset COMFYUI_WORKERS to use the local preview backend"
            )
        return LocalPreviewBackend()
