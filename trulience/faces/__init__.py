"""Faces: detection and identity embeddings over insightface's own code, the identity band
(`trulience.faces.identity`) and face-centred crops (`trulience.faces.crops`).

`default_model_set(models_dir)` gives OpenCV Zoo's YuNet + SFace (Apache-2.0, converted to
fp32 once); `pack_model_set(pack_dir)` loads an ArcFace-compatible production pack.

The model code is loaded on first use of one of its names (importing insightface costs
~0.8 s), so the band and crop maths can be imported without it.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trulience.faces.detector import (
        DetectedFace,
        FaceDetector,
        InvalidFaceImage,
        ScrfdDetector,
        YuNetDetector,
    )
    from trulience.faces.model_set import Face, FaceModelSet, default_model_set, pack_model_set
    from trulience.faces.models import FaceModelError, converted_model
    from trulience.faces.recognizer import FaceRecognizer

_HOMES = {
    "DetectedFace": "detector",
    "FaceDetector": "detector",
    "InvalidFaceImage": "detector",
    "ScrfdDetector": "detector",
    "YuNetDetector": "detector",
    "Face": "model_set",
    "FaceModelSet": "model_set",
    "default_model_set": "model_set",
    "pack_model_set": "model_set",
    "FaceModelError": "models",
    "converted_model": "models",
    "FaceRecognizer": "recognizer",
}

__all__ = [
    "DetectedFace",
    "Face",
    "FaceDetector",
    "FaceModelError",
    "FaceModelSet",
    "FaceRecognizer",
    "InvalidFaceImage",
    "ScrfdDetector",
    "YuNetDetector",
    "converted_model",
    "default_model_set",
    "pack_model_set",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
