"""Face detection and identity embeddings as a Dagster resource (usable outside Dagster too)."""

import functools
from pathlib import Path

from dagster import ConfigurableResource

from trulience.faces import FaceModelSet, default_model_set, pack_model_set


class FacesResource(ConfigurableResource):
    """The default YuNet + SFace set (fp32 conversions cached in `models_dir`, normally
    `$TRULIENCE_HOME/models`), or the ArcFace-compatible pack in `pack_dir` when set."""

    models_dir: str
    pack_dir: str | None = None

    def model_set(self) -> FaceModelSet:
        """The loaded face model set, shared by every caller in this process."""
        return _load(self.models_dir, self.pack_dir)


@functools.cache
def _load(models_dir: str, pack_dir: str | None) -> FaceModelSet:
    # Loading costs ~1 s (ONNX sessions, first-time conversion): once per process, not per step.
    if pack_dir:
        return pack_model_set(Path(pack_dir), models_dir=Path(models_dir))
    return default_model_set(Path(models_dir))
