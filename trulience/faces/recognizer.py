"""Identity embeddings: insightface's ArcFaceONNX on faces aligned by its own `norm_crop`."""

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from insightface.model_zoo import get_model
from insightface.model_zoo.arcface_onnx import ArcFaceONNX
from insightface.utils import face_align

from trulience.faces.detector import DetectedFace, check_rgb_image
from trulience.faces.models import FaceModelError

# "embedded": the graph normalises raw 0-255 pixels itself (SFace does (x - 127.5) / 128).
# (mean, std): we normalise. None: insightface's own guess from the graph's first nodes.
Preprocessing = Literal["embedded"] | tuple[float, float] | None

# Larger batches gain little on CPU (FACTS: ~30 ms a face alone, ~18 ms in batches of 8).
_BATCH = 16


class FaceRecognizer:
    """An ArcFace-style recogniser (SFace, or a pack's w600k_r50.onnx) giving L2-normalised
    float32 embeddings of faces aligned to insightface's 5-point template."""

    def __init__(
        self,
        model_path: Path,
        *,
        preprocessing: Preprocessing = None,
        providers: list[str] | None = None,
        opencv_dnn: bool = False,
    ) -> None:
        """Load the model; `opencv_dnn` runs it with OpenCV's dnn instead of onnxruntime
        (the same embeddings to ~1e-6, faster on CPU for SFace)."""
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FaceModelError(f"face recognition model {self.model_path} does not exist")
        options: dict = {"providers": providers}
        if preprocessing is not None:
            # Without an explicit task, insightface ignores model_metadata and guesses.
            options["model_task"] = "recognition"
            options["model_metadata"] = {
                "preprocessing": preprocessing
                if preprocessing == "embedded"
                else {"mean": float(preprocessing[0]), "std": float(preprocessing[1])}
            }
        try:
            model = get_model(str(self.model_path), **options)
        except Exception as error:  # onnxruntime and protobuf raise their own types
            raise FaceModelError(
                f"cannot load face recognition model {self.model_path}: {error}"
            ) from error
        if not isinstance(model, ArcFaceONNX):
            kind = type(model).__name__ if model is not None else "no known model"
            raise FaceModelError(
                f"face recognition model {self.model_path} is not an ArcFace-style recogniser "
                f"(insightface reads it as {kind}; it needs a square N×3×112k input and one "
                "embedding output)"
            )
        self._arcface = model
        self._net: cv2.dnn.Net | None = None
        if opencv_dnn:
            try:
                self._net = cv2.dnn.readNetFromONNX(str(self.model_path))
            except cv2.error as error:
                raise FaceModelError(
                    f"OpenCV cannot load face recognition model {self.model_path}: {error}"
                ) from error
        # An OpenCV net holds its input between setInput and forward.
        self._lock = threading.Lock()
        self.input_size: int = int(model.input_size[0])
        batch_axis = model.input_shape[0]
        self._batch = 1 if isinstance(batch_axis, int) and batch_axis == 1 else _BATCH
        # One blank face: checks the model runs and reads the embedding size, which may be
        # symbolic in the graph.
        blank = np.zeros((self.input_size, self.input_size, 3), np.uint8)
        self.dim: int = int(self._features([blank]).shape[1])

    def embed(self, image_rgb: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """Embeddings (len(faces), dim) of the given faces of an RGB image, L2-normalised."""
        image_rgb = check_rgb_image(image_rgb)
        return self.embed_aligned([self.align_rgb(image_rgb, face.landmarks) for face in faces])

    def embed_aligned(self, crops_bgr: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings (len(crops), dim) of faces already aligned by `align` or `align_rgb`,
        in batches: many faces embedded at once cost far less each than one by one."""
        if not crops_bgr:
            return np.empty((0, self.dim), np.float32)
        return self._features(list(crops_bgr))

    def align(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The face cropped and warped onto insightface's 112×112 5-point template."""
        with warnings.catch_warnings():
            # insightface calls skimage's deprecated SimilarityTransform.estimate; harmless.
            warnings.simplefilter("ignore", FutureWarning)
            return face_align.norm_crop(image, landmark=landmarks, image_size=self.input_size)

    def align_rgb(self, image_rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """`align` of an RGB image, giving the BGR crop insightface expects: the warp treats
        each channel alike, so only the small crop changes channel order, not the frame."""
        # insightface works in BGR: ArcFaceONNX swaps the crops back to RGB in its blob,
        # which is what SFace wants (OpenCV's FaceRecognizerSF swaps BGR to RGB too).
        return np.ascontiguousarray(self.align(image_rgb, landmarks)[:, :, ::-1])

    def _features(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        chunks = [
            self._run(crops_bgr[start : start + self._batch])
            for start in range(0, len(crops_bgr), self._batch)
        ]
        features = np.concatenate(chunks).reshape(len(crops_bgr), -1).astype(np.float32)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return features / np.maximum(norms, 1e-12)

    def _run(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        if self._net is None:
            return np.asarray(self._arcface.get_feat(crops_bgr))
        model = self._arcface
        # The blob insightface's get_feat builds (channels swapped to RGB, its mean and std).
        blob = cv2.dnn.blobFromImages(
            crops_bgr,
            1.0 / model.input_std,
            model.input_size,
            (model.input_mean,) * 3,
            swapRB=True,
        )
        with self._lock:
            self._net.setInput(blob)
            return np.asarray(self._net.forward())
