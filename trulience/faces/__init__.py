"""Faces: detection and identity embeddings over insightface's own code.

`default_model_set(models_dir)` gives OpenCV Zoo's YuNet + SFace (Apache-2.0, converted to
fp32 once); `pack_model_set(pack_dir)` loads an ArcFace-compatible production pack.
"""

from trulience.faces.detector import (
    DetectedFace,
    FaceDetector,
    InvalidFaceImage,
    ScrfdDetector,
    YuNetDetector,
)
from trulience.faces.model_set import (
    Face,
    FaceModelSet,
    default_model_set,
    pack_model_set,
)
from trulience.faces.models import FaceModelError, converted_model
from trulience.faces.recognizer import FaceRecognizer

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
